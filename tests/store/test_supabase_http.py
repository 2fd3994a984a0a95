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
from wpp.models import ActivityEntry, Organization, SignInSession, StatusChange, StatusRecord
from wpp.store import MemberTable, OrgTable, SupabaseStore, open_store

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


# --- part 2: undo, activity messages, organisations, sign-ins, secrets, status board, leases --------------------
NOW = 1_764_000_000.25
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"


def _body(route) -> object:
    return json.loads(route.calls.last.request.content)


def _prefer(route) -> set[str]:
    return {p.strip() for p in route.calls.last.request.headers.get("prefer", "").split(",") if p.strip()}


def test_reactivate_is_an_rpc_call(store, api):
    route = api.post("/rpc/wpp_reactivate_integration").mock(return_value=httpx.Response(200, json=_row(is_primary=False)))
    i = store.reactivate(IID.upper())
    assert _body(route) == {"p_id": IID}
    assert (i.is_active, i.is_primary) == (True, False)
    route.mock(return_value=httpx.Response(400, json={"code": "P0002", "details": None, "hint": None,
                                                      "message": "WPP integration not found"}))
    with pytest.raises(IntegrationNotFound):
        store.reactivate(IID)
    with pytest.raises(IntegrationNotFound):
        store.reactivate("nope")
    assert route.call_count == 2


def test_activity_message_is_sent_scrubbed_and_read_back(store, api, key):
    api.get("/messenger_integrations").mock(return_value=httpx.Response(200, json=[_row()]))
    message = {"msgid": "Renewed with {key}", "params": {"key": "wppkey_abcdef0123456789", "n": 2,
                                                         "who": {"msgid": "by {k}", "params": {"k": key}}}}
    stored = {**message, "params": {"key": "masked", "n": 2}}
    insert = api.post("/wpp_console_activity").mock(return_value=httpx.Response(201, json=[{
        "id": 8, "at": "2025-01-31T09:00:00+00:00", "actor": "anna", "action": "refresh", "outcome": "ok",
        "integration_id": IID, "organization_id": ORG, "detail": "d", "message": stored}]))
    e = store.log_activity(ActivityEntry(action="refresh", outcome="ok", actor="anna", integration_id=IID,
                                         organization_id=ORG, detail="d", message=message))
    sent = _body(insert)["message"]
    assert sent["msgid"] == "Renewed with {key}" and sent["params"]["n"] == 2
    assert "wppkey_abcdef0123456789" not in json.dumps(sent) and key not in json.dumps(sent)
    assert sent["params"]["who"]["msgid"] == "by {k}"
    assert e.message == stored

    store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna"))
    assert "message" not in _body(insert)  # a line without one works on a database before the migration too

    api.get("/wpp_console_activity").mock(return_value=httpx.Response(200, json=[
        {"id": 9, "at": "2025-01-31T09:00:00Z", "actor": "a", "action": "x", "outcome": "ok", "detail": "old",
         "message": None}]))
    assert store.list_activity()[0].message is None


def test_organisations_from_the_platform_table_and_the_console_table(store, api):
    platform = api.get("/organizations").mock(return_value=httpx.Response(200, json=[
        {"id": ORG, "name": "Школа №5"}, {"id": ORG_B, "name": None}]))
    console = api.get("/wpp_console_organizations").mock(return_value=httpx.Response(200, json=[
        {"id": ORG_B, "name": "Гимназия 2"}, {"id": ORG, "name": "ignored: the platform names it"}]))
    orgs = store.list_organizations()
    assert [(o.id, o.name, o.source) for o in orgs] == [(ORG_B, "Гимназия 2", "console"),
                                                        (ORG, "Школа №5", "platform")]
    assert _params(platform.calls.last.request) == {"select": "id:id,name:name", "order": "id.asc",
                                                    "offset": "0", "limit": "1000"}
    assert _params(console.calls.last.request) == {"select": "id,name", "order": "id.asc", "offset": "0",
                                                   "limit": "1000"}


@pytest.mark.parametrize("answer", [
    httpx.Response(404, json={"code": "PGRST205", "details": None, "hint": "Perhaps you meant the table 'public.x'",
                              "message": "Could not find the table 'public.organizations' in the schema cache"}),
    httpx.Response(404, json={"code": "42P01", "details": None, "hint": None,
                              "message": "relation \"public.organizations\" does not exist"}),
], ids=["PGRST205", "42P01"])
def test_no_platform_table_means_the_console_table_and_is_remembered(store, api, answer):
    platform = api.get("/organizations").mock(return_value=answer)
    api.get("/wpp_console_organizations").mock(return_value=httpx.Response(200, json=[{"id": ORG, "name": "School"}]))
    for _ in range(3):
        assert [(o.name, o.source) for o in store.list_organizations()] == [("School", "console")]
    assert platform.call_count == 1  # asked once, then remembered for a while


def test_configured_platform_table_in_another_schema(api, key):
    store = SupabaseStore(URL, key, org_table=OrgTable(table="crm.schools", id_column="school_id", name_column="title"))
    platform = api.get("/schools").mock(return_value=httpx.Response(200, json=[{"id": ORG, "name": "Alpha"}]))
    api.get("/wpp_console_organizations").mock(return_value=httpx.Response(200, json=[]))
    assert [o.name for o in store.list_organizations()] == ["Alpha"]
    req = platform.calls.last.request
    assert req.headers["accept-profile"] == "crm"
    assert _params(req)["select"] == "id:school_id,name:title"

    none = SupabaseStore(URL, key, org_table=None)
    assert none.list_organizations() == []
    assert platform.call_count == 1
    with pytest.raises(StoreError, match="WPP_ORG_TABLE"):
        SupabaseStore(URL, key, org_table=OrgTable(table="schools?select=*"))


def test_platform_table_without_the_columns_is_a_store_error(store, api, key):
    api.get("/organizations").mock(return_value=httpx.Response(400, json={
        "code": "42703", "details": None, "hint": None, "message": "column organizations.name does not exist"}))
    console = api.get("/wpp_console_organizations").mock(return_value=httpx.Response(200, json=[]))
    with pytest.raises(StoreError) as info:
        store.list_organizations()
    assert "organizations" in info.value.message and "WPP_ORG_NAME_COLUMN" in info.value.action
    assert "column organizations.name does not exist" in info.value.detail
    _assert_no_key(info.value, key)
    assert console.call_count == 0


# --- memberships (the school platform's table of who belongs to which school, with which role) ---------------
USER = "11111111-1111-4111-8111-111111111111"


@pytest.fixture
def members(key, api):
    return SupabaseStore(URL, key, member_table=MemberTable("organization_members"))


def test_memberships_of_one_user(members, api):
    route = api.get("/organization_members").mock(return_value=httpx.Response(200, json=[
        {"org": ORG.upper(), "role": "teacher"}, {"org": ORG_B, "role": None}, {"org": None, "role": "x"}]))
    assert members.list_memberships(USER.upper()) == [(ORG, "teacher"), (ORG_B, "")]  # a NULL role is ""
    assert _params(route.calls.last.request) == {
        "select": "org:organization_id,role:role", "user_id": f"eq.{USER}", "order": "organization_id.asc",
        "offset": "0", "limit": "1000"}


def test_memberships_read_page_by_page_and_with_configured_names(api, key):
    store = SupabaseStore(URL, key, member_table=MemberTable("crm.members", user_column="uid", org_column="school_id",
                                                             role_column="kind"))
    page1 = [{"org": str(uuid.UUID(int=n)), "role": "teacher"} for n in range(1000)]
    route = api.get("/members").mock(side_effect=[httpx.Response(200, json=page1),
                                                  httpx.Response(200, json=[{"org": ORG, "role": "owner"}])])
    assert len(store.list_memberships(USER)) == 1001
    req = route.calls.last.request
    assert req.headers["accept-profile"] == "crm"
    assert _params(req) == {"select": "org:school_id,role:kind", "uid": f"eq.{USER}", "order": "school_id.asc",
                            "offset": "1000", "limit": "1000"}


def test_no_membership_table_configured_asks_nothing(store, api):
    route = api.get("/organization_members").mock(return_value=httpx.Response(200, json=[]))
    assert store.list_memberships(USER) == []  # the default: no membership table
    assert open_store(supabase_url=URL, supabase_key="k" * 40).list_memberships(USER) == []
    assert route.call_count == 0


def test_open_store_passes_the_membership_table(api):
    route = api.get("/members").mock(return_value=httpx.Response(200, json=[{"org": ORG, "role": "owner"}]))
    store = open_store(supabase_url=URL, supabase_key="k" * 40, member_table=MemberTable("members"))
    assert store.list_memberships(USER) == [(ORG, "owner")]
    assert route.call_count == 1


@pytest.mark.parametrize("answer", [
    httpx.Response(404, json={"code": "PGRST205", "details": None, "hint": None,
                              "message": "Could not find the table 'public.organization_members' in the schema cache"}),
    httpx.Response(404, json={"code": "42P01", "details": None, "hint": None,
                              "message": "relation \"public.organization_members\" does not exist"}),
    httpx.Response(400, json={"code": "42703", "details": None, "hint": None,
                              "message": "column organization_members.role does not exist"}),
    httpx.Response(401, json={"code": "42501", "details": None, "hint": None,
                              "message": "permission denied for table organization_members"}),
    httpx.Response(406, json={"code": "PGRST106", "details": None, "hint": None,
                              "message": "The schema must be one of the following: public"}),
], ids=["PGRST205", "42P01", "42703", "42501", "PGRST106"])
def test_a_membership_table_that_cannot_be_read_is_a_store_error(members, api, key, answer):
    route = api.get("/organization_members").mock(return_value=answer)
    for _ in range(2):  # never remembered as "no table": every sign-in asks, and fails closed
        with pytest.raises(StoreError) as info:
            members.list_memberships(USER)
        err = info.value
        assert "organization_members" in str(err.message) and "cannot be read" in str(err.message)
        assert "WPP_MEMBER_TABLE" in str(err.action) and "WPP_MEMBER_USER_COLUMN" in str(err.action)
        assert str(answer.json()["code"]) in err.detail
        _assert_no_key(err, key)
    assert route.call_count == 2


def test_other_membership_failures_are_store_errors_too(members, api, key):
    api.get("/organization_members").mock(return_value=httpx.Response(503, text="<html>upstream down</html>"))
    with pytest.raises(StoreError) as info:
        members.list_memberships(USER)
    _assert_no_key(info.value, key)
    api.get("/organization_members").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(StoreError):
        members.list_memberships(USER)


@pytest.mark.parametrize("evil", ["' or '1'='1", "x,user_id.neq.0)", "a&user_id=not.is.null", "eq.*"])
def test_a_user_id_with_quotes_or_filters_stays_one_value(members, api, evil):
    route = api.get("/organization_members").mock(return_value=httpx.Response(200, json=[]))
    assert members.list_memberships(evil) == []
    assert route.calls.last.request.url.params.get_list("user_id") == [f"eq.{evil}"]  # one filter, the whole text


def test_a_user_id_of_the_wrong_type_matches_nobody(members, api):
    api.get("/organization_members").mock(return_value=httpx.Response(400, json={
        "code": "22P02", "details": None, "hint": None, "message": "invalid input syntax for type uuid: \"abc\""}))
    assert members.list_memberships("abc") == []
    assert members.list_memberships("") == []


def test_add_organisation_is_an_upsert_by_id(store, api):
    route = api.post("/wpp_console_organizations").mock(return_value=httpx.Response(201))
    o = store.add_organization("  Школа  №5 ", ORG.upper())
    assert o == Organization(id=ORG, name="Школа №5", source="console")
    req = route.calls.last.request
    assert _params(req) == {"on_conflict": "id"}
    assert {"resolution=merge-duplicates", "return=minimal"} <= _prefer(route)
    body = _body(route)
    assert (body["id"], body["name"]) == (ORG, "Школа №5") and body["updated_at"].endswith("+00:00")
    with pytest.raises(StoreError):
        store.add_organization("   ")
    assert route.call_count == 1


def test_adding_a_school_only_new_ignores_a_known_id_and_reads_the_stored_name(store, api):
    """Issue 24: INSERT ... ON CONFLICT DO NOTHING (PostgREST's ignore-duplicates), then the name that is stored."""
    route = api.post("/wpp_console_organizations").mock(return_value=httpx.Response(201))
    read = api.get("/wpp_console_organizations").mock(return_value=httpx.Response(200, json=[{"name": "Школа № 5"}]))
    o = store.add_organization("Typed over", ORG, only_new=True)
    assert o == Organization(id=ORG, name="Школа № 5", source="console")
    assert {"resolution=ignore-duplicates", "return=minimal"} <= _prefer(route)
    assert "resolution=merge-duplicates" not in _prefer(route)
    assert read.calls.last.request.url.params.get("id") == f"eq.{ORG}"


def test_sign_in_requests(store, api):
    s = SignInSession(key="k-1", identity={"email": "anna@school.example"}, created_at=NOW, expires_at=NOW + 3600,
                      ticket_hash="t-hash", ticket_expires_at=NOW + 60)
    insert = api.post("/wpp_console_sessions").mock(return_value=httpx.Response(201))
    store.create_sign_in_session(s)
    assert _body(insert) == {"key": "k-1", "id_hash": None, "ticket_hash": "t-hash",
                             "identity": {"email": "anna@school.example"}, "created_at": NOW, "expires_at": NOW + 3600,
                             "ticket_expires_at": NOW + 60, "last_seen_at": None, "revoked_at": None}
    assert "return=minimal" in _prefer(insert)
    insert.mock(return_value=httpx.Response(409, json={"code": "23505", "details": "Key (key)=(k-1) already exists.",
                                                       "hint": None, "message": "duplicate key value"}))
    with pytest.raises(StoreError, match="already recorded"):
        store.create_sign_in_session(s)

    row = {"key": "k-1", "identity": {"email": "anna@school.example"}, "created_at": NOW, "expires_at": NOW + 3600,
           "id_hash": "i-hash", "ticket_hash": None, "ticket_expires_at": None, "last_seen_at": None, "revoked_at": None}
    redeem = api.post("/rpc/wpp_redeem_sign_in_ticket").mock(side_effect=[httpx.Response(200, json=[row]),
                                                                         httpx.Response(200, json=[])])
    got = store.redeem_sign_in_ticket("t-hash", "i-hash", now=NOW + 1)
    assert _body(redeem) == {"p_ticket_hash": "t-hash", "p_id_hash": "i-hash", "p_now": NOW + 1}
    assert got == SignInSession(key="k-1", identity={"email": "anna@school.example"}, created_at=NOW,
                                expires_at=NOW + 3600, id_hash="i-hash")
    assert store.redeem_sign_in_ticket("t-hash", "i-hash", now=NOW + 2) is None

    get = api.get("/wpp_console_sessions").mock(side_effect=[httpx.Response(200, json=[row]),
                                                            httpx.Response(200, json=[])])
    assert store.get_sign_in_session(id_hash="i-hash") == got
    assert _params(get.calls.last.request) == {"select": "*", "id_hash": "eq.i-hash", "limit": "1"}
    assert store.get_sign_in_session(key="unknown") is None
    assert _params(get.calls.last.request)["key"] == "eq.unknown"

    patch = api.patch("/wpp_console_sessions").mock(return_value=httpx.Response(204))
    store.touch_sign_in_session("k-1", last_seen_at=NOW + 5)
    assert _body(patch) == {"last_seen_at": NOW + 5} and _params(patch.calls.last.request) == {"key": "eq.k-1"}
    store.touch_sign_in_session("k-1", last_seen_at=NOW + 6, expires_at=NOW + 7200)
    assert _body(patch) == {"last_seen_at": NOW + 6, "expires_at": NOW + 7200}
    store.revoke_sign_in_session("k-1", at=NOW + 9)
    assert _body(patch) == {"revoked_at": NOW + 9, "ticket_hash": None, "ticket_expires_at": None}
    assert _params(patch.calls.last.request) == {"key": "eq.k-1", "revoked_at": "is.null"}

    purge = api.delete("/wpp_console_sessions").mock(return_value=httpx.Response(
        204, headers={"content-range": "*/3"}))
    assert store.purge_sign_in_sessions(before=NOW) == 3
    assert _params(purge.calls.last.request) == {"or": f"(expires_at.lt.{NOW!r},revoked_at.lt.{NOW!r})"}
    assert {"count=exact", "return=minimal"} <= _prefer(purge)


def test_console_secret_is_one_rpc_call(store, api):
    value = "ab" * 32
    route = api.post("/rpc/wpp_console_secret").mock(return_value=httpx.Response(200, json=value))
    assert store.console_secret("cookie-signing") == value
    assert _body(route) == {"p_name": "cookie-signing"}
    route.mock(return_value=httpx.Response(200, json=None))
    with pytest.raises(StoreError):
        store.console_secret("cookie-signing")
    route.mock(return_value=httpx.Response(404, json={"code": "PGRST202", "details": None, "hint": None,
                                                      "message": "Could not find the function public.wpp_console_secret"}))
    with pytest.raises(StoreError) as info:
        store.console_secret("cookie-signing")
    assert "migrations" in info.value.action


def test_status_board_requests(store, api, key):
    # the compare-and-set: the function says whether the entry was saved (a newer one stays)
    save = api.post("/rpc/wpp_save_status_if_newer").mock(side_effect=[httpx.Response(200, json=True),
                                                                       httpx.Response(200, json=False),
                                                                       httpx.Response(200, json=None)])
    error = {"kind": "auth", "status": 401, "message": f"rejected {key}", "action": None}
    assert store.save_status(StatusRecord(integration_id=IID.upper(), state="connected", raw="CONNECTED", since=NOW,
                                          checked_at=NOW, ok_at=NOW, failures=1, error=error, next_check_at=NOW + 60,
                                          phone="79001234567", observed_at=NOW - 1),
                             StatusChange(integration_id=IID, state="connected", previous="qr_required",
                                          raw="CONNECTED", at=NOW)) is True
    body = _body(save)
    assert body["p_record"] == {"integration_id": IID, "state": "connected", "raw": "CONNECTED", "since": NOW,
                                "checked_at": NOW, "ok_at": NOW, "failures": 1, "error": body["p_record"]["error"],
                                "next_check_at": NOW + 60, "phone": "79001234567", "observed_at": NOW - 1}
    assert key not in json.dumps(body) and body["p_record"]["error"]["status"] == 401
    assert body["p_change"] == {"integration_id": IID, "state": "connected", "previous": "qr_required",
                                "raw": "CONNECTED", "at": NOW, "error": None, "late": False}
    assert store.save_status(StatusRecord(integration_id=IID)) is False
    assert _body(save)["p_change"] is None
    with pytest.raises(StoreError):  # an answer that is no yes or no is not taken for one
        store.save_status(StatusRecord(integration_id=IID))

    late = api.post("/rpc/wpp_add_status_history").mock(return_value=httpx.Response(204))
    store.add_status_history(StatusChange(integration_id=IID, state="connected", previous="qr_required", at=NOW - 780,
                                          late=True))
    assert _body(late)["p_change"] == {"integration_id": IID, "state": "connected", "previous": "qr_required",
                                       "raw": None, "at": NOW - 780, "error": None, "late": True}

    rows = [{"integration_id": str(uuid.UUID(int=n)), "state": "connected", "failures": 0} for n in range(250)]
    load = api.get("/wpp_console_status").mock(side_effect=lambda request: httpx.Response(200, json=[
        r for r in rows if r["integration_id"] in request.url.params["integration_id"]]))
    got = store.load_statuses([r["integration_id"] for r in rows] + [rows[0]["integration_id"]])
    assert len(got) == 250 and got[rows[7]["integration_id"]] == StatusRecord(integration_id=rows[7]["integration_id"],
                                                                                 state="connected")
    assert load.call_count == 3  # 100 ids per request
    first = load.calls[0].request.url.params["integration_id"]
    assert first.startswith("in.(") and first.count(",") == 99
    assert store.load_statuses([]) == {}
    assert load.call_count == 3

    load.mock(return_value=httpx.Response(200, json=rows[:3]))
    assert len(store.load_statuses()) == 3
    assert _params(load.calls.last.request) == {"select": "*", "order": "integration_id.asc", "offset": "0",
                                                "limit": "1000"}

    history = api.get("/wpp_console_status_history").mock(return_value=httpx.Response(200, json=[
        {"id": 2, "integration_id": IID, "state": "connected", "previous": "qr_required", "raw": "CONNECTED",
         "at": NOW + 1, "error": None},
        {"id": 1, "integration_id": IID, "state": "qr_required", "previous": None, "raw": None, "at": NOW,
         "error": {"kind": "x"}, "late": True}]))
    changes = store.status_history(IID, limit=5)
    assert [(c.id, c.state, c.at, c.late) for c in changes] == [(2, "connected", NOW + 1, False),
                                                                (1, "qr_required", NOW, True)]
    assert changes[1].error == {"kind": "x"}
    assert _params(history.calls.last.request) == {"select": "*", "integration_id": f"eq.{IID}",
                                                   "order": "at.desc,id.desc", "limit": "5"}


def test_lease_requests(store, api):
    take = api.post("/rpc/wpp_try_lease").mock(side_effect=[httpx.Response(200, json=True),
                                                           httpx.Response(200, json=False)])
    assert store.try_lease("poller", "replica-1", ttl_s=30, now=NOW) is True
    assert _body(take) == {"p_name": "poller", "p_holder": "replica-1", "p_ttl_s": 30.0, "p_now": NOW}
    assert store.try_lease("poller", "replica-2", ttl_s=30, now=NOW) is False

    holder = api.get("/wpp_console_leases").mock(side_effect=[httpx.Response(200, json=[{"holder": "replica-1"}]),
                                                             httpx.Response(200, json=[])])
    assert store.lease_holder("poller", now=NOW) == "replica-1"
    assert _params(holder.calls.last.request) == {"select": "holder", "name": "eq.poller",
                                                  "expires_at": f"gt.{NOW!r}", "limit": "1"}
    assert store.lease_holder("poller", now=NOW) is None

    release = api.delete("/wpp_console_leases").mock(return_value=httpx.Response(204))
    store.release_lease("poller", "replica-1")
    assert _params(release.calls.last.request) == {"name": "eq.poller", "holder": "eq.replica-1"}

    take.mock(return_value=httpx.Response(200, json="yes"))
    with pytest.raises(StoreError, match="could not be read"):
        store.try_lease("poller", "replica-1", ttl_s=30, now=NOW)


def test_mint_lock_is_a_lease_polled_then_released(store, api):
    answers = iter([False, False, True])
    take = api.post("/rpc/wpp_try_lease").mock(side_effect=lambda request: httpx.Response(200, json=next(answers)))
    release = api.delete("/wpp_console_leases").mock(return_value=httpx.Response(204))
    with store.token_mint_lock(IID.upper(), timeout_s=30):
        assert take.call_count == 3 and release.call_count == 0
    bodies = [json.loads(c.request.content) for c in take.calls]
    assert {b["p_name"] for b in bodies} == {f"mint:{IID}"}
    assert len({b["p_holder"] for b in bodies}) == 1  # one holder id for the whole wait
    assert bodies[0]["p_ttl_s"] >= 30
    assert _params(release.calls.last.request) == {"name": f"eq.mint:{IID}", "holder": f"eq.{bodies[0]['p_holder']}"}

    take.mock(side_effect=None, return_value=httpx.Response(200, json=True))
    with pytest.raises(KeyError):
        with store.token_mint_lock(IID, timeout_s=30):
            raise KeyError("the mint failed")
    assert release.call_count == 2  # given back although the body raised

    take.mock(return_value=httpx.Response(200, json=False))
    with pytest.raises(StoreError) as info:
        with store.token_mint_lock(IID, timeout_s=0.3):
            pytest.fail("the body ran without the lease")
    assert "access key" in info.value.message and release.call_count == 2


def test_a_pairing_heartbeat_is_one_rpc_call(store, api):
    route = api.post("/rpc/wpp_watch_status").mock(return_value=httpx.Response(200, json=True))
    assert store.watch_status(IID.upper(), until=NOW + 30) is True
    assert _body(route) == {"p_id": IID, "p_until": NOW + 30, "p_check_by": None}
    route.mock(return_value=httpx.Response(200, json=False))
    assert store.watch_status(IID, until=NOW + 30, check_by=NOW) is False  # no board entry yet
    assert _body(route) == {"p_id": IID, "p_until": NOW + 30, "p_check_by": NOW}
    assert route.call_count == 2
    route.mock(return_value=httpx.Response(404, json={"code": "PGRST202", "details": None, "hint": None,
                                                      "message": "Could not find the function public.wpp_watch_status"}))
    with pytest.raises(StoreError) as info:  # part 3 of the migrations is not applied yet
        store.watch_status(IID, until=NOW + 30)
    assert "migrations" in info.value.action
