"""SupabaseStore against PostgREST's documented request format, with respx intercepting httpx (the transport
supabase-py / postgrest-py use). PostgREST itself cannot run here; the SQL it would call is proven on a real
PostgreSQL in test_postgres_sql.py and test_contract.py.
"""
from __future__ import annotations

import json
import uuid

import httpx
import pytest
import respx

from wpp.errors import IntegrationNotFound, StoreError
from wpp.models import ActivityEntry
from wpp.store import SupabaseStore, open_store

URL = "https://abcdefghijklmnop.supabase.co"
REST = f"{URL}/rest/v1"
# a service-role-shaped key (a JWT) and the new opaque kind: neither may ever show up in an error
JWT_KEY = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoic2VydmljZV9yb2xlIn0.c2VydmljZS1yb2xlLXNpZ25hdHVyZQ"
OPAQUE_KEY = "sb_secret_Q1w2E3r4T5y6U7i8O9p0AaSsDdFf"
ORG = "0a0a0a0a-0000-4000-8000-00000000000a"
IID = "11111111-2222-4333-8444-555555555555"


def _row(**over) -> dict:
    row = {
        "id": IID, "organization_id": ORG, "messenger_type": "whatsapp", "provider": "wpp", "name": "Front desk",
        "is_primary": True, "is_enabled": True, "last_error": None, "last_error_at": None,
        "settings": {"wppApiKey": "wppkey_abcdef0123456789", "wppAccountNumber": "0000000000004", "crm": {"x": 1}},
        "created_at": "2025-01-31T12:00:00.5+03:00", "updated_at": "2025-01-31T09:00:01+00:00",
    }
    row.update(over)
    return row


@pytest.fixture(params=[JWT_KEY, OPAQUE_KEY], ids=["jwt-key", "opaque-key"])
def key(request):
    return request.param


@pytest.fixture
def api():
    with respx.mock(base_url=REST, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


@pytest.fixture
def store(key, api):
    return SupabaseStore(URL, key)


def _assert_no_key(err: Exception, key: str) -> None:
    for text in (str(err), repr(err), getattr(err, "detail", ""), getattr(err, "action", ""), json.dumps(err.as_dict())):
        assert key not in text
        assert key[-12:] not in text


def _params(request: httpx.Request) -> dict:
    return dict(request.url.params.multi_items())


# --- request format -------------------------------------------------------------------------------------------
def test_description_masks_the_key(store, key):
    assert store.description.startswith("Supabase abcdefghijklmnop.supabase.co (key ")
    assert key[:4] + "…" in store.description
    assert key not in store.description and key not in repr(store)


def test_list_request_and_flag_detection(store, api, key):
    route = api.get("/messenger_integrations").mock(return_value=httpx.Response(200, json=[
        _row(),
        _row(id="22222222-2222-4333-8444-555555555555", is_enabled=False, is_primary=False),
    ]))
    got = store.list_integrations(ORG)

    req = route.calls.last.request
    assert req.url.path == "/rest/v1/messenger_integrations"
    assert _params(req) == {
        "select": "*", "messenger_type": "eq.whatsapp", "provider": "eq.wpp", "organization_id": f"eq.{ORG}",
        "order": "created_at.asc,id.asc", "offset": "0", "limit": "1000",
    }
    assert req.headers["apikey"] == key
    assert req.headers["authorization"] == f"Bearer {key}"
    assert store.flag_columns == ("is_enabled",)  # this installation says is_enabled
    assert [i.id for i in got] == [IID]  # the disabled row is filtered out
    i = got[0]
    assert i.is_active and i.is_primary and i.session == "0000000000004"
    assert i.created_at == "2025-01-31T09:00:00.500000+00:00"  # normalised to UTC

    everything = store.list_integrations(ORG, include_inactive=True)
    assert [x.is_active for x in everything] == [True, False]


def test_list_reads_page_by_page(store, api):
    page1 = [_row(id=str(uuid.UUID(int=n))) for n in range(1000)]
    page2 = [_row(id=str(uuid.UUID(int=1000 + n))) for n in range(3)]
    route = api.get("/messenger_integrations").mock(side_effect=[httpx.Response(200, json=page1),
                                                                  httpx.Response(200, json=page2)])
    assert len(store.list_integrations(include_inactive=True)) == 1003
    assert [(_params(c.request)["offset"], _params(c.request)["limit"]) for c in route.calls] == [("0", "1000"), ("1000", "1000")]
    assert "organization_id" not in _params(route.calls[0].request)


def test_get_request_and_not_found(store, api):
    route = api.get("/messenger_integrations").mock(side_effect=[httpx.Response(200, json=[_row(is_active=False)]),
                                                                  httpx.Response(200, json=[])])
    i = store.get(IID.upper())
    assert _params(route.calls.last.request) == {"select": "*", "messenger_type": "eq.whatsapp", "provider": "eq.wpp",
                                                 "id": f"eq.{IID}"}
    assert i.is_active is False  # both columns present, one says false
    assert store.flag_columns == ("is_active", "is_enabled")
    with pytest.raises(IntegrationNotFound):
        store.get(IID)


def test_malformed_id_sends_nothing(store, api):
    for call in (lambda: store.get("nope"), lambda: store.merge_settings("1 or 1=1", {"a": 1}),
                 lambda: store.update("", name="x"), lambda: store.deactivate("../../etc")):
        with pytest.raises(IntegrationNotFound):
            call()
    assert api.calls.call_count == 0


def test_merge_is_one_rpc_call_with_the_patch_only(store, api, key):
    route = api.post("/rpc/wpp_merge_settings").mock(return_value=httpx.Response(
        200, json=_row(settings={"wppApiKey": "wppkey_abcdef0123456789", "wppJwtToken": "t", "crm": {"x": 1}})))
    i = store.merge_settings(IID, {"wppJwtToken": "t", "wppJwtExpiresAt": None})

    req = route.calls.last.request
    assert req.method == "POST" and req.url.path == "/rest/v1/rpc/wpp_merge_settings"
    assert json.loads(req.content) == {"p_id": IID, "p_patch": {"wppJwtToken": "t", "wppJwtExpiresAt": None}}
    assert req.headers["content-type"].startswith("application/json")
    assert req.headers["apikey"] == key and req.headers["authorization"] == f"Bearer {key}"
    assert i.settings == {"wppApiKey": "wppkey_abcdef0123456789", "wppJwtToken": "t", "crm": {"x": 1}}
    # never the seeds' read-modify-write: no GET of the row, no PATCH of the whole settings
    assert [c.request.method for c in api.calls] == ["POST"]


def test_create_and_deactivate_are_rpc_calls(store, api):
    create = api.post("/rpc/wpp_create_integration").mock(return_value=httpx.Response(200, json=_row()))
    deactivate = api.post("/rpc/wpp_deactivate_integration").mock(
        return_value=httpx.Response(200, json=_row(is_enabled=False, is_primary=False)))

    i = store.create(ORG.upper(), "  Front desk ", {"wppApiKey": "k", "drop": None})
    assert json.loads(create.calls.last.request.content) == {
        "p_organization_id": ORG, "p_name": "Front desk", "p_settings": {"wppApiKey": "k"}}
    assert i.is_primary and i.is_active

    off = store.deactivate(IID)
    assert json.loads(deactivate.calls.last.request.content) == {"p_id": IID}
    assert (off.is_active, off.is_primary) == (False, False)

    with pytest.raises(StoreError):
        store.create("not-an-org", "x")
    assert create.call_count == 1


def test_update_is_a_patch_of_the_given_columns(store, api):
    route = api.patch("/messenger_integrations").mock(return_value=httpx.Response(200, json=[_row(name="New")]))
    store.update(IID, name=" New ", last_error="boom with Bearer abcdefghijklmnopqrstuvwxyz")
    req = route.calls.last.request
    assert _params(req) == {"id": f"eq.{IID}", "messenger_type": "eq.whatsapp", "provider": "eq.wpp"}
    assert "return=representation" in req.headers["prefer"]
    body = json.loads(req.content)
    assert set(body) == {"name", "last_error", "last_error_at", "updated_at"}
    assert body["name"] == "New"
    assert "abcdefghijklmnopqrstuvwxyz" not in body["last_error"]
    assert body["last_error_at"].endswith("+00:00")

    store.update(IID, clear_error=True)
    body = json.loads(route.calls.last.request.content)
    assert body["last_error"] is None and body["last_error_at"] is None and "name" not in body

    route.mock(return_value=httpx.Response(200, json=[]))  # nothing matched: not ours or gone
    with pytest.raises(IntegrationNotFound):
        store.update(IID, name="x")


def test_activity_insert_and_list(store, api, key):
    api.get("/messenger_integrations").mock(return_value=httpx.Response(200, json=[_row()]))
    insert = api.post("/wpp_console_activity").mock(return_value=httpx.Response(201, json=[{
        "id": 7, "at": "2025-01-31T12:00:00+03:00", "actor": "anna", "action": "refresh", "outcome": "ok",
        "integration_id": IID, "organization_id": ORG, "detail": "masked"}]))
    fake_jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig12345678"
    e = store.log_activity(ActivityEntry(action="refresh", outcome="ok", actor="anna", integration_id=IID,
                                         organization_id=ORG,
                                         detail=f"key wppkey_abcdef0123456789 jwt {fake_jwt} supabase {key}"))
    req = insert.calls.last.request
    assert req.method == "POST" and req.url.path == "/rest/v1/wpp_console_activity"
    assert "return=representation" in req.headers["prefer"]
    body = json.loads(req.content)
    assert "at" not in body  # the database's now()
    for secret in ("wppkey_abcdef0123456789", fake_jwt, key):
        assert secret not in body["detail"]
    assert (e.id, e.at) == (7, "2025-01-31T09:00:00.000000+00:00")

    listing = api.get("/wpp_console_activity").mock(return_value=httpx.Response(200, json=[]))
    store.list_activity(limit=20, integration_id=IID, organization_id=ORG)
    assert _params(listing.calls.last.request) == {
        "select": "*", "integration_id": f"eq.{IID}", "organization_id": f"eq.{ORG}",
        "order": "at.desc,id.desc", "limit": "20"}


# --- errors ---------------------------------------------------------------------------------------------------
def test_expired_jwt_401(store, api, key):
    api.get("/messenger_integrations").mock(return_value=httpx.Response(
        401, json={"code": "PGRST301", "details": None, "hint": None, "message": "JWT expired"}))
    with pytest.raises(StoreError) as info:
        store.list_integrations()
    err = info.value
    assert type(err) is StoreError
    assert "did not accept the key" in err.message and "JWT expired" in err.message
    assert "key" in err.action.lower()
    _assert_no_key(err, key)


def test_missing_function_404_says_apply_the_migration(store, api, key):
    api.post("/rpc/wpp_merge_settings").mock(return_value=httpx.Response(404, json={
        "code": "PGRST202",
        "details": "Searched for the function public.wpp_merge_settings with parameters p_id, p_patch",
        "hint": None,
        "message": "Could not find the function public.wpp_merge_settings(p_id, p_patch) in the schema cache"}))
    with pytest.raises(StoreError) as info:
        store.merge_settings(IID, {"a": 1})
    assert "migration" in info.value.action
    assert "wpp_merge_settings" in info.value.detail
    _assert_no_key(info.value, key)


def test_not_found_raised_by_the_function(store, api):
    api.post("/rpc/wpp_deactivate_integration").mock(return_value=httpx.Response(400, json={
        "code": "P0002", "details": None, "hint": None, "message": f"WPP integration {IID} not found"}))
    with pytest.raises(IntegrationNotFound):
        store.deactivate(IID)


def test_html_500_page(store, api, key):
    page = f"<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1>{key}</body></html>"
    api.post("/rpc/wpp_create_integration").mock(return_value=httpx.Response(
        500, text=page, headers={"content-type": "text/html"}))
    with pytest.raises(StoreError) as info:
        store.create(ORG, "x")
    err = info.value
    assert "HTTP 500" in err.message and "<" not in err.message
    assert err.status == 500
    assert "Oops" in err.detail and "<h1>" not in err.detail
    _assert_no_key(err, key)


def test_empty_502_from_a_proxy(store, api, key):
    api.get("/wpp_console_activity").mock(return_value=httpx.Response(502))
    with pytest.raises(StoreError) as info:
        store.list_activity()
    assert "HTTP 502" in info.value.message
    _assert_no_key(info.value, key)


def test_network_failures(store, api, key):
    api.post("/rpc/wpp_merge_settings").mock(side_effect=httpx.ConnectError("connection refused"))
    with pytest.raises(StoreError, match="cannot be reached") as info:
        store.merge_settings(IID, {"a": 1})
    _assert_no_key(info.value, key)

    api.get("/messenger_integrations").mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(StoreError, match="did not answer in time") as info:
        store.get(IID)
    _assert_no_key(info.value, key)


def test_unreadable_success_body(store, api):
    api.post("/rpc/wpp_merge_settings").mock(return_value=httpx.Response(200, text="not json"))
    with pytest.raises(StoreError):
        store.merge_settings(IID, {"a": 1})


def test_invalid_url_is_a_store_error_without_the_key(key):
    with pytest.raises(StoreError) as info:
        SupabaseStore("ftp://nowhere", key)
    _assert_no_key(info.value, key)
    with pytest.raises(StoreError):
        SupabaseStore(URL, "")


@pytest.mark.filterwarnings("ignore:The .* parameter is deprecated:DeprecationWarning")  # supabase-py's own default path
def test_injected_client_is_used(api, key):
    from supabase import create_client

    client = create_client(URL, key)
    route = api.get("/messenger_integrations").mock(return_value=httpx.Response(200, json=[]))
    store = SupabaseStore(URL, key, client=client)
    assert store.list_integrations() == []
    assert route.called


def test_open_store_prefers_supabase(tmp_path, key):
    store = open_store(supabase_url=URL, supabase_key=key, database_url="postgresql://x@localhost/db",
                       sqlite_path=tmp_path / "x.db")
    assert isinstance(store, SupabaseStore)
    assert not (tmp_path / "x.db").exists()
