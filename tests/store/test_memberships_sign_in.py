"""Issue 19, end to end below the page: a Supabase Auth sign-in (GoTrue's documented answer, through supabase-py,
intercepted with respx) is let in only with a membership in the school platform's table on a real PostgreSQL, and a
membership deleted in the database ends that person's access within the re-check time (an injected clock)."""
from __future__ import annotations

import time

import httpx
import psycopg
import pytest
import respx

from wpp.access import supabase_sign_in
from wpp.access.authorize import RECHECK_S, Authorizer, NoAccess
from wpp.access.roles import Role
from wpp.clock import ManualClock
from wpp.store import MemberTable, PostgresStore

pytestmark = pytest.mark.postgres

URL = "https://abcdefghijklmnop.supabase.co"
KEY = "sb_publishable_Zk3qR8vT1mW9xY2aB4cD6eF0"
USER = "8d0fd2b3-9ca6-4a5c-b2a5-bb2f5d3c1e11"
SCHOOL = "0a0a0a0a-0000-4000-8000-00000000000a"


def _gotrue(respx_mock) -> None:
    now = int(time.time())
    respx_mock.post(f"{URL}/auth/v1/token").mock(return_value=httpx.Response(200, json={
        "access_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4ZDBmZDJiMyJ9.c2ln", "token_type": "bearer",
        "expires_in": 3600, "expires_at": now + 3600, "refresh_token": "v1.refresh",
        "user": {"id": USER, "aud": "authenticated", "role": "authenticated", "email": "teacher@school5.ru",
                 "app_metadata": {}, "user_metadata": {"full_name": "Тамара"}, "identities": [],
                 "created_at": "2024-05-01T09:59:00Z", "updated_at": "2024-06-01T09:00:00Z"},
    }))


@pytest.fixture
def platform_db(pg_fresh_dsn):
    """The school platform's own membership table, beside the console's tables."""
    with psycopg.connect(pg_fresh_dsn, autocommit=True) as c:
        c.execute("drop table if exists public.organization_members")
        c.execute("create table public.organization_members (user_id uuid not null, organization_id uuid not null,"
                  " role text)")
    store = PostgresStore(pg_fresh_dsn, member_table=MemberTable("organization_members"))
    yield pg_fresh_dsn, store
    store.close()
    with psycopg.connect(pg_fresh_dsn, autocommit=True) as c:
        c.execute("drop table if exists public.organization_members")


def _sql(dsn: str, query: str, *args) -> None:
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(query, args)


@respx.mock
def test_a_supabase_account_without_membership_cannot_sign_in_and_a_removed_one_is_signed_out(respx_mock, platform_db):
    dsn, store = platform_db
    _gotrue(respx_mock)
    clock = ManualClock(1_000_000.0)
    auth = Authorizer(memberships=store.list_memberships, role_map={"teacher": Role.VIEWER, "manager": Role.OPERATOR},
                      clock=clock)

    who = supabase_sign_in(URL, KEY, "teacher@school5.ru", "correct password")  # Supabase knows her...
    with pytest.raises(NoAccess):
        auth.admit(who)  # ...but nobody gave her a role: refused

    _sql(dsn, "insert into public.organization_members values (%s, %s, 'manager')", USER, SCHOOL)
    access = auth.admit(supabase_sign_in(URL, KEY, "teacher@school5.ru", "correct password"))
    assert access.role_in(SCHOOL) is Role.OPERATOR and not access.all_schools

    _sql(dsn, "delete from public.organization_members where user_id = %s", USER)
    assert not auth.access_for(who).empty  # still within the minute since it was read
    clock.advance(RECHECK_S + 1)
    assert auth.access_for(who).empty, "a removed membership still let her in after the re-check"
    with pytest.raises(NoAccess):
        auth.admit(who)


def test_a_membership_table_that_cannot_be_read_lets_nobody_in(pg_fresh_dsn):
    store = PostgresStore(pg_fresh_dsn, member_table=MemberTable("no_such_members"))
    try:
        from wpp.access import Identity
        from wpp.errors import StoreError

        auth = Authorizer(memberships=store.list_memberships)
        with pytest.raises(StoreError):
            auth.admit(Identity(name="T", username="t@x.ru", method="supabase", email="t@x.ru", user_id=USER))
    finally:
        store.close()
