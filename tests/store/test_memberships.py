"""The school platform's membership table (who belongs to which school, with which role), read through
``IntegrationStore.list_memberships`` on every backend that runs here: ``sqlite`` (a table in the file),
``postgres`` and ``postgres-legacy`` (a real PostgreSQL; uuid columns, compared as text).

A table that is configured but missing or unreadable is a StoreError (callers fail closed on it), never ``[]``.
"""
from __future__ import annotations

import pytest

from wpp.errors import StoreError
from wpp.store import MemberTable

ORG_A = "0a0a0a0a-0000-4000-8000-00000000000a"
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"
ANNA = "11111111-1111-4111-8111-111111111111"
BORIS = "22222222-2222-4222-8222-222222222222"
NOBODY = "33333333-3333-4333-8333-333333333333"
API_KEY = "wppkey_5f1d2c3b4a5968778695a4b3c2d1e0f9"


@pytest.fixture
def members(backend):
    """A store reading the default membership table (organization_members: user_id, organization_id, role)."""
    store = backend.reopen(member_table=MemberTable("organization_members"))
    yield store
    store.close()


def test_the_rows_of_one_user_and_only_theirs(backend, members):
    backend.plant_members([(ANNA, ORG_A, "teacher"), (ANNA, ORG_B, None), (BORIS, ORG_A, "owner"),
                           (BORIS, ORG_B, "manager")])
    assert members.list_memberships(ANNA) == [(ORG_A, "teacher"), (ORG_B, "")]  # a NULL role is ""
    assert members.list_memberships(BORIS) == [(ORG_A, "owner"), (ORG_B, "manager")]
    assert members.list_memberships(NOBODY) == []
    assert members.list_memberships(ANNA.upper()) == [(ORG_A, "teacher"), (ORG_B, "")]  # one uuid, any case
    for nothing in ("", "   ", None, 42, "x" * 500):
        assert members.list_memberships(nothing) == []


def test_no_table_configured_reads_nothing(backend):
    backend.plant_members([(ANNA, ORG_A, "owner")])
    assert backend.store.list_memberships(ANNA) == []  # the default: no membership table
    none = backend.reopen(member_table=None)
    try:
        assert none.list_memberships(ANNA) == []
    finally:
        none.close()


def test_configured_table_and_columns(backend):
    backend.plant_members([(ANNA, ORG_B, "Teacher"), (BORIS, ORG_A, "Owner")], table="members", user_column="uid",
                          org_column="school_id", role_column="kind")
    store = backend.reopen(member_table=MemberTable("members", user_column="uid", org_column="school_id",
                                                    role_column="kind"))
    try:
        assert store.list_memberships(ANNA) == [(ORG_B, "Teacher")]  # the platform's own text, as it is
    finally:
        store.close()


def test_a_table_in_another_schema(backend):
    if backend.name == "sqlite":
        # SQLite has no schemas (only attached files): such a setting fails closed, it never reads nothing
        store = backend.reopen(member_table=MemberTable("crm.organization_members"))
        try:
            with pytest.raises(StoreError):
                store.list_memberships(ANNA)
        finally:
            store.close()
        return
    backend.plant_members([(ANNA, ORG_A, "owner")], schema="crm")
    store = backend.reopen(member_table=MemberTable("crm.organization_members"))
    try:
        assert store.list_memberships(ANNA) == [(ORG_A, "owner")]
    finally:
        store.close()


def _assert_no_secret(err: StoreError, *secrets: str) -> None:
    for text in (str(err), repr(err), err.message, err.action, err.detail or "", err.english):
        for secret in secrets:
            assert secret not in str(text)


def test_a_missing_table_is_a_store_error_naming_it(backend, members):
    members.create(ORG_A, "Reception", {"wppApiKey": API_KEY})  # a secret the store now knows
    members.list_integrations()
    with pytest.raises(StoreError) as info:
        members.list_memberships(ANNA)
    err = info.value
    assert "organization_members" in str(err.message) and "cannot be read" in str(err.message)
    assert "WPP_MEMBER_TABLE" in str(err.action) and "WPP_MEMBER_ROLE_COLUMN" in str(err.action)
    _assert_no_secret(err, API_KEY)


def test_a_missing_column_is_a_store_error_naming_the_table(backend):
    backend.plant_members([(ANNA, ORG_A, "owner")])
    wrong = backend.reopen(member_table=MemberTable("organization_members", role_column="title"))
    try:
        with pytest.raises(StoreError) as info:
            wrong.list_memberships(ANNA)
        assert "organization_members" in str(info.value.message)
        assert "WPP_MEMBER_ROLE_COLUMN" in str(info.value.action)
        with pytest.raises(StoreError):  # also for an id that matches nobody: fail closed, whoever asks
            wrong.list_memberships("")
    finally:
        wrong.close()


@pytest.mark.parametrize("evil", [
    "' or '1'='1",
    "x'); drop table organization_members; --",
    '"; drop table organization_members; --',
    f"{ANNA}' or user_id is not null --",
    "%s %(x)s {}",
])
def test_a_user_id_with_quotes_or_sql_is_harmless(backend, members, evil):
    backend.plant_members([(ANNA, ORG_A, "owner"), (BORIS, ORG_B, "teacher")])
    assert members.list_memberships(evil) == []
    assert members.list_memberships(ANNA) == [(ORG_A, "owner")]  # the table is still there, unchanged


@pytest.mark.parametrize("bad", [
    MemberTable("organization_members; drop table x"),
    MemberTable("a.b.c"),
    MemberTable('"quoted"'),
    MemberTable(""),
    MemberTable("members", user_column="user_id) or (1=1"),
    MemberTable("members", org_column="1org"),
    MemberTable("members", role_column="x" * 64),
])
def test_membership_table_names_are_checked_before_use(backend, bad):
    with pytest.raises(StoreError) as info:
        backend.reopen(member_table=bad)
    assert "WPP_MEMBER_" in str(info.value.message)
