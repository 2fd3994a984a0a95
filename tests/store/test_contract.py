"""The IntegrationStore contract, run against every backend that can run here:

- ``sqlite``: the embedded default, a temporary file;
- ``postgres``: PostgresStore on a throwaway PostgreSQL 15 where the migration created the table;
- ``postgres-legacy``: the same on a table that existed before (``is_enabled`` instead of ``is_active``).

The Postgres runs call the migration's SQL functions, i.e. the SQL that Supabase runs behind ``.rpc()``.
"""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from wpp.errors import IntegrationNotFound, StoreError
from wpp.models import ActivityEntry, Integration
from wpp.store import IntegrationStore

ORG_A = "0a0a0a0a-0000-4000-8000-00000000000a"
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"
FAKE_JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig12345678"
API_KEY = "wppkey_5f1d2c3b4a5968778695a4b3c2d1e0f9"


def _utc(ts: str | None) -> datetime:
    assert ts, "timestamp missing"
    dt = datetime.fromisoformat(ts)
    assert dt.utcoffset() == timedelta(0), f"{ts} is not UTC"
    return dt


def test_backend_satisfies_protocol(store):
    assert isinstance(store, IntegrationStore)
    assert isinstance(store.description, str) and store.description
    from wpp.i18n import use_language

    with use_language("ru"):  # the Settings page says where the numbers are in the reader's language
        shown = str(store.described_as)
    assert shown and any("\u0400" <= ch <= "\u04ff" for ch in shown) and "{" not in shown, shown


def test_create_get_list_with_org_filter(store):
    a1 = store.create(ORG_A, "Front desk", {"wppApiKey": API_KEY, "wppAccountNumber": "0000000000004"})
    b1 = store.create(ORG_B, "Warehouse")
    a2 = store.create(ORG_A, None)

    assert isinstance(a1, Integration)
    assert (a1.organization_id, a1.name, a1.is_active) == (ORG_A, "Front desk", True)
    assert (a1.messenger_type, a1.provider) == ("whatsapp", "wpp")
    assert a1.settings == {"wppApiKey": API_KEY, "wppAccountNumber": "0000000000004"}
    assert a1.session == "0000000000004"
    assert a2.name is None and a2.settings == {}

    got = store.get(a1.id)
    assert (got.id, got.name, got.settings) == (a1.id, a1.name, a1.settings)
    assert store.get(a1.id.upper()).id == a1.id  # a UUID in capitals is the same id

    assert [i.id for i in store.list_integrations()] == [a1.id, b1.id, a2.id]  # oldest first
    assert [i.id for i in store.list_integrations(ORG_A)] == [a1.id, a2.id]
    assert [i.id for i in store.list_integrations(ORG_B)] == [b1.id]
    assert store.list_integrations(str(uuid.uuid4())) == []


@pytest.mark.parametrize("bad_id", [str(uuid.uuid4()), "not-a-uuid", "", "1; drop table messenger_integrations"])
def test_unknown_or_malformed_id_is_integration_not_found(store, bad_id):
    store.create(ORG_A, "x")
    calls = [
        lambda: store.get(bad_id),
        lambda: store.merge_settings(bad_id, {"a": 1}),
        lambda: store.update(bad_id, name="y"),
        lambda: store.update(bad_id, last_error="boom"),
        lambda: store.deactivate(bad_id),
    ]
    for call in calls:
        with pytest.raises(IntegrationNotFound) as info:
            call()
        text = str(info.value).lower()
        for driver_word in ("psycopg", "sqlite3", "syntax", "uuid", "sqlstate", "traceback"):
            assert driver_word not in text
    assert len(store.list_integrations()) == 1


def test_first_active_row_of_an_organisation_is_primary(store):
    a1 = store.create(ORG_A, "one")
    a2 = store.create(ORG_A, "two")
    b1 = store.create(ORG_B, "other org")
    assert (a1.is_primary, a2.is_primary, b1.is_primary) == (True, False, True)


def test_merge_changes_only_the_patch_keys(store):
    i = store.create(ORG_A, "n", {
        "wppApiKey": API_KEY,
        "wppAccountNumber": "0000000000004",
        "crmFeature": {"pipeline": 7, "stages": ["a", "b"]},
        "other": {"x": 1, "keep": True},
        "toDrop": "bye",
    })
    before = store.get(i.id)

    merged = store.merge_settings(i.id, {"wppJwtToken": FAKE_JWT, "wppJwtExpiresAt": 1_900_000_000_000})
    assert merged.settings == {**before.settings, "wppJwtToken": FAKE_JWT, "wppJwtExpiresAt": 1_900_000_000_000}
    assert store.get(i.id).settings == merged.settings
    assert _utc(merged.updated_at) >= _utc(before.updated_at)

    # a top-level key is replaced whole (no nested merge), a None value removes a key, a missing key is a no-op
    merged = store.merge_settings(i.id, {"other": {"y": 2}, "toDrop": None, "neverThere": None})
    assert merged.settings["other"] == {"y": 2}
    assert "toDrop" not in merged.settings and "neverThere" not in merged.settings
    assert merged.settings["crmFeature"] == {"pipeline": 7, "stages": ["a", "b"]}
    assert merged.settings["wppApiKey"] == API_KEY
    assert merged.jwt == FAKE_JWT and merged.jwt_expires_at_ms == 1_900_000_000_000

    # nulls inside a value are data, kept as given
    merged = store.merge_settings(i.id, {"nested": {"a": None, "b": [None, 1]}})
    assert merged.settings["nested"] == {"a": None, "b": [None, 1]}

    assert store.merge_settings(i.id, {}).settings == merged.settings


def test_merge_from_stale_copies_keeps_both_changes(store):
    """The seeds' race: two staff members load the same row, one refreshes the token, one renames the number
    (a settings key here). A read-modify-write from their copies would lose one change; the merge must not."""
    i = store.create(ORG_A, "n", {"wppApiKey": API_KEY, "label": "old"})
    copy_1, copy_2 = store.get(i.id), store.get(i.id)
    store.merge_settings(copy_1.id, {"wppJwtToken": FAKE_JWT, "wppJwtExpiresAt": 1})
    store.merge_settings(copy_2.id, {"label": "new"})
    assert store.get(i.id).settings == {"wppApiKey": API_KEY, "label": "new", "wppJwtToken": FAKE_JWT, "wppJwtExpiresAt": 1}


def test_merge_rejects_what_is_not_a_mapping(store):
    i = store.create(ORG_A, "n")
    with pytest.raises(StoreError):
        store.merge_settings(i.id, ["not", "a", "dict"])  # type: ignore[arg-type]


def test_hundred_concurrent_merges_of_distinct_keys_lose_nothing(store):
    i = store.create(ORG_A, "busy", {"wppApiKey": API_KEY, "otherFeature": {"k": "v"}})
    start = threading.Barrier(100)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait(timeout=30)
            store.merge_settings(i.id, {f"key{n:03d}": n})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors[:3]
    settings = store.get(i.id).settings
    assert {k: v for k, v in settings.items() if k.startswith("key")} == {f"key{n:03d}": n for n in range(100)}
    assert settings["wppApiKey"] == API_KEY and settings["otherFeature"] == {"k": "v"}


def test_concurrent_creates_make_exactly_one_primary(store):
    org = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=10) as pool:
        created = list(pool.map(lambda n: store.create(org, f"n{n}"), range(10)))
    assert len({c.id for c in created}) == 10
    assert sum(1 for i in store.list_integrations(org) if i.is_primary) == 1


def test_update_name_last_error_and_clear_error(store):
    i = store.create(ORG_A, "old name", {"wppApiKey": API_KEY})
    assert i.last_error is None and i.last_error_at is None

    renamed = store.update(i.id, name="  New name  ")
    assert renamed.name == "New name" and renamed.settings == i.settings

    failed = store.update(i.id, last_error=f"401 Invalid token for Bearer {FAKE_JWT}")
    assert failed.name == "New name"
    assert failed.last_error.startswith("401 Invalid token")
    assert FAKE_JWT not in failed.last_error
    assert _utc(failed.last_error_at) <= datetime.now(timezone.utc) + timedelta(seconds=5)

    unchanged = store.update(i.id)
    assert (unchanged.name, unchanged.last_error) == ("New name", failed.last_error)

    cleared = store.update(i.id, clear_error=True)
    assert cleared.last_error is None and cleared.last_error_at is None
    assert store.get(i.id).last_error is None


def test_deactivate_keeps_the_row_and_hands_primary_to_the_oldest_active(store):
    a1 = store.create(ORG_A, "first", {"wppApiKey": API_KEY})
    a2 = store.create(ORG_A, "second")
    a3 = store.create(ORG_A, "third")

    off = store.deactivate(a2.id)  # not primary: nothing else changes
    assert (off.is_active, off.is_primary) == (False, False)
    assert store.get(a1.id).is_primary

    off = store.deactivate(a1.id)
    assert (off.is_active, off.is_primary) == (False, False)
    assert off.settings == {"wppApiKey": API_KEY}  # the row and its settings stay
    assert store.get(a3.id).is_primary  # a2 is inactive, so a3 is the oldest active one

    assert [i.id for i in store.list_integrations(ORG_A)] == [a3.id]
    everything = store.list_integrations(ORG_A, include_inactive=True)
    assert [i.id for i in everything] == [a1.id, a2.id, a3.id]
    assert sum(i.is_primary for i in everything) == 1

    store.deactivate(a3.id)
    assert store.list_integrations(ORG_A) == []
    assert not any(i.is_primary for i in store.list_integrations(ORG_A, include_inactive=True))
    assert store.create(ORG_A, "fresh start").is_primary  # no active row left: the new one is primary

    again = store.deactivate(a1.id)  # idempotent
    assert again.is_active is False


def test_rows_of_other_messengers_and_providers_are_left_alone(backend):
    store = backend.store
    tg_id, other_wa_id = str(uuid.uuid4()), str(uuid.uuid4())
    backend.insert_raw({"id": tg_id, "organization_id": ORG_A, "messenger_type": "telegram", "provider": "wpp",
                        "name": "telegram bot", "is_primary": True, "is_active": True, "is_enabled": True,
                        "settings": {"botToken": "t"}})
    backend.insert_raw({"id": other_wa_id, "organization_id": ORG_B, "messenger_type": "whatsapp",
                        "provider": "twilio", "name": "twilio number", "is_primary": True, "is_active": True,
                        "is_enabled": True, "settings": {"sid": "s"}})
    before = {i: backend.fetch_raw(i) for i in (tg_id, other_wa_id)}

    mine = store.create(ORG_A, "mine")
    assert mine.is_primary  # a Telegram primary does not count: one primary per organisation *and messenger*
    b = store.create(ORG_B, "second whatsapp")
    assert not b.is_primary  # org B already has an active primary WhatsApp row (another provider's)

    assert {i.id for i in store.list_integrations(include_inactive=True)} == {mine.id, b.id}
    for foreign in (tg_id, other_wa_id):
        with pytest.raises(IntegrationNotFound):
            store.get(foreign)
        with pytest.raises(IntegrationNotFound):
            store.merge_settings(foreign, {"x": 1})
        with pytest.raises(IntegrationNotFound):
            store.update(foreign, name="hijack")
        with pytest.raises(IntegrationNotFound):
            store.deactivate(foreign)
    store.deactivate(mine.id)
    store.deactivate(b.id)
    assert {i: backend.fetch_raw(i) for i in (tg_id, other_wa_id)} == before


def test_activity_log_newest_first_with_filters(store):
    a = store.create(ORG_A, "a")
    b = store.create(ORG_B, "b")
    e1 = store.log_activity(ActivityEntry(action="create", outcome="ok", actor="anna", integration_id=a.id,
                                          organization_id=ORG_A, detail="created"))
    e2 = store.log_activity(ActivityEntry(action="refresh", outcome="error", actor="boris", integration_id=b.id,
                                          organization_id=ORG_B, detail="401"))
    e3 = store.log_activity(ActivityEntry(action="send", outcome="ok", actor="anna", integration_id=a.id,
                                          organization_id=ORG_A, detail="sent"))
    assert all(e.id is not None for e in (e1, e2, e3))
    assert (e1.action, e1.outcome, e1.actor, e1.integration_id, e1.organization_id, e1.detail) == (
        "create", "ok", "anna", a.id, ORG_A, "created")
    _utc(e1.at)

    assert [e.id for e in store.list_activity()] == [e3.id, e2.id, e1.id]
    assert [e.id for e in store.list_activity(integration_id=a.id)] == [e3.id, e1.id]
    assert [e.id for e in store.list_activity(organization_id=ORG_B)] == [e2.id]
    assert [e.id for e in store.list_activity(organization_id=ORG_A, integration_id=b.id)] == []
    assert [e.id for e in store.list_activity(limit=2)] == [e3.id, e2.id]
    assert store.list_activity(limit=0) == []
    stored = store.list_activity(integration_id=b.id)[0]
    assert (stored.action, stored.outcome, stored.actor, stored.detail) == ("refresh", "error", "boris", "401")


def test_activity_time_given_in_another_zone_is_stored_as_utc(store):
    e = store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna", at="2025-03-01T12:00:00+03:00"))
    assert _utc(e.at) == datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)
    later = store.log_activity(ActivityEntry(action="test", outcome="ok", actor="anna", at="2025-03-01T10:00:00Z"))
    assert [x.id for x in store.list_activity()] == [later.id, e.id]  # ordered by the instant, not the text
    assert _utc(store.list_activity()[1].at) == datetime(2025, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_activity_detail_is_scrubbed_of_secrets(store):
    i = store.create(ORG_A, "n", {"wppApiKey": API_KEY})
    detail = f"minted a token with {API_KEY}: {FAKE_JWT}; header Authorization: Bearer {FAKE_JWT}"
    returned = store.log_activity(ActivityEntry(action="refresh", outcome="ok", actor="anna",
                                                integration_id=i.id, organization_id=ORG_A, detail=detail))
    for e in (returned, store.list_activity(integration_id=i.id)[0]):
        assert FAKE_JWT not in e.detail
        assert API_KEY not in e.detail
        assert e.detail.startswith("minted a token with ")
        assert API_KEY[:4] in e.detail  # masked, still tells two keys apart

    # a key nobody told the store about, but written as key=value
    e = store.log_activity(ActivityEntry(action="create", outcome="error", actor="anna",
                                         detail='platform answered {"apiKey": "zz-unknown-key-998877"}'))
    assert "zz-unknown-key-998877" not in store.list_activity(limit=1)[0].detail
    assert e.detail == store.list_activity(limit=1)[0].detail


def test_timestamps_are_utc_iso8601(store):
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    i = store.create(ORG_A, "n")
    i = store.update(i.id, last_error="x")
    for ts in (i.created_at, i.updated_at, i.last_error_at):
        assert before <= _utc(ts) <= datetime.now(timezone.utc) + timedelta(seconds=5)
    e = store.log_activity(ActivityEntry(action="test", outcome="ok", actor="a"))
    assert before <= _utc(e.at) <= datetime.now(timezone.utc) + timedelta(seconds=5)
    assert before <= _utc(store.list_activity()[0].at)
