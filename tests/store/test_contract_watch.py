"""The store's part of issue 23 on every backend that runs here (``sqlite``, ``postgres``, ``postgres-legacy``; the
Postgres runs call the migration's SQL functions, the very SQL Supabase runs behind ``.rpc()``):

* the newest state wins: ``save_status`` is a compare-and-set on ``observed_at`` (an older observation changes
  nothing, not even the history), also between two store objects (two replicas) racing;
* a late report is kept in the history, marked late, without touching the board;
* old records go in small batches (``prune``): what is inside its window stays;
* a pushed event whose handling failed is forgotten again (``webhook_unseen``).
"""
from __future__ import annotations

import datetime as dt
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from wpp.errors import StoreError
from wpp.models import ActivityEntry, DeliveryRecord, StatusChange, StatusRecord

NOW = 1_764_000_000.25
DAY = 86400.0


def _number(store) -> str:
    return store.create(str(uuid.uuid4()), "Front desk", {"wppApiKey": "k", "wppAccountNumber": "0000000000004"}).id


def _rec(iid: str, state: str, observed: float | None, **kw) -> StatusRecord:
    return StatusRecord(integration_id=iid, state=state, since=observed, checked_at=observed, ok_at=observed,
                        next_check_at=(observed or NOW) + 60, observed_at=observed, **kw)


# --- the newest state wins ---------------------------------------------------------------------------------------
def test_an_older_observation_never_overwrites_a_newer_one(store):
    iid = _number(store)
    assert store.save_status(_rec(iid, "connected", NOW), StatusChange(iid, "connected", NOW)) is True
    store.watch_status(iid, until=NOW + 30)
    store.note_status_event(iid, at=NOW + 5)
    # the phone dropped and the platform pushed it (observed at NOW + 10) ...
    assert store.save_status(_rec(iid, "offline", NOW + 10),
                             StatusChange(iid, "offline", NOW + 10, previous="connected")) is True
    # ... then a poll that started at NOW + 2 lands late with "connected": dropped, history untouched
    assert store.save_status(_rec(iid, "connected", NOW + 2),
                             StatusChange(iid, "connected", NOW + 2, previous="offline")) is False
    got = store.load_statuses()[iid]
    assert (got.state, got.observed_at, got.since) == ("offline", NOW + 10, NOW + 10)
    assert (got.watched_until, got.last_event_at) == (NOW + 30, NOW + 5)  # never touched by a save
    assert [(c.state, c.previous) for c in store.status_history(iid)] == [("offline", "connected"),
                                                                          ("connected", None)]
    # the same moment again is not older: taken (e.g. the failure count of the same check)
    assert store.save_status(_rec(iid, "offline", NOW + 10, failures=1)) is True
    assert store.load_statuses()[iid].failures == 1
    # a newer observation is taken
    assert store.save_status(_rec(iid, "connected", NOW + 20)) is True
    assert store.load_statuses()[iid].state == "connected"


def test_an_entry_without_an_observation_time_counts_as_not_newer(store):
    """Entries written before the compare-and-set existed have no observed_at: the first timed save replaces them."""
    iid = _number(store)
    assert store.save_status(StatusRecord(integration_id=iid, state="connected")) is True
    assert store.save_status(_rec(iid, "offline", NOW)) is True
    assert store.load_statuses()[iid].state == "offline"


def test_two_replicas_racing_keep_the_newest_observation(backend):
    """Twenty writers on two store objects (two replicas), each with another observation time, released at once:
    whatever the order they land in, the board keeps the newest and only saved writes left a history line."""
    other = backend.reopen()
    try:
        iid = _number(backend.store)
        backend.store.save_status(_rec(iid, "starting", NOW))
        start = threading.Barrier(20)

        def write(i: int) -> bool:
            store = backend.store if i % 2 else other
            start.wait(timeout=30)
            state = "connected" if i % 3 else "offline"
            return store.save_status(_rec(iid, state, NOW + i), StatusChange(iid, state, NOW + i))

        with ThreadPoolExecutor(20) as pool:
            saved = list(pool.map(write, range(20)))
        got = backend.store.load_statuses()[iid]
        assert got.observed_at == NOW + 19 and got.state == "connected"
        assert saved[19] is True
        assert len(backend.store.status_history(iid, limit=100)) == sum(saved)
    finally:
        other.close()


def test_a_late_report_is_kept_in_the_history_and_never_applied(store):
    iid = _number(store)
    store.save_status(_rec(iid, "qr_required", NOW + 780))
    store.add_status_history(StatusChange(iid, "connected", NOW, previous="qr_required", raw="CONNECTED", late=True))
    assert store.load_statuses()[iid].state == "qr_required"
    [line] = store.status_history(iid)
    assert (line.state, line.previous, line.at, line.late) == ("connected", "qr_required", NOW, True)
    store.save_status(_rec(iid, "connected", NOW + 800), StatusChange(iid, "connected", NOW + 800,
                                                                     previous="qr_required"))
    assert [c.late for c in store.status_history(iid)] == [False, True]


# --- kept in bounds -----------------------------------------------------------------------------------------------
def test_old_history_goes_in_small_batches_and_what_is_inside_the_window_stays(store):
    iid = _number(store)
    for n in range(7):  # 7 lines, one per day back from NOW
        store.add_status_history(StatusChange(iid, "connected", NOW - n * DAY))
    cutoff = NOW - 3.5 * DAY  # 3 lines are older (4, 5, 6 days)
    assert store.prune("status_history", before=cutoff, limit=2) == 2
    assert store.prune("status_history", before=cutoff, limit=2) == 1
    assert store.prune("status_history", before=cutoff, limit=2) == 0
    assert sorted(round((NOW - c.at) / DAY) for c in store.status_history(iid, limit=50)) == [0, 1, 2, 3]


def test_old_diary_lines_go_and_recent_ones_stay(store):
    for days in (400, 370, 10, 0):
        at = dt.datetime.fromtimestamp(NOW - days * DAY, dt.timezone.utc)
        store.log_activity(ActivityEntry(action="rename", outcome="ok", actor=f"{days} days ago", at=at))
    assert store.prune("activity", before=NOW - 365 * DAY, limit=500) == 2
    assert [e.actor for e in store.list_activity()] == ["0 days ago", "10 days ago"]


def test_old_test_messages_and_event_ids_go(store):
    iid = _number(store)
    for days, mid in ((100, "old"), (10, "new")):
        store.save_test_message(DeliveryRecord(iid, mid, NOW - days * DAY, to="+7 900 000-00-00"))
    assert store.prune("test_messages", before=NOW - 90 * DAY, limit=500) == 1
    assert [m.message_id for m in store.test_messages(iid)] == ["new"]

    assert store.webhook_seen(f"{iid}:e:old", integration_id=iid, at=NOW - 2 * DAY, keep_s=3 * DAY)
    assert store.webhook_seen(f"{iid}:e:new", integration_id=iid, at=NOW - 3600, keep_s=3 * DAY)
    assert store.prune("webhook_seen", before=NOW - 25 * 3600, limit=500) == 1
    # the recent one is still remembered (a replay is refused), the old one is news again
    assert not store.webhook_seen(f"{iid}:e:new", integration_id=iid, at=NOW, keep_s=3 * DAY)
    assert store.webhook_seen(f"{iid}:e:old", integration_id=iid, at=NOW, keep_s=3 * DAY)


@pytest.mark.parametrize("name, before, limit", [("nope", NOW, 10), ("status_history", "x", 10),
                                                 ("status_history", NOW, 0), ("activity; drop table x", NOW, 10)])
def test_prune_refuses_what_it_does_not_know(store, name, before, limit):
    with pytest.raises(StoreError):
        store.prune(name, before=before, limit=limit)


# --- a push whose handling failed ------------------------------------------------------------------------------
def test_a_forgotten_event_is_news_again(store):
    iid = _number(store)
    key = f"{iid}:e:evt_1"
    assert store.webhook_seen(key, integration_id=iid, at=NOW, keep_s=DAY)
    assert not store.webhook_seen(key, integration_id=iid, at=NOW + 1, keep_s=DAY)
    store.webhook_unseen(key)
    assert store.webhook_seen(key, integration_id=iid, at=NOW + 2, keep_s=DAY)
    store.webhook_unseen("never-seen")  # nothing to forget: no error
