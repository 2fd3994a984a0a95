"""The problems the alert desk followed, as the Alerts page leads with them (issue 26): open ones (school, number,
what, since, who is on it), then ended ones with how long they lasted, and the CSV file staff download for their
school's own records — columns in the reader's language, times in the reader's time zone, only what they may see."""
from __future__ import annotations

import csv
import datetime as dt
import io
import time
from zoneinfo import ZoneInfo

import pytest

from wpp.access.roles import Access, NotAllowed, Role
from wpp.i18n import use_language
from wpp.reports import incidents_csv
from wpp.service.alerts import IncidentLine, Incidents

from .helpers import ORG
from .test_service import _connected, _people, demo, quick_sim  # noqa: F401 - the demo service fixtures


def test_a_drop_is_an_open_problem_then_an_ended_one_with_its_duration(demo):  # noqa: F811
    svc, phone = demo
    number, now = _connected(svc, phone)
    operator, viewer, admin = _people(svc)
    assert admin.incidents().open == [] and admin.incidents().closed == []
    with pytest.raises(NotAllowed):  # the Alerts page is the administrators'
        operator.incidents()

    phone.go_offline(number.id)
    svc.engine.check_now([number.id])
    svc.engine.tick(now + 1)
    svc.alerts.run_once(now + 65)
    [line] = admin.incidents().open
    assert (line.school, line.number, line.kind, line.told) == ("Школа № 5", "Ресепшн", "Offline", True)
    assert line.since is not None and abs(line.since.timestamp() - now) < 2  # when it was last seen well
    assert line.acked_by is None and line.duration_s is None
    operator.acknowledge(number.id, actor="anna")
    [line] = admin.incidents().open
    assert line.acked_by == "anna" and line.acked_at is not None

    phone.simulator.set_status(svc.store.get(number.id).session, "connected")
    svc.engine.check_now([number.id])
    svc.engine.tick(now + 600)
    svc.alerts.run_once(now + 610)
    found = admin.incidents()
    assert found.open == []
    [ended] = found.closed
    assert ended.number == "Ресепшн" and ended.acked_by == "anna"
    assert 590 <= ended.duration_s <= 610  # from last seen well to connected again


def test_an_administrator_of_one_school_sees_only_its_problems(demo):  # noqa: F811
    svc, phone = demo
    from wpp.models import PLATFORM_INCIDENT, Incident

    other = "0b0b0b0b-0000-4000-8000-00000000000b"
    svc.add_organization("Школа № 5", ORG, actor="demo")
    svc.add_organization("Школа № 7", other, actor="demo")
    a = svc.create_number(ORG, name="Ресепшн", actor="demo").integration
    b = svc.create_number(other, name="Бухгалтерия", actor="demo").integration
    now = time.time()
    svc.store.save_incident(Incident(id=f"{a.id}@1", integration_id=a.id, organization_id=ORG, kind="logged_out",
                                     started_at=now - 600, notified_at=now - 60))
    svc.store.save_incident(Incident(id=f"{b.id}@1", integration_id=b.id, organization_id=other, kind="offline",
                                     started_at=now - 600, notified_at=now - 60))
    svc.store.save_incident(Incident(id="platform@x", integration_id=PLATFORM_INCIDENT, organization_id=None,
                                     kind="platform_unreachable", started_at=now - 300, notified_at=now - 200))
    school_admin = svc.for_session({}, access=Access(schools={ORG: Role.ADMINISTRATOR}), actor="olga")
    everyone = svc.for_session({}, access=Access.full("demo"), actor="admin")
    assert [(ln.number, ln.kind) for ln in school_admin.incidents().open] == [("Ресепшн", "Waiting for the QR scan")]
    shown = everyone.incidents().open
    assert sorted(ln.number for ln in shown) == ["The whole platform", "Бухгалтерия", "Ресепшн"]
    platform = shown[0]  # the whole platform's problem first: it explains the others
    assert platform.kind == "the platform cannot be reached" and platform.school == "Every school"
    # the file holds what the page holds, no more
    with use_language("en"):
        rows = list(csv.reader(io.StringIO(incidents_csv(school_admin.incidents(), ZoneInfo("UTC")).decode(
            "utf-8-sig"))))
    assert len(rows) == 2 and "Бухгалтерия" not in str(rows) and "platform" not in str(rows[1])


def _lines() -> Incidents:
    utc = dt.timezone.utc
    return Incidents(
        open=[IncidentLine(integration_id="n1", school="Школа № 5", number="=HYPERLINK(\"x\")", kind="offline",
                           since=dt.datetime(2026, 12, 7, 9, 5, tzinfo=utc), acked_by="anna",
                           acked_at=dt.datetime(2026, 12, 7, 9, 20, tzinfo=utc), told=True)],
        closed=[IncidentLine(integration_id="n2", school="Школа № 5", number="Ресепшн", kind="offline",
                             since=dt.datetime(2026, 12, 6, 21, 30, tzinfo=utc), acked_by=None, acked_at=None,
                             told=False, recovered_at=dt.datetime(2026, 12, 6, 22, 15, tzinfo=utc),
                             closed_at=dt.datetime(2026, 12, 6, 22, 16, tzinfo=utc))])


def test_the_csv_speaks_russian_in_local_time_and_a_spreadsheet_reads_it():
    with use_language("ru"):
        data = incidents_csv(_lines(), ZoneInfo("Europe/Moscow"))
    assert data.startswith("\ufeff".encode())  # a spreadsheet reads the Cyrillic as Cyrillic
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    head, now_open, ended = rows
    assert head[1:5] == ["Школа", "Номер", "Что произошло", "Началась (Europe/Moscow)"]
    assert now_open[0] == "Не решена" and ended[0] == "Завершена"
    assert now_open[head.index("Началась (Europe/Moscow)")] == "2026-12-07 12:05"  # Moscow, not UTC
    assert now_open[head.index("Кто занимается")] == "anna"
    assert now_open[head.index("Номер")] == "'=HYPERLINK(\"x\")"  # a name is never a formula
    assert ended[head.index("Снова работает с (Europe/Moscow)")] == "2026-12-07 01:15"
    assert ended[head.index("Длительность (минут)")] == "45.0"
    assert ended[head.index("Длительность")] == "45 минут"
    assert ended[head.index("Оповещение отправлено")] == "нет"


def test_the_csv_in_english_uses_commas_and_english_columns():
    with use_language("en"):
        data = incidents_csv(_lines(), ZoneInfo("UTC")).decode("utf-8-sig")
    head = next(csv.reader(io.StringIO(data)))
    assert head[:4] == ["State", "School", "Number", "What happened"] and "Since (UTC)" in head
