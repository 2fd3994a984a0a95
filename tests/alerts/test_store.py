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
        assert params["status"] == "in.(pending,retry)" and params["next_try_at"] == "lte.150.0"
        assert due.id == 7 and due.recipient == "email:a@school.ru"

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
