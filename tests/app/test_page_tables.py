"""The Numbers table is built once per change and shared by every viewer (issue 14: cheap viewers).

No Streamlit run needed: ``wppui.tables`` is fed a stand-in service that counts how often the list is read.
"""
from __future__ import annotations

import datetime as dt

import pytest

from wpp.models import ConnState, Integration
from wpp.service.views import BoardView, NumberView
from wppui import tables

T0 = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.timezone.utc)


def view(i: int, *, state=ConnState.CONNECTED, attention=None, org="org-a", school="Школа № 5") -> NumberView:
    row = Integration(id=f"id-{i}", organization_id=org, name=f"Номер {i}",
                      settings={"wppApiKey": "k", "wppAccountNumber": f"{i:013d}"})
    board = BoardView(state=state, label=state.label, since=T0, checked_at=T0, attention=attention)
    return NumberView(integration=row, name=row.name, org_id=org, org_name=school, label=f"{school} · {row.name}",
                      status=board, created_at=T0)


class Engine:
    def __init__(self):
        self.version = "v1"


class Service:
    """Just what the Numbers page's table reads: ``numbers()`` and the board's version."""

    def __init__(self, views):
        self.views = list(views)
        self.engine = Engine()
        self.reads = 0

    def numbers(self, *, removed=False):
        self.reads += 1
        return [] if removed else list(self.views)

    def board_version(self):
        return self.engine.version


@pytest.fixture(autouse=True)
def fresh_cache():
    tables.changed()
    tables._tables.clear()
    yield
    tables.changed()
    tables._tables.clear()


def test_an_unchanged_board_is_read_once_and_the_table_built_once_for_every_viewer():
    s = Service([view(1), view(2)])
    first = tables.numbers_table(s)
    for _ in range(50):  # 50 ticks of many viewers
        assert tables.numbers_table(s) is first
        assert tables.table_key(s) == first.key
    assert s.reads == 1


def test_a_board_change_shows_at_once():
    s = Service([view(1), view(2)])
    first = tables.numbers_table(s)
    s.views[0] = view(1, state=ConnState.OFFLINE, attention="It is offline: open it and show a new QR code.")
    s.engine.version = "v2"
    assert tables.table_key(s) != first.key
    second = tables.numbers_table(s)
    assert second is not first
    assert second.frame.iloc[0]["Status"].startswith("🔴 Offline since ")
    assert second.attention == 1


def test_a_change_made_in_this_process_shows_at_once():
    s = Service([view(1)])
    first = tables.numbers_table(s)
    s.views[0] = view(1, school="Гимназия № 1")
    tables.changed()  # what a page calls after rename / remove / restore / create
    assert tables.numbers_table(s) is not first
    assert tables.numbers_table(s).frame.iloc[0]["School"] == "Гимназия № 1"


def test_filters_and_real_times():
    s = Service([view(1, attention="Waiting for a scan for 4 min.", state=ConnState.QR_REQUIRED),
                 view(2, org="org-b", school="Гимназия № 1")])
    t = tables.numbers_table(s, attention_only=True)
    assert list(t.frame["Number"]) == ["Номер 1"] and t.ids == ("id-1",)
    assert t.frame.iloc[0]["What to do"] == "Waiting for a scan for 4 min."
    t = tables.numbers_table(s, school="org-b")
    assert list(t.frame["School"]) == ["Гимназия № 1"] and t.ids == ("id-2",)
    assert list(t.frame.columns) == ["School", "Number", "Phone", "Status", "What to do"]
