"""SupabaseStore's records of status pushed by the platform (``wpp/store/webhooks.py``), against PostgREST's request
format with respx (the SQL functions themselves run on a real PostgreSQL in tests/status/test_webhooks.py)."""
from __future__ import annotations

import json

import httpx
import pytest
import respx

from wpp.errors import StoreError
from wpp.models import DeliveryRecord, WebhookCount
from wpp.store import SupabaseStore

URL = "https://abcdefghijklmnop.supabase.co"
REST = f"{URL}/rest/v1"
KEY = "sb_secret_Q1w2E3r4T5y6U7i8O9p0AaSsDdFf"
IID = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def api():
    with respx.mock(base_url=REST, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def store(api):
    return SupabaseStore(URL, KEY)


def body(route):
    return json.loads(route.calls.last.request.content)


def test_events_and_replays_are_rpc_calls(store, api):
    note = api.post("/rpc/wpp_note_status_event").mock(return_value=httpx.Response(200, json=True))
    assert store.note_status_event(IID.upper(), at=10.5) is True
    assert body(note) == {"p_id": IID, "p_at": 10.5}
    seen = api.post("/rpc/wpp_webhook_seen").mock(side_effect=[httpx.Response(200, json=True),
                                                               httpx.Response(200, json=False)])
    assert store.webhook_seen(f"{IID}:e:evt_1", integration_id=IID, at=11.0, keep_s=600) is True
    assert store.webhook_seen(f"{IID}:e:evt_1", integration_id=IID, at=12.0, keep_s=600) is False
    assert body(seen) == {"p_key": f"{IID}:e:evt_1", "p_id": IID, "p_at": 12.0, "p_keep_s": 600.0}
    note.mock(return_value=httpx.Response(404, json={"code": "PGRST202", "details": None, "hint": None,
                                                     "message": "Could not find the function"}))
    with pytest.raises(StoreError) as info:  # part 5 of the migrations is not applied yet
        store.note_status_event(IID, at=1.0)
    assert "migrations" in info.value.action
    assert KEY not in str(info.value.as_dict())


def test_test_messages_and_counts(store, api):
    insert = api.post("/wpp_console_test_messages").mock(return_value=httpx.Response(201, json=[]))
    store.save_test_message(DeliveryRecord(IID, "task-1", 5.0, to="+7 900 123-45-67", actor="anna"))
    sent = body(insert)
    assert (sent["integration_id"], sent["message_id"], sent["status"], sent["recipient"]) == \
        (IID, "task-1", "accepted", "+7 900 123-45-67")
    assert "resolution=ignore-duplicates" in insert.calls.last.request.headers["prefer"]
    advance = api.post("/rpc/wpp_advance_test_message").mock(return_value=httpx.Response(200, json=True))
    assert store.advance_test_message(IID, "task-1", status="failed", at=6.0, detail="No such user") is True
    assert body(advance) == {"p_id": IID, "p_message_id": "task-1", "p_status": "failed", "p_at": 6.0,
                             "p_detail": "No such user"}
    with pytest.raises(StoreError):
        store.advance_test_message(IID, "task-1", status="lost", at=6.0)
    read = api.get("/wpp_console_test_messages").mock(return_value=httpx.Response(200, json=[
        {"integration_id": IID, "message_id": "task-1", "sent_at": 5.0, "recipient": "+7 900", "status": "failed",
         "status_at": 6.0, "detail": "No such user", "actor": "anna"}]))
    (got,) = store.test_messages(IID, limit=3)
    assert (got.status, got.detail, got.to) == ("failed", "No such user", "+7 900")
    params = dict(read.calls.last.request.url.params.multi_items())
    assert params["integration_id"] == f"eq.{IID}" and params["limit"] == "3"

    add = api.post("/rpc/wpp_add_webhook_counts").mock(return_value=httpx.Response(204))
    store.add_webhook_counts([WebhookCount("*", "unknown", 2, 7.0), WebhookCount("*", "unknown", 1, 9.0),
                              WebhookCount(IID, "accepted", 1, 8.0)])
    assert body(add) == {"p_rows": [{"scope": "*", "kind": "unknown", "n": 3, "last_at": 9.0},
                                    {"scope": IID, "kind": "accepted", "n": 1, "last_at": 8.0}]}
    api.get("/wpp_console_webhook_counts").mock(return_value=httpx.Response(200, json=[
        {"scope": "*", "kind": "unknown", "n": 3, "last_at": 9.0}]))
    assert store.webhook_counts() == [WebhookCount("*", "unknown", 3, 9.0)]


def test_forgetting_an_event_and_pruning_are_rpc_calls(store, api):
    unseen = api.post("/rpc/wpp_webhook_unseen").mock(return_value=httpx.Response(200, json=True))
    store.webhook_unseen(f"{IID}:e:evt_1")
    assert body(unseen) == {"p_key": f"{IID}:e:evt_1"}

    prune = api.post("/rpc/wpp_prune_status_history").mock(side_effect=[httpx.Response(200, json=500),
                                                                        httpx.Response(200, json="x")])
    assert store.prune("status_history", before=1000.5, limit=500) == 500
    assert body(prune) == {"p_before": 1000.5, "p_limit": 500}
    with pytest.raises(StoreError):  # an answer that is no count is not taken for one
        store.prune("status_history", before=1000.5, limit=500)
    for name in ("activity", "test_messages", "webhook_seen"):
        route = api.post(f"/rpc/wpp_prune_{name}").mock(return_value=httpx.Response(200, json=0))
        assert store.prune(name, before=5.0, limit=10) == 0 and route.called
    with pytest.raises(StoreError):  # nothing is sent for a table it does not know
        store.prune("wpp_console_sessions", before=5.0, limit=10)
