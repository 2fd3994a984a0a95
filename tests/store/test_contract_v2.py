"""The extended IntegrationStore contract (undo of a removal, activity messages, organisation names, lasting
sign-ins, shared secrets, the status board, leases and the token-mint lock), run against every backend that can
run here: ``sqlite``, ``postgres`` (the migrations created the table) and ``postgres-legacy`` (the table existed,
``is_enabled`` only). The Postgres runs call the migrations' SQL functions, the SQL Supabase runs behind ``.rpc()``.

Races are real: threads on one store, and two store objects on one database (two processes / two replicas).
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from wpp.errors import IntegrationNotFound, StoreError
from wpp.i18n import N_, use_language
from wpp.models import ActivityEntry, Organization, SignInSession, StatusChange, StatusRecord
from wpp.store import OrgTable

ORG_A = "0a0a0a0a-0000-4000-8000-00000000000a"
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"
ORG_C = "0c0c0c0c-0000-4000-8000-00000000000c"
FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig12345678"
API_KEY = "wppkey_5f1d2c3b4a5968778695a4b3c2d1e0f9"
NOW = 1_764_000_000.25  # Unix seconds, with a fraction that must survive the round trip


def _race(n: int, fn):
    """``fn(i)`` in ``n`` threads released at once; their results (errors re-raised)."""
    start = threading.Barrier(n)

    def run(i):
        start.wait(timeout=30)
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n)))


# --- reactivate -------------------------------------------------------------------------------------------------
def test_reactivate_undoes_a_removal_and_takes_primary_only_when_free(store):
    a1 = store.create(ORG_A, "first", {"wppApiKey": API_KEY})
    a2 = store.create(ORG_A, "second")
    store.deactivate(a1.id)
    assert store.get(a2.id).is_primary  # a2 inherited primary

    back = store.reactivate(a1.id)
    assert (back.is_active, back.is_primary) == (True, False)  # org already has an active primary
    assert back.settings == {"wppApiKey": API_KEY}
    assert [i.id for i in store.list_integrations(ORG_A)] == [a1.id, a2.id]

    store.deactivate(a1.id)
    store.deactivate(a2.id)
    back = store.reactivate(a2.id)
    assert (back.is_active, back.is_primary) == (True, True)  # nobody else is primary: it becomes primary
    assert sum(i.is_primary for i in store.list_integrations(ORG_A, include_inactive=True)) == 1


def test_reactivating_an_active_row_changes_nothing(store):
    a1 = store.create(ORG_A, "first")
    a2 = store.create(ORG_A, "second")
    before = store.get(a2.id)
    again = store.reactivate(a2.id)
    assert (again.is_active, again.is_primary, again.updated_at) == (True, False, before.updated_at)
    assert store.get(a1.id).is_primary


def test_concurrent_reactivations_make_exactly_one_primary(store):
    org = str(uuid.uuid4())
    rows = [store.create(org, f"n{n}") for n in range(8)]
    for r in rows:
        store.deactivate(r.id)
    back = _race(8, lambda n: store.reactivate(rows[n].id))
    assert all(r.is_active for r in back)
    assert sum(1 for i in store.list_integrations(org) if i.is_primary) == 1


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "not-a-uuid", ""])
def test_reactivate_unknown_id_is_integration_not_found(store, bad_id):
    with pytest.raises(IntegrationNotFound):
        store.reactivate(bad_id)


def test_reactivate_leaves_other_providers_alone(backend):
    other = str(uuid.uuid4())
    backend.insert_raw({"id": other, "organization_id": ORG_A, "messenger_type": "whatsapp", "provider": "twilio",
                        "name": "twilio", "is_primary": True, "is_active": False, "is_enabled": False, "settings": {}})
    before = backend.fetch_raw(other)
    with pytest.raises(IntegrationNotFound):
        backend.store.reactivate(other)
    assert backend.fetch_raw(other) == before


# --- activity messages ------------------------------------------------------------------------------------------
def test_activity_message_is_kept_and_read_back_in_the_readers_language(store):
    i = store.create(ORG_A, "n")
    text = N_("Message accepted by the platform for {phone}", phone="+7 900 123-45-67")
    e = store.log_activity(ActivityEntry(action="send", outcome="ok", actor="anna", integration_id=i.id,
                                         organization_id=ORG_A, detail=text.english, message=text.to_json()))
    plain = store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna", detail="old style"))
    got = {x.id: x for x in store.list_activity()}
    assert got[e.id].message == {"msgid": "Message accepted by the platform for {phone}",
                                 "params": {"phone": "+7 900 123-45-67"}}
    assert e.message == got[e.id].message
    with use_language("en"):
        assert str(got[e.id].text()) == "Message accepted by the platform for +7 900 123-45-67"
    assert got[plain.id].message is None and got[plain.id].text() == "old style"


def test_activity_message_values_are_scrubbed_of_secrets(store):
    i = store.create(ORG_A, "n", {"wppApiKey": API_KEY})
    message = {"msgid": "Renewed with {key}: {token}; {inner}",
               "params": {"key": API_KEY, "token": f"Bearer {FAKE_JWT}", "count": 3,
                          "inner": {"msgid": "said {what}", "params": {"what": f"apiKey={API_KEY}"}}}}
    e = store.log_activity(ActivityEntry(action="refresh", outcome="ok", actor="anna", integration_id=i.id,
                                         organization_id=ORG_A, detail="renewed", message=message))
    for got in (e, store.list_activity(integration_id=i.id)[0]):
        blob = repr(got.message)
        assert API_KEY not in blob and FAKE_JWT not in blob
        assert got.message["msgid"] == "Renewed with {key}: {token}; {inner}"
        assert got.message["params"]["count"] == 3
        assert got.message["params"]["key"].startswith(API_KEY[:4])  # masked, still tells two keys apart
        assert got.message["params"]["inner"]["msgid"] == "said {what}"


def test_activity_message_must_be_a_message(store):
    with pytest.raises(StoreError):
        store.log_activity(ActivityEntry(action="x", outcome="ok", actor="a", message={"no": "msgid"}))
    with pytest.raises(StoreError):
        store.log_activity(ActivityEntry(action="x", outcome="ok", actor="a",
                                         message={"msgid": "m {x}", "params": {"x": object()}}))
    assert store.list_activity() == []


# --- organisations ----------------------------------------------------------------------------------------------
def test_console_organisations_when_the_platform_has_no_table(store):
    assert store.list_organizations() == []
    b = store.add_organization("  школа №5  ", ORG_B)
    assert b == Organization(id=ORG_B, name="школа №5", source="console")
    a = store.add_organization("Гимназия   1\n", ORG_A.upper())
    assert a.id == ORG_A and a.name == "Гимназия 1"
    fresh = store.add_organization("Art school")
    assert uuid.UUID(fresh.id).version == 4

    assert [o.name for o in store.list_organizations()] == ["Art school", "Гимназия 1", "школа №5"]
    assert {o.source for o in store.list_organizations()} == {"console"}

    renamed = store.add_organization("Школа № 5", ORG_B)  # same id: the name changes, no second row
    assert renamed.id == ORG_B
    orgs = store.list_organizations()
    assert [(o.id, o.name) for o in orgs if o.id == ORG_B] == [(ORG_B, "Школа № 5")]
    assert len(orgs) == 3


def test_adding_a_school_only_new_never_renames_one(store):
    """Issue 24: "add a school" with an id that is named already changes nothing and says the stored name."""
    store.add_organization("Школа № 5", ORG_B)
    again = store.add_organization("Гимназия (typed over)", ORG_B.upper(), only_new=True)
    assert again == Organization(id=ORG_B, name="Школа № 5", source="console")
    assert [(o.id, o.name) for o in store.list_organizations()] == [(ORG_B, "Школа № 5")]
    fresh = store.add_organization("Лицей", ORG_C, only_new=True)
    assert fresh == Organization(id=ORG_C, name="Лицей", source="console")
    assert {o.name for o in store.list_organizations()} == {"Школа № 5", "Лицей"}


@pytest.mark.parametrize("name", ["", "   ", "\n\t", "x" * 201, None])
def test_organisation_names_are_checked(store, name):
    with pytest.raises(StoreError) as info:
        store.add_organization(name)  # type: ignore[arg-type]
    assert "organisation" in info.value.message.lower() or "name" in info.value.message.lower()
    assert store.list_organizations() == []


def test_organisation_id_must_be_a_uuid(store):
    with pytest.raises(StoreError) as info:
        store.add_organization("School", "school-5")
    assert "school-5" in info.value.message
    assert store.add_organization("x" * 200, ORG_C).name == "x" * 200


def test_platform_table_names_schools_and_console_names_fill_the_gaps(backend):
    store = backend.store
    store.add_organization("Console-only school", ORG_C)
    store.add_organization("Console name loses", ORG_A)  # the platform's name for ORG_A wins
    nameless = str(uuid.uuid4())
    store.add_organization("Named in the console", nameless)
    backend.plant_orgs([(ORG_A, "Школа №5"), (ORG_B, "гимназия 2"), (nameless, None), (str(uuid.uuid4()), "  ")])
    orgs = store.list_organizations()
    assert [(o.id, o.name, o.source) for o in orgs] == [
        (ORG_C, "Console-only school", "console"),
        (nameless, "Named in the console", "console"),
        (ORG_B, "гимназия 2", "platform"),
        (ORG_A, "Школа №5", "platform"),
    ]


def test_configured_platform_table_and_columns(backend):
    backend.plant_orgs([(ORG_A, "Alpha"), (ORG_B, "beta")], table="schools", id_column="school_id",
                       name_column="title")
    default = backend.store  # looks for organizations(id, name): not there
    default.add_organization("Gamma", ORG_C)
    assert [o.source for o in default.list_organizations()] == ["console"]

    other = backend.reopen(org_table=OrgTable(table="schools", id_column="school_id", name_column="title"))
    try:
        assert [(o.name, o.source) for o in other.list_organizations()] == [
            ("Alpha", "platform"), ("beta", "platform"), ("Gamma", "console")]
    finally:
        other.close()
    none = backend.reopen(org_table=None)  # no platform table configured at all
    try:
        assert [o.name for o in none.list_organizations()] == ["Gamma"]
    finally:
        none.close()


def test_platform_table_that_cannot_be_read_is_a_store_error(backend):
    backend.plant_orgs([(ORG_A, "Alpha")])
    wrong = backend.reopen(org_table=OrgTable(name_column="title"))  # the table exists, the column does not
    try:
        with pytest.raises(StoreError) as info:
            wrong.list_organizations()
        assert "organizations" in info.value.message
        assert "WPP_ORG_NAME_COLUMN" in info.value.action
    finally:
        wrong.close()


@pytest.mark.parametrize("bad", [
    OrgTable(table="organizations; drop table x"),
    OrgTable(table="a.b.c"),
    OrgTable(table='"quoted"'),
    OrgTable(table=""),
    OrgTable(id_column="id) or (1=1"),
    OrgTable(name_column="1name"),
    OrgTable(name_column="x" * 64),
])
def test_platform_table_names_are_checked_before_use(backend, bad):
    with pytest.raises(StoreError) as info:
        backend.reopen(org_table=bad)
    assert "WPP_ORG_" in info.value.message


# --- lasting sign-ins -------------------------------------------------------------------------------------------
def _session(key: str | None = None, **over) -> SignInSession:
    values = dict(key=key or str(uuid.uuid4()), identity={"email": "anna@school.example", "name": "Анна", "roles": ["staff"]},
                  created_at=NOW, expires_at=NOW + 12 * 3600, ticket_hash="t-" + uuid.uuid4().hex,
                  ticket_expires_at=NOW + 60)
    values.update(over)
    return SignInSession(**values)


def test_sign_in_ticket_is_redeemed_once(store):
    s = _session()
    store.create_sign_in_session(s)
    assert store.get_sign_in_session(key=s.key) == s

    got = store.redeem_sign_in_ticket(s.ticket_hash, "id-hash-1", now=NOW + 10)
    assert got is not None
    assert (got.key, got.id_hash, got.ticket_hash, got.ticket_expires_at) == (s.key, "id-hash-1", None, None)
    assert got.identity == s.identity and got.expires_at == s.expires_at
    assert store.get_sign_in_session(id_hash="id-hash-1") == got
    assert store.get_sign_in_session(key=s.key) == got

    assert store.redeem_sign_in_ticket(s.ticket_hash, "id-hash-2", now=NOW + 11) is None  # single use
    assert store.get_sign_in_session(id_hash="id-hash-2") is None
    assert store.redeem_sign_in_ticket("never-issued", "id-hash-3", now=NOW) is None


def test_expired_or_revoked_tickets_are_not_redeemed(store):
    late = _session()
    store.create_sign_in_session(late)
    assert store.redeem_sign_in_ticket(late.ticket_hash, "h1", now=late.ticket_expires_at) is None
    assert store.get_sign_in_session(key=late.key).id_hash is None

    revoked = _session()
    store.create_sign_in_session(revoked)
    store.revoke_sign_in_session(revoked.key, at=NOW + 1)
    assert store.redeem_sign_in_ticket(revoked.ticket_hash, "h2", now=NOW + 2) is None


def test_concurrent_redemptions_of_one_ticket_give_one_sign_in(backend):
    other = backend.reopen()
    try:
        s = _session()
        backend.store.create_sign_in_session(s)
        stores = (backend.store, other)
        results = _race(10, lambda n: stores[n % 2].redeem_sign_in_ticket(s.ticket_hash, f"id-{n}", now=NOW + 1))
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        assert backend.store.get_sign_in_session(key=s.key).id_hash == winners[0].id_hash
    finally:
        other.close()


def test_duplicate_sign_in_is_a_store_error(store):
    s = _session()
    store.create_sign_in_session(s)
    with pytest.raises(StoreError):
        store.create_sign_in_session(s)
    with pytest.raises(StoreError):
        store.create_sign_in_session(_session(ticket_hash=s.ticket_hash))


def test_touch_revoke_and_purge(store):
    live, ended, old, touched = _session(), _session(), _session(expires_at=NOW - 10), _session()
    for s in (live, ended, old, touched):
        store.create_sign_in_session(s)

    store.touch_sign_in_session(touched.key, last_seen_at=NOW + 5)
    got = store.get_sign_in_session(key=touched.key)
    assert (got.last_seen_at, got.expires_at) == (NOW + 5, touched.expires_at)
    store.touch_sign_in_session(touched.key, last_seen_at=NOW + 6, expires_at=NOW + 99_999.5)
    got = store.get_sign_in_session(key=touched.key)
    assert (got.last_seen_at, got.expires_at) == (NOW + 6, NOW + 99_999.5)
    store.touch_sign_in_session("no-such-key", last_seen_at=NOW)  # ignored

    store.revoke_sign_in_session(ended.key, at=NOW + 1)
    store.revoke_sign_in_session(ended.key, at=NOW + 50)  # already revoked: the first time stays
    store.revoke_sign_in_session("no-such-key", at=NOW)
    got = store.get_sign_in_session(key=ended.key)
    assert got.revoked_at == NOW + 1 and not got.active(NOW + 2)
    assert got.ticket_hash is None
    assert store.get_sign_in_session(key=live.key).active(NOW + 2)

    assert store.purge_sign_in_sessions(before=NOW) == 1  # only the one that expired before NOW
    assert store.get_sign_in_session(key=old.key) is None
    assert store.purge_sign_in_sessions(before=NOW + 2) == 1  # the revoked one
    assert store.get_sign_in_session(key=ended.key) is None
    assert store.get_sign_in_session(key=live.key) is not None
    assert store.purge_sign_in_sessions(before=NOW + 2) == 0


def test_sign_in_lookup_needs_exactly_one_handle(store):
    with pytest.raises(StoreError):
        store.get_sign_in_session()
    with pytest.raises(StoreError):
        store.get_sign_in_session(key="a", id_hash="b")
    assert store.get_sign_in_session(key="unknown") is None


# --- shared secrets ---------------------------------------------------------------------------------------------
def test_console_secret_is_made_once_and_kept(store):
    first = store.console_secret("cookie-signing")
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    assert store.console_secret("cookie-signing") == first
    other = store.console_secret("something-else")
    assert re.fullmatch(r"[0-9a-f]{64}", other) and other != first


def test_two_processes_racing_for_a_new_secret_get_one_value(backend):
    other = backend.reopen()
    try:
        stores = (backend.store, other)
        values = _race(12, lambda n: stores[n % 2].console_secret("race"))
        assert len(set(values)) == 1
        assert backend.store.console_secret("race") == values[0] == other.console_secret("race")
    finally:
        other.close()


# --- the status board -------------------------------------------------------------------------------------------
def test_status_board_save_load_and_history(store):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    rec = StatusRecord(integration_id=a, state="qr_required", raw="QRCODE", since=NOW, checked_at=NOW, ok_at=NOW,
                       next_check_at=NOW + 2.5)
    store.save_status(rec, StatusChange(integration_id=a, state="qr_required", previous=None, raw="QRCODE", at=NOW))
    assert store.load_statuses() == {a: rec}

    error = {"kind": "unreachable", "status": None, "message": {"msgid": "Cannot reach {host}", "params": {"host": "x"}},
             "action": "Try again."}
    rec2 = StatusRecord(integration_id=a, state="connected", raw="CONNECTED", since=NOW + 30, checked_at=NOW + 30,
                        ok_at=NOW + 30, failures=0, next_check_at=NOW + 90, phone="79001234567")
    store.save_status(rec2, StatusChange(integration_id=a, state="connected", previous="qr_required",
                                         raw="CONNECTED", at=NOW + 30))
    rec3 = StatusRecord(integration_id=a, state="connected", raw="CONNECTED", since=NOW + 30, checked_at=NOW + 90,
                        ok_at=NOW + 30, failures=1, error=error, next_check_at=NOW + 120, phone="79001234567")
    store.save_status(rec3)  # a failed poll: no change of state, no history line
    store.save_status(StatusRecord(integration_id=b))

    assert store.load_statuses() == {a: rec3, b: StatusRecord(integration_id=b)}
    assert store.load_statuses([a]) == {a: rec3}
    assert store.load_statuses([a.upper(), str(uuid.uuid4())]) == {a: rec3}
    assert store.load_statuses([]) == {}
    history = store.status_history(a)
    assert [(h.state, h.previous, h.at) for h in history] == [("connected", "qr_required", NOW + 30),
                                                               ("qr_required", None, NOW)]
    assert all(h.id is not None and h.integration_id == a for h in history)
    assert [h.state for h in store.status_history(a, limit=1)] == ["connected"]
    assert store.status_history(b) == []


def test_status_history_is_newest_first_by_time(store):
    a = str(uuid.uuid4())
    for at, state in ((NOW + 5, "offline"), (NOW + 1, "starting"), (NOW + 9, "connected")):
        store.save_status(StatusRecord(integration_id=a, state=state, since=at),
                          StatusChange(integration_id=a, state=state, at=at))
    assert [h.state for h in store.status_history(a)] == ["connected", "offline", "starting"]


def test_status_errors_are_scrubbed_of_secrets(store):
    i = store.create(ORG_A, "n", {"wppApiKey": API_KEY})
    error = {"kind": "auth", "status": 401, "message": f"rejected Bearer {FAKE_JWT}", "action": {"msgid": "Check {k}",
             "params": {"k": API_KEY}}}
    store.save_status(StatusRecord(integration_id=i.id, error=error),
                      StatusChange(integration_id=i.id, state=None, at=NOW, error=error))
    blob = repr(store.load_statuses([i.id])) + repr(store.status_history(i.id))
    assert FAKE_JWT not in blob and API_KEY not in blob
    assert store.load_statuses([i.id])[i.id].error["status"] == 401


def test_many_statuses(store):
    ids = [str(uuid.uuid4()) for _ in range(600)]
    for n, iid in enumerate(ids):
        store.save_status(StatusRecord(integration_id=iid, state="connected", failures=n))
    assert len(store.load_statuses()) == 600
    got = store.load_statuses(ids[:550])
    assert len(got) == 550 and got[ids[549]].failures == 549


def test_pairing_heartbeat_on_the_board(store):
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    assert store.watch_status(a, until=NOW + 30) is False  # no board entry yet: nothing is written
    assert store.load_statuses() == {}
    rec = StatusRecord(integration_id=a, state="qr_required", checked_at=NOW, next_check_at=NOW + 35)
    store.save_status(rec)
    store.save_status(StatusRecord(integration_id=b, state="starting"))  # due now (no next check)

    assert store.watch_status(a.upper(), until=NOW + 30) is True
    assert store.load_statuses([a])[a] == replace(rec, watched_until=NOW + 30)  # only the heartbeat changed
    assert store.watch_status(a, until=NOW + 20) is True
    assert store.load_statuses([a])[a].watched_until == NOW + 30  # never shortened
    assert store.watch_status(a, until=NOW + 40, check_by=NOW + 1) is True  # a watch began: check at once
    assert store.load_statuses([a])[a] == replace(rec, watched_until=NOW + 40, next_check_at=NOW + 1)
    store.watch_status(a, until=NOW + 40, check_by=NOW + 50)
    assert store.load_statuses([a])[a].next_check_at == NOW + 1  # never put later
    assert store.watch_status(b, until=NOW + 30, check_by=NOW + 2)
    assert store.load_statuses([b])[b] == StatusRecord(integration_id=b, state="starting", watched_until=NOW + 30)

    # the poller's next save keeps the heartbeat (it is the panels', not the poller's)
    store.save_status(StatusRecord(integration_id=a, state="connected", checked_at=NOW + 2, next_check_at=NOW + 62))
    assert store.load_statuses([a])[a] == StatusRecord(integration_id=a, state="connected", checked_at=NOW + 2,
                                                       next_check_at=NOW + 62, watched_until=NOW + 40)
    with pytest.raises(StoreError):
        store.watch_status("", until=NOW)


def test_heartbeats_from_two_replicas_keep_the_latest(backend):
    other = backend.reopen()
    try:
        iid = str(uuid.uuid4())
        backend.store.save_status(StatusRecord(integration_id=iid, state="qr_required", next_check_at=NOW + 35))
        stores = (backend.store, other)
        assert all(_race(12, lambda n: stores[n % 2].watch_status(iid, until=NOW + n, check_by=NOW + 20 - n)))
        got = other.load_statuses([iid])[iid]
        assert (got.watched_until, got.next_check_at) == (NOW + 11, NOW + 9)
    finally:
        other.close()


# --- leases -----------------------------------------------------------------------------------------------------
def test_lease_take_renew_expire_release(store):
    assert store.lease_holder("poller", now=NOW) is None
    assert store.try_lease("poller", "replica-1", ttl_s=30, now=NOW)
    assert store.lease_holder("poller", now=NOW + 1) == "replica-1"
    assert not store.try_lease("poller", "replica-2", ttl_s=30, now=NOW + 10)  # still running
    assert store.try_lease("poller", "replica-1", ttl_s=30, now=NOW + 20)  # renewed by its holder: until NOW + 50
    assert not store.try_lease("poller", "replica-2", ttl_s=30, now=NOW + 40)
    assert store.lease_holder("poller", now=NOW + 50) is None  # expired
    assert store.try_lease("poller", "replica-2", ttl_s=30, now=NOW + 50)  # taken over
    assert store.lease_holder("poller", now=NOW + 51) == "replica-2"

    store.release_lease("poller", "replica-1")  # not the holder: nothing happens
    assert store.lease_holder("poller", now=NOW + 52) == "replica-2"
    store.release_lease("poller", "replica-2")
    assert store.lease_holder("poller", now=NOW + 52) is None
    assert store.try_lease("poller", "replica-1", ttl_s=30, now=NOW + 53)
    assert store.try_lease("other-lease", "replica-2", ttl_s=30, now=NOW + 53)  # leases are independent


def test_twenty_racers_one_lease_holder(backend):
    other = backend.reopen()
    try:
        stores = (backend.store, other)
        won = _race(20, lambda n: stores[n % 2].try_lease("poller", f"holder-{n}", ttl_s=60, now=NOW))
        assert won.count(True) == 1
        assert backend.store.lease_holder("poller", now=NOW) == f"holder-{won.index(True)}"
    finally:
        other.close()


# --- the token-mint lock ----------------------------------------------------------------------------------------
def test_mint_lock_bodies_never_overlap_across_threads_and_processes(backend):
    iid = str(uuid.uuid4())
    other = backend.reopen()
    try:
        stores = (backend.store, other)
        inside = []
        overlaps = []
        entered = []
        guard = threading.Lock()

        def mint(n: int) -> None:
            with stores[n % 2].token_mint_lock(iid, timeout_s=60):
                with guard:
                    inside.append(n)
                    if len(inside) > 1:
                        overlaps.append(tuple(inside))
                    entered.append(n)
                time.sleep(0.02)  # widen the window an overlap would need; no time is asserted
                with guard:
                    inside.remove(n)

        _race(6, mint)
        assert sorted(entered) == list(range(6))
        assert overlaps == []
    finally:
        other.close()


def test_mint_lock_times_out_in_words_and_is_freed_after_an_error(backend):
    iid = str(uuid.uuid4())
    other = backend.reopen()
    try:
        held, done = threading.Event(), threading.Event()

        def holder():
            with other.token_mint_lock(iid, timeout_s=10):
                held.set()
                done.wait(timeout=30)

        t = threading.Thread(target=holder)
        t.start()
        assert held.wait(timeout=30)
        try:
            with pytest.raises(StoreError) as info:
                with backend.store.token_mint_lock(iid, timeout_s=0.3):
                    pytest.fail("the body ran while another process held the lock")
            assert "access key" in info.value.message
            with backend.store.token_mint_lock(str(uuid.uuid4()), timeout_s=5):  # another number: not blocked
                pass
        finally:
            done.set()
            t.join(timeout=30)

        with pytest.raises(RuntimeError):
            with backend.store.token_mint_lock(iid, timeout_s=5):
                raise RuntimeError("the mint failed")
        with other.token_mint_lock(iid, timeout_s=5):  # given back although the body raised
            pass
    finally:
        other.close()
