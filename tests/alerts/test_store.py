"""The alert desk's records in the store, on SQLite (tables made on first use) and on a real PostgreSQL (the new
migration): incidents, one alert per (incident, event, recipient) however often it is queued, due alerts, outcomes,
and the privileges of the new tables."""
from __future__ import annotations

import pytest

from wpp.errors import StoreError
from wpp.models import AlertRecord, Incident

from .helpers import ORG

IID = "11111111-2222-4333-8444-555555555555"


def _alert(recipient: str, *, event: str = "down", at: float = 100.0, **kw) -> AlertRecord:
    return AlertRecord(incident_id=f"{IID}@1000", event=event, recipient=recipient, channel="email",
                       shown_to=recipient.split(":", 1)[-1], lang="ru", subject="«Ресепшн»: не в сети",
                       body="Номер «Ресепшн» школы «Школа № 5» не в сети с 02:14.", created_at=at, next_try_at=at,
                       integration_id=IID, organization_id=ORG, **kw)


def test_incidents(any_store):
    s = any_store
    assert s.load_incidents() == []
    inc = Incident(id=f"{IID}@1000", integration_id=IID, organization_id=ORG, kind="offline", started_at=1.0)
    s.save_incident(inc)
    s.save_incident(inc)  # the same drop, saved again (another replica): one incident
    assert s.load_incidents() == [inc]
    s.save_incident(Incident(id=f"{IID}@5000", integration_id=IID, organization_id=ORG, kind="logged_out",
                             started_at=5.0, notified_at=6.0))
    done = Incident(id=inc.id, integration_id=IID, organization_id=ORG, kind="key_rejected", started_at=1.0,
                    notified_at=2.0, recovered_at=3.0, closed_at=4.0)
    s.save_incident(done)
    assert [i.id for i in s.load_incidents()] == [f"{IID}@5000"]
    assert s.load_incidents(open_only=False)[0] == done


def test_each_alert_is_queued_once_and_goes_through_its_life(any_store):
    s = any_store
    batch = [_alert("email:a@school.ru"), _alert("email:b@school.ru", payload={"event": "number.down", "n": "№"})]
    assert s.queue_alerts(batch) == 2
    assert s.queue_alerts(batch) == 0  # queued again (a second replica, a restart): nothing new
    assert s.queue_alerts([_alert("email:a@school.ru", event="recovered", at=200.0)]) == 1
    assert s.queue_alerts([]) == 0

    due = s.due_alerts(now=150.0)
    assert [(a.recipient, a.event) for a in due] == [("email:a@school.ru", "down"), ("email:b@school.ru", "down")]
    assert due[1].payload == {"event": "number.down", "n": "№"} and due[0].payload is None
    assert due[0].body.startswith("Номер «Ресепшн»") and due[0].status == "pending" and due[0].id is not None

    s.finish_alert(due[0].id, status="sent", attempts=1, next_try_at=150.0, sent_at=150.0)
    s.finish_alert(due[1].id, status="retry", attempts=1, next_try_at=210.0, error="the webhook answered HTTP 500")
    assert [a.recipient for a in s.due_alerts(now=205.0)] == ["email:a@school.ru"]  # the recovered one
    assert [a.recipient for a in s.due_alerts(now=210.0)] == ["email:a@school.ru", "email:b@school.ru"]  # earliest first
    assert s.due_alerts(now=210.0, limit=1)[0].event == "recovered"

    newest = s.list_alerts()
    assert [(a.event, a.status) for a in newest] == [("recovered", "pending"), ("down", "retry"), ("down", "sent")]
    assert newest[1].error == "the webhook answered HTTP 500" and newest[1].attempts == 1
    assert newest[2].sent_at == 150.0
    assert len(s.list_alerts(organization_id=ORG)) == 3 and s.list_alerts(organization_id=IID) == []
    assert len(s.list_alerts(integration_id=IID, limit=2)) == 2
    with pytest.raises(StoreError):
        s.finish_alert(due[0].id, status="lost", attempts=1, next_try_at=1.0)


def test_a_stored_error_is_scrubbed_of_known_secrets(any_store):
    from wpp import keys

    row = any_store.create(ORG, name="Ресепшн", settings={keys.API_KEY: "wppkey_abcdef0123456789abcdef"})
    any_store.get(row.id)  # the store learns the number's key
    any_store.queue_alerts([_alert("email:a@school.ru")])
    [a] = any_store.due_alerts(now=1000.0)
    any_store.finish_alert(a.id, status="retry", attempts=1, next_try_at=1.0,
                           error="echoed wppkey_abcdef0123456789abcdef Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x")
    stored = any_store.list_alerts()[0].error
    assert "wppkey_abcdef0123456789abcdef" not in stored and "eyJzdWIiOiIxIn0" not in stored


@pytest.mark.postgres
def test_the_new_tables_have_rls_and_only_service_role_may_use_them(pg_alerts_dsn):
    import psycopg

    with psycopg.connect(pg_alerts_dsn, autocommit=True) as c:
        for table in ("wpp_console_incidents", "wpp_console_alerts"):
            rls = c.execute("select relrowsecurity from pg_class where relname = %s", (table,)).fetchone()[0]
            assert rls is True
            for role, allowed in (("anon", False), ("authenticated", False), ("service_role", True)):
                ok = c.execute("select has_table_privilege(%s, %s, 'select')", (role, f"public.{table}")).fetchone()[0]
                assert ok is allowed, (table, role)
        seq = c.execute("select has_sequence_privilege('service_role', 'public.wpp_console_alerts_id_seq', 'usage')"
                        ).fetchone()[0]
        assert seq is True


@pytest.mark.postgres
def test_the_migration_is_idempotent(pg_alerts_dsn):
    import psycopg

    from wpp.store.postgres import migration_paths

    path = [p for p in migration_paths() if p.name.endswith("_wpp_console_alerts.sql")]
    names = [p.name for p in migration_paths()]
    assert len(path) == 1 and names.index(path[0].name) > names.index("20261125000000_wpp_console_pairing_watch.sql")
    with psycopg.connect(pg_alerts_dsn, autocommit=True) as c:
        c.execute(path[0].read_text(encoding="utf-8"))
        c.execute(path[0].read_text(encoding="utf-8"))


# --- Supabase: the same records through PostgREST (respx answers as PostgREST would) -------------------------------
SB_URL = "https://abcdefghijklmnop.supabase.co"
SB_KEY = "sb_secret_Q1w2E3r4T5y6U7i8O9p0AaSsDdFf"


def test_supabase_sends_the_alert_tables_the_right_requests():
    import json

    import httpx
    import respx

    from wpp.store import SupabaseStore

    with respx.mock(base_url=f"{SB_URL}/rest/v1", assert_all_called=False, assert_all_mocked=True) as api:
        s = SupabaseStore(SB_URL, SB_KEY)
        row = {"id": 7, "incident_id": f"{IID}@1000", "event": "down", "recipient": "email:a@school.ru",
               "channel": "email", "shown_to": "a@school.ru", "lang": "ru", "subject": "s", "body": "b",
               "payload": None, "status": "pending", "attempts": 0, "created_at": 100.0, "next_try_at": 100.0,
               "sent_at": None, "error": None, "integration_id": IID, "organization_id": ORG}
        post = api.post("/wpp_console_alerts").mock(return_value=httpx.Response(201, json=[row]))
        get = api.get("/wpp_console_alerts").mock(return_value=httpx.Response(200, json=[row]))
        patch = api.patch("/wpp_console_alerts").mock(return_value=httpx.Response(204))
        inc_post = api.post("/wpp_console_incidents").mock(return_value=httpx.Response(201, json=[]))
        inc_get = api.get("/wpp_console_incidents").mock(return_value=httpx.Response(200, json=[
            {"id": f"{IID}@1000", "integration_id": IID, "organization_id": ORG, "kind": "offline",
             "started_at": 1.0, "notified_at": None, "recovered_at": None, "closed_at": None}]))

        assert s.queue_alerts([_alert("email:a@school.ru")]) == 1
        req = post.calls.last.request
        assert req.url.params["on_conflict"] == "incident_id,event,recipient"
        assert "resolution=ignore-duplicates" in req.headers["prefer"]
        assert json.loads(req.content)[0]["recipient"] == "email:a@school.ru"

        [due] = s.due_alerts(now=150.0)
        params = dict(get.calls.last.request.url.params.multi_items())
        # due: waiting and its time has come, or claimed by a sender whose claim ran out
        assert params["or"] == ("(and(status.in.(pending,retry),next_try_at.lte.150.0),"
                                "and(status.eq.sending,claim_until.lte.150.0))")
        assert params["order"] == "attempts.asc,next_try_at.asc,id.asc"
        assert due.id == 7 and due.recipient == "email:a@school.ru" and due.uid.startswith("wpp-")

        # the claim: one conditional PATCH that also compares the number of tries (of two senders, one wins)
        patch.mock(return_value=httpx.Response(200, json=[{**row, "status": "sending", "claimed_by": "replica-a",
                                                            "claim_until": 240.0, "attempts": 1}]))
        claimed = s.claim_alert(7, holder="replica-a", now=150.0, until=240.0)
        sent = patch.calls.last.request
        params = dict(sent.url.params.multi_items())
        assert params["id"] == "eq.7" and params["attempts"] == "eq.0" and params["or"].startswith("(and(status.in.")
        assert json.loads(sent.content) == {"status": "sending", "claimed_by": "replica-a", "claim_until": 240.0,
                                            "attempts": 1}
        assert claimed.status == "sending" and claimed.claimed_by == "replica-a"
        patch.mock(return_value=httpx.Response(200, json=[]))  # another sender changed the row first
        assert s.claim_alert(7, holder="replica-b", now=150.0, until=240.0) is None
        # "sent", only while the claim is ours
        assert s.finish_alert(7, status="sent", attempts=1, next_try_at=150.0, sent_at=150.0, holder="replica-a") \
            is False
        params = dict(patch.calls.last.request.url.params.multi_items())
        assert params["status"] == "eq.sending" and params["claimed_by"] == "eq.replica-a"
        patch.mock(return_value=httpx.Response(204))

        s.finish_alert(7, status="sent", attempts=1, next_try_at=150.0, sent_at=150.0)
        assert patch.calls.last.request.url.params["id"] == "eq.7"
        assert json.loads(patch.calls.last.request.content)["status"] == "sent"

        s.save_incident(Incident(id=f"{IID}@1000", integration_id=IID, organization_id=ORG, kind="offline",
                                 started_at=1.0))
        assert inc_post.calls.last.request.url.params["on_conflict"] == "id"
        assert [i.kind for i in s.load_incidents()] == ["offline"]
        assert inc_get.calls.last.request.url.params["closed_at"] == "is.null"

        api.get("/wpp_console_alerts").mock(return_value=httpx.Response(404, json={
            "code": "PGRST205", "message": "Could not find the table 'public.wpp_console_alerts'"}))
        with pytest.raises(StoreError) as info:
            s.list_alerts()
        assert "missing a WPP Console table" in info.value.message and SB_KEY not in str(info.value)


# --- issue 23: claims, a stable id, reports of failures, pruning ---------------------------------------------------
def test_an_alert_is_claimed_by_one_sender_until_its_claim_runs_out(any_store):
    s = any_store
    s.queue_alerts([_alert("email:a@school.ru")])
    [due] = s.due_alerts(now=100.0)
    assert due.uid.startswith("wpp-")
    got = s.claim_alert(due.id, holder="replica-a", now=100.0, until=190.0)
    assert got is not None and (got.status, got.claimed_by, got.claim_until, got.attempts) == (
        "sending", "replica-a", 190.0, 1)
    # the other replica, at the same moment: nothing to claim, nothing due
    assert s.claim_alert(due.id, holder="replica-b", now=100.0, until=190.0) is None
    assert s.due_alerts(now=189.0) == []
    # a finish by someone who does not hold the claim changes nothing
    assert s.finish_alert(due.id, status="sent", attempts=1, next_try_at=150.0, sent_at=150.0,
                          holder="replica-b") is False
    assert s.list_alerts()[0].status == "sending"
    # the claim ran out (its sender gave up or died): due again, and claimed once more, one try more
    [again] = s.due_alerts(now=190.0)
    assert again.id == due.id and again.status == "sending"
    other = s.claim_alert(due.id, holder="replica-b", now=190.0, until=280.0)
    assert other is not None and other.attempts == 2 and other.claimed_by == "replica-b"
    assert other.uid == got.uid  # the same id on every try
    # the first sender's late word is refused; the holder's counts
    assert s.finish_alert(due.id, status="retry", attempts=1, next_try_at=500.0, holder="replica-a") is False
    assert s.finish_alert(due.id, status="sent", attempts=2, next_try_at=200.0, sent_at=200.0,
                          holder="replica-b") is True
    [done] = s.list_alerts()
    assert (done.status, done.sent_at, done.attempts, done.claim_until) == ("sent", 200.0, 2, None)
    assert s.due_alerts(now=10_000.0) == []
    with pytest.raises(StoreError):
        s.claim_alert(due.id, holder="", now=1.0, until=2.0)
    with pytest.raises(StoreError):
        s.finish_alert(due.id, status="sending", attempts=1, next_try_at=1.0)


def test_a_stable_id_per_incident_event_and_recipient(any_store):
    from wpp.store.alerts import alert_uid

    s = any_store
    s.queue_alerts([_alert("email:a@school.ru"), _alert("email:b@school.ru"),
                    _alert("email:a@school.ru", event="recovered")])
    uids = {(a.recipient, a.event): a.uid for a in s.list_alerts()}
    assert len(set(uids.values())) == 3
    assert uids[("email:a@school.ru", "down")] == alert_uid(f"{IID}@1000", "down", "email:a@school.ru")
    assert all(u.startswith("wpp-") and len(u) == 36 for u in uids.values())


def test_failed_alerts_are_reported_once(any_store):
    s = any_store
    s.queue_alerts([_alert("email:a@school.ru"), _alert("email:b@school.ru")])
    a, b = sorted(s.due_alerts(now=100.0), key=lambda x: x.recipient)
    s.finish_alert(a.id, status="failed", attempts=10, next_try_at=100.0, error="refused")
    assert [x.id for x in s.list_alerts(status="failed", unreported=True)] == [a.id]
    s.mark_alerts_reported([a.id], at=120.0)
    assert s.list_alerts(status="failed", unreported=True) == []
    assert s.list_alerts(status="failed")[0].reported_at == 120.0
    s.mark_alerts_reported([], at=130.0)


def test_pruning_keeps_what_is_inside_the_window_in_small_batches(any_store):
    s = any_store
    old = [_alert(f"email:{n}@school.ru", at=10.0) for n in range(5)]
    new = [_alert(f"email:n{n}@school.ru", at=1000.0) for n in range(2)]
    s.queue_alerts(old + new + [_alert("email:waiting@school.ru", at=10.0), _alert("email:gaveup@school.ru", at=10.0)])
    by = {a.recipient: a for a in s.list_alerts()}
    for a in old:
        s.finish_alert(by[a.recipient].id, status="sent", attempts=1, next_try_at=20.0, sent_at=20.0)
    for a in new:
        s.finish_alert(by[a.recipient].id, status="sent", attempts=1, next_try_at=1000.0, sent_at=1000.0)
    s.finish_alert(by["email:gaveup@school.ru"].id, status="failed", attempts=10, next_try_at=20.0)
    # delivered before 500 go; given-up ones are kept with the incidents (before 5)
    assert s.prune_alerts(sent_before=500.0, failed_before=5.0, limit=2) == 2
    assert s.prune_alerts(sent_before=500.0, failed_before=5.0, limit=2) == 2
    assert s.prune_alerts(sent_before=500.0, failed_before=5.0, limit=2) == 1
    assert s.prune_alerts(sent_before=500.0, failed_before=5.0, limit=2) == 0
    left = {a.recipient for a in s.list_alerts()}
    assert left == {"email:n0@school.ru", "email:n1@school.ru", "email:waiting@school.ru", "email:gaveup@school.ru"}
    assert s.prune_alerts(sent_before=500.0, failed_before=500.0, limit=10) == 1
    assert "email:gaveup@school.ru" not in {a.recipient for a in s.list_alerts()}

    for n, closed in enumerate((10.0, 20.0, 1000.0, None)):
        s.save_incident(Incident(id=f"{IID}@{n}", integration_id=IID, organization_id=ORG, kind="offline",
                                 started_at=1.0, closed_at=closed, noticed_at=2.0))
    assert s.prune_incidents(closed_before=500.0, limit=1) == 1
    assert s.prune_incidents(closed_before=500.0, limit=5) == 1
    assert s.prune_incidents(closed_before=500.0, limit=5) == 0
    kept = {i.id: i for i in s.load_incidents(open_only=False)}
    assert set(kept) == {f"{IID}@2", f"{IID}@3"} and kept[f"{IID}@2"].noticed_at == 2.0


def test_an_older_sqlite_file_gets_the_new_columns(tmp_path):
    import sqlite3

    from wpp.store import SqliteStore

    path = tmp_path / "wpp.db"
    SqliteStore(path).close()  # the console's own tables
    with sqlite3.connect(path) as c:  # the alert tables as the first version made them
        c.execute("CREATE TABLE wpp_console_incidents (id TEXT PRIMARY KEY NOT NULL, integration_id TEXT NOT NULL,"
                  " organization_id TEXT, kind TEXT NOT NULL, started_at REAL NOT NULL, notified_at REAL,"
                  " recovered_at REAL, closed_at REAL)")
        c.execute("CREATE TABLE wpp_console_alerts (id INTEGER PRIMARY KEY AUTOINCREMENT, incident_id TEXT NOT NULL,"
                  " event TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL, shown_to TEXT NOT NULL,"
                  " lang TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL, payload TEXT, status TEXT NOT NULL,"
                  " attempts INTEGER NOT NULL DEFAULT 0, created_at REAL NOT NULL, next_try_at REAL NOT NULL,"
                  " sent_at REAL, error TEXT, integration_id TEXT, organization_id TEXT,"
                  " UNIQUE (incident_id, event, recipient))")
        c.execute("INSERT INTO wpp_console_alerts (incident_id, event, recipient, channel, shown_to, lang, subject,"
                  " body, status, created_at, next_try_at) VALUES ('x@1', 'down', 'email:a@b.ru', 'email', 'a@b.ru',"
                  " 'ru', 's', 'b', 'pending', 1.0, 1.0)")
    s = SqliteStore(path)
    try:
        [old] = s.due_alerts(now=5.0)  # a row written before there were stable ids gets one on reading
        assert old.uid.startswith("wpp-") and s.claim_alert(old.id, holder="a", now=5.0, until=9.0) is not None
        s.save_incident(Incident(id="x@1", integration_id=IID, organization_id=ORG, kind="offline", started_at=1.0,
                                 noticed_at=3.0))
        assert s.load_incidents()[0].noticed_at == 3.0
    finally:
        s.close()


@pytest.mark.postgres
def test_the_delivery_migration_is_idempotent_and_allows_sending(pg_alerts_dsn):
    import psycopg

    from wpp.store.postgres import migration_paths

    [path] = [p for p in migration_paths() if p.name.endswith("_wpp_console_alert_delivery.sql")]
    names = [p.name for p in migration_paths()]
    assert names.index(path.name) > names.index("20261127000000_wpp_console_webhooks.sql")
    with psycopg.connect(pg_alerts_dsn, autocommit=True) as c:
        c.execute(path.read_text(encoding="utf-8"))
        c.execute(path.read_text(encoding="utf-8"))
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute("insert into public.wpp_console_alerts (incident_id, event, recipient, channel, shown_to, lang,"
                      " subject, body, status, created_at, next_try_at) values ('x', 'down', 'r', 'email', 'r', 'ru',"
                      " 's', 'b', 'lost', 1, 1)")


# --- issue 26: "I'm on it", mutes and maintenance windows -----------------------------------------------------------
def test_the_first_acknowledgement_counts_and_the_desk_never_overwrites_it(any_store):
    from dataclasses import replace

    s = any_store
    inc = Incident(id=f"{IID}@1000", integration_id=IID, organization_id=ORG, kind="offline", started_at=1.0,
                   noticed_at=2.0, notified_at=3.0, notice_id="down:x")
    s.save_incident(inc)
    assert s.ack_incident(inc.id, by="Ольга", at=10.0) is True
    assert s.ack_incident(inc.id, by="Вера", at=11.0) is False
    s.save_incident(replace(inc, kind="logged_out", reminded_at=12.0))  # the desk's copy has no acknowledgement
    [got] = s.load_incidents()
    assert (got.acked_by, got.acked_at, got.kind, got.reminded_at, got.notice_id) == (
        "Ольга", 10.0, "logged_out", 12.0, "down:x")
    platform = Incident(id="platform@x", integration_id="*", organization_id=None, kind="platform_down",
                        started_at=1.0)
    s.save_incident(platform)
    s.save_incident(replace(inc, id=f"{IID}@2000", parent_id="platform@x"))
    assert {i.id: i.parent_id for i in s.load_incidents()}[f"{IID}@2000"] == "platform@x"
    assert [i.platform for i in s.load_incidents()].count(True) == 1
    s.save_incident(replace(inc, closed_at=20.0))
    assert s.ack_incident("unknown", by="x", at=1.0) is False
    with pytest.raises(StoreError):
        s.ack_incident(inc.id, by="  ", at=1.0)


def test_mutes_and_maintenance_windows(any_store):
    from wpp.models import Mute

    s = any_store
    a = s.add_mute(Mute(scope="number", target=IID, starts_at=100.0, ends_at=200.0, reason="  телефон   в ремонте ",
                        created_by="olga", created_at=100.0))
    b = s.add_mute(Mute(scope="school", target=ORG, starts_at=150.0, ends_at=400.0, created_by="admin",
                        created_at=90.0))
    c = s.add_mute(Mute(scope="platform", target="ignored", starts_at=500.0, ends_at=600.0, created_by="admin",
                        created_at=90.0))
    assert a.id and b.id and c.id and a.reason == "телефон в ремонте" and c.target == "*"
    assert [m.id for m in s.list_mutes(since=0.0)] == [a.id, b.id, c.id]
    assert [m.id for m in s.list_mutes(since=250.0)] == [b.id, c.id]
    assert s.end_mute(b.id, at=300.0, by="olga") is True
    assert s.end_mute(b.id, at=310.0, by="olga") is False  # ended already
    [got] = [m for m in s.list_mutes(since=0.0) if m.id == b.id]
    assert (got.until, got.ended_by) == (300.0, "olga") and got.holds(250.0) and not got.holds(300.0)
    assert got.covers("some-number", ORG + "__wpp__ab12cd34") and not got.covers(IID, "another")
    assert [m.id for m in s.list_mutes(since=350.0)] == [c.id]
    assert s.prune_mutes(ended_before=350.0, limit=1) == 1
    assert s.prune_mutes(ended_before=350.0, limit=10) == 1
    assert [m.id for m in s.list_mutes(since=0.0)] == [c.id]
    with pytest.raises(StoreError):
        s.add_mute(Mute(scope="number", target=IID, starts_at=5.0, ends_at=5.0, created_by="x", created_at=1.0))
    with pytest.raises(StoreError):
        s.add_mute(Mute(scope="galaxy", target=IID, starts_at=5.0, ends_at=6.0, created_by="x", created_at=1.0))


@pytest.mark.postgres
def test_the_features_migration_is_idempotent_and_the_mutes_table_is_private(pg_alerts_dsn):
    import psycopg

    from wpp.store.postgres import migration_paths

    [path] = [p for p in migration_paths() if p.name.endswith("_wpp_console_alert_features.sql")]
    with psycopg.connect(pg_alerts_dsn, autocommit=True) as c:
        c.execute(path.read_text(encoding="utf-8"))
        c.execute(path.read_text(encoding="utf-8"))
        assert c.execute("select relrowsecurity from pg_class where relname = 'wpp_console_mutes'").fetchone()[0]
        for role, allowed in (("anon", False), ("authenticated", False), ("service_role", True)):
            ok = c.execute("select has_table_privilege(%s, 'public.wpp_console_mutes', 'select')", (role,)).fetchone()
            assert ok[0] is allowed, role


def test_supabase_acknowledges_and_mutes_with_conditional_requests():
    import json

    import httpx
    import respx

    from wpp.models import Mute
    from wpp.store import SupabaseStore

    with respx.mock(base_url=f"{SB_URL}/rest/v1", assert_all_called=False, assert_all_mocked=True) as api:
        s = SupabaseStore(SB_URL, SB_KEY)
        inc_patch = api.patch("/wpp_console_incidents").mock(return_value=httpx.Response(200, json=[{"id": "x"}]))
        inc_post = api.post("/wpp_console_incidents").mock(return_value=httpx.Response(201, json=[]))
        assert s.ack_incident("x@1", by="olga", at=5.0) is True
        params = dict(inc_patch.calls.last.request.url.params.multi_items())
        assert params["acked_at"] == "is.null" and params["closed_at"] == "is.null" and params["id"] == "eq.x@1"
        s.save_incident(Incident(id="x@1", integration_id=IID, organization_id=ORG, kind="offline", started_at=1.0))
        sent = json.loads(inc_post.calls.last.request.content)
        assert "acked_by" not in sent and "acked_at" not in sent  # a save never overwrites who is on it

        row = {"id": 3, "scope": "number", "target": IID, "starts_at": 1.0, "ends_at": 9.0, "reason": "",
               "created_by": "olga", "created_at": 1.0, "ended_at": None, "ended_by": None}
        api.post("/wpp_console_mutes").mock(return_value=httpx.Response(201, json=[row]))
        get = api.get("/wpp_console_mutes").mock(return_value=httpx.Response(200, json=[row]))
        patch = api.patch("/wpp_console_mutes").mock(return_value=httpx.Response(200, json=[row]))
        assert s.add_mute(Mute(scope="number", target=IID, starts_at=1.0, ends_at=9.0, created_by="olga",
                               created_at=1.0)).id == 3
        assert [m.id for m in s.list_mutes(since=2.0)] == [3]
        assert dict(get.calls.last.request.url.params.multi_items())["ends_at"] == "gte.2.0"
        assert s.end_mute(3, at=4.0, by="olga") is True
        params = dict(patch.calls.last.request.url.params.multi_items())
        assert params["ended_at"] == "is.null" and params["ends_at"] == "gt.4.0"


def test_closed_incidents_most_recently_closed_first_and_at_most_the_limit(any_store):
    """The Alerts page's ended problems: only closed ones, the most recently closed first, as many as asked."""
    s = any_store
    s.save_incident(Incident(id=f"{IID}@1000", integration_id=IID, organization_id=ORG, kind="offline",
                             started_at=1.0, notified_at=2.0, recovered_at=3.0, closed_at=4.0))
    s.save_incident(Incident(id=f"{IID}@5000", integration_id=IID, organization_id=ORG, kind="logged_out",
                             started_at=5.0, recovered_at=6.0, closed_at=9.0))
    s.save_incident(Incident(id=f"{IID}@7000", integration_id=IID, organization_id=ORG, kind="offline",
                             started_at=7.0, notified_at=8.0))  # still open
    assert [i.id for i in s.closed_incidents()] == [f"{IID}@5000", f"{IID}@1000"]
    assert [i.id for i in s.closed_incidents(limit=1)] == [f"{IID}@5000"]
    assert s.closed_incidents()[1].recovered_at == 3.0


def test_supabase_reads_closed_incidents_with_one_limited_request():
    import httpx
    import respx

    from wpp.store import SupabaseStore

    with respx.mock(base_url=f"{SB_URL}/rest/v1", assert_all_called=False, assert_all_mocked=True) as api:
        s = SupabaseStore(SB_URL, SB_KEY)
        get = api.get("/wpp_console_incidents").mock(return_value=httpx.Response(200, json=[
            {"id": f"{IID}@5000", "integration_id": IID, "organization_id": ORG, "kind": "offline",
             "started_at": 5.0, "notified_at": None, "recovered_at": 6.0, "closed_at": 9.0}]))
        [got] = s.closed_incidents(limit=50)
        params = dict(get.calls.last.request.url.params.multi_items())
        assert params["closed_at"] == "not.is.null" and params["limit"] == "50"
        assert params["order"] == "closed_at.desc,id.desc"
        assert got.recovered_at == 6.0 and got.closed_at == 9.0
