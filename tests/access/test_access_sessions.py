"""Lasting sign-ins (issue 13): a ticket, a signed cookie, server-side sessions that can be ended at once.

Run against the real SQLite store (what the console uses) and against the in-memory stand-in of the protocol."""
from __future__ import annotations

import hashlib
import json

import pytest

from wpp.access import COOKIE_NAME, Identity, SignInSessions, cookie_kwargs, demo_identity, set_cookie_header
from wpp.masking import Secret

from .fakes import FakeSignInStore

HOURS = 3600.0
ANNA = Identity(name="Anna Petrova", username="anna", method="staff")
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"


@pytest.fixture(params=["sqlite", "in-memory"])
def store(request, tmp_path):
    if request.param == "in-memory":
        yield FakeSignInStore()
        return
    from wpp.store.sqlite import SqliteStore

    s = SqliteStore(tmp_path / "wpp-console.db")
    yield s
    s.close()


@pytest.fixture
def sessions(store, clock):
    return SignInSessions(store, clock=clock, lifetime_s=12 * HOURS, secret=store.console_secret("sign-in-cookie"))


def sign_in(sessions, who=ANNA) -> str:
    return sessions.redeem(sessions.begin(who))


def test_begin_redeem_resolve_gives_the_person_back(sessions):
    cookie = sign_in(sessions)
    assert cookie
    who, key = sessions.resolve(cookie)
    assert (who.name, who.username, who.method) == ("Anna Petrova", "anna", "staff")
    assert sessions.is_active(key)
    # F5, a second tab, a console restart: the same cookie keeps working (a new SignInSessions on the same store)
    again = SignInSessions(sessions.store, clock=sessions._clock, lifetime_s=12 * HOURS,
                           secret=sessions.store.console_secret("sign-in-cookie"))
    assert again.resolve(cookie) == (who, key)


def test_the_store_keeps_hashes_and_the_cookie_holds_nothing_about_the_person(sessions, store):
    ticket = sessions.begin(ANNA)
    cookie = sessions.redeem(ticket)
    cookie_id, signature = cookie.split(".")
    _, key = sessions.resolve(cookie)
    stored = store.get_sign_in_session(key=key)
    assert stored.id_hash == hashlib.sha256(cookie_id.encode()).hexdigest()
    assert stored.ticket_hash is None
    everything = json.dumps([stored.identity, stored.id_hash, stored.key])
    assert ticket not in everything and cookie_id not in everything
    for word in ("anna", "Anna", "staff", key):
        assert word not in cookie


def test_a_supabase_token_is_never_kept(sessions, store):
    who = Identity(name="Anna", username="anna@example.com", method="supabase", supabase_jwt=Secret(JWT),
                   supabase_refresh_token=Secret("v1.refresh-token-abc"), email="anna@example.com")
    cookie = sign_in(sessions, who)
    restored, key = sessions.resolve(cookie)
    assert restored.supabase_jwt is None and restored.email == "anna@example.com"
    stored = json.dumps(store.get_sign_in_session(key=key).identity)
    assert JWT not in stored and "refresh-token" not in stored


def test_a_ticket_works_once(sessions):
    ticket = sessions.begin(ANNA)
    assert sessions.redeem(ticket)
    assert sessions.redeem(ticket) is None


def test_a_ticket_expires_after_two_minutes(sessions, clock):
    ticket = sessions.begin(ANNA)
    clock.advance(121)
    assert sessions.redeem(ticket) is None


@pytest.mark.parametrize("ticket", [None, "", "x", "not a ticket!", "a" * 500, 12345])
def test_garbage_tickets_are_refused(sessions, ticket):
    sessions.begin(ANNA)
    assert sessions.redeem(ticket) is None


def test_a_tampered_signature_is_refused(sessions):
    cookie = sign_in(sessions)
    cookie_id, signature = cookie.split(".")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    for bad in (f"{cookie_id}.{flipped}", f"{cookie_id}.", cookie_id, f"{cookie_id[:-1]}x.{signature}",
                f"{cookie_id}.{signature}.x", "", None, "a" * 2000, f" {cookie}"):
        assert sessions.resolve(bad) is None, bad


def test_a_cookie_signed_with_another_secret_is_refused(sessions, store, clock):
    cookie = sign_in(sessions)
    other = SignInSessions(store, clock=clock, lifetime_s=12 * HOURS, secret="f" * 64)
    assert other.resolve(cookie) is None


def test_a_well_signed_cookie_for_no_session_is_refused(sessions, store):
    """A valid signature is not enough: the id must be one the store knows."""
    import secrets as pysecrets

    cookie_id = pysecrets.token_urlsafe(32)
    forged = f"{cookie_id}.{sessions._sign(cookie_id)}"
    assert sessions.resolve(forged) is None


def test_a_sign_in_expires_after_its_lifetime(sessions, clock):
    cookie = sign_in(sessions)
    _, key = sessions.resolve(cookie)
    clock.advance(12 * HOURS - 60)
    assert sessions.resolve(cookie) is not None
    clock.advance(61)
    assert sessions.resolve(cookie) is None
    clock.advance(3)
    assert not sessions.is_active(key)


def test_sign_out_ends_it_for_that_browser_only(sessions):
    anna_cookie = sign_in(sessions)
    boris_cookie = sign_in(sessions, Identity(name="Boris", username="boris", method="staff"))
    _, anna_key = sessions.resolve(anna_cookie)
    sessions.end(anna_key)
    assert sessions.resolve(anna_cookie) is None
    assert not sessions.is_active(anna_key)
    assert sessions.resolve(boris_cookie)[0].name == "Boris"


def test_ended_elsewhere_is_noticed_within_two_seconds(store, clock):
    """Two replicas (or two processes) share the store: a sign-out on one is seen by the other's tabs."""
    secret = store.console_secret("sign-in-cookie")
    here = SignInSessions(store, clock=clock, lifetime_s=12 * HOURS, secret=secret)
    there = SignInSessions(store, clock=clock, lifetime_s=12 * HOURS, secret=secret)
    cookie = sign_in(here)
    _, key = here.resolve(cookie)
    assert here.is_active(key)
    there.end(key)
    assert there.is_active(key) is False  # at once where it was ended
    clock.advance(2.1)
    assert here.is_active(key) is False  # and after the short cache elsewhere
    assert here.resolve(cookie) is None  # the cookie itself is refused at once everywhere


def test_is_active_is_cheap_to_ask_on_every_run(sessions, clock):
    store = FakeSignInStore()
    s = SignInSessions(store, clock=clock, lifetime_s=HOURS, secret=store.console_secret("x"))
    _, key = s.resolve(sign_in(s))
    reads = store.reads
    for _ in range(50):
        assert s.is_active(key)
    assert store.reads == reads
    clock.advance(2.5)
    assert s.is_active(key)
    assert store.reads == reads + 1
    assert s.is_active(None) is False and s.is_active("") is False and s.is_active("no-such-key") is False


def test_last_seen_is_written_at_most_once_a_minute(clock):
    store = FakeSignInStore()
    s = SignInSessions(store, clock=clock, lifetime_s=HOURS, secret=store.console_secret("x"))
    cookie = sign_in(s)
    for _ in range(30):
        s.resolve(cookie)
        clock.advance(1)
    assert store.touches == 1
    clock.advance(31)
    s.resolve(cookie)
    assert store.touches == 2


def test_old_sign_ins_are_purged(clock):
    store = FakeSignInStore()
    s = SignInSessions(store, clock=clock, lifetime_s=HOURS, secret=store.console_secret("x"))
    sign_in(s)
    clock.advance(2 * HOURS)
    s.begin(demo_identity())  # begin() tidies up now and then
    assert len(store.sessions) == 1


def test_cookie_attributes():
    kw = cookie_kwargs("abc.def", max_age=12 * HOURS, https=True)
    assert kw == {"key": COOKIE_NAME, "value": "abc.def", "max_age": 43200, "path": "/", "secure": True,
                  "httponly": True, "samesite": "lax"}
    assert cookie_kwargs("abc.def", max_age=60, https=False)["secure"] is False
    header = set_cookie_header("abc.def", max_age=3600, https=True)
    parts = {p.strip().split("=")[0].lower() for p in header.split(";")}
    assert header.startswith("wpp_session=abc.def")
    assert {"httponly", "secure", "path", "max-age", "samesite"} <= parts
    assert "SameSite=Lax" in header and "Max-Age=3600" in header and "Path=/" in header
    assert "secure" not in set_cookie_header("abc.def", max_age=3600, https=False).lower()


def test_cookie_attributes_follow_the_lifetime(sessions):
    assert sessions.cookie_kwargs("v.s", https=False)["max_age"] == 12 * 3600
    assert "Max-Age=43200" in sessions.set_cookie_header("v.s", https=True)


def test_weak_secret_or_lifetime_is_refused(store, clock):
    with pytest.raises(ValueError):
        SignInSessions(store, clock=clock, lifetime_s=HOURS, secret="short")
    with pytest.raises(ValueError):
        SignInSessions(store, clock=clock, lifetime_s=0, secret="x" * 64)


def test_reprs_show_no_secret(sessions):
    assert sessions._key.decode() not in repr(sessions)


def test_the_tab_that_signed_in_knows_its_key_at_once(sessions):
    ticket, key = sessions.begin_with_key(ANNA)
    assert sessions.is_active(key)
    cookie = sessions.redeem(ticket)
    assert sessions.resolve(cookie)[1] == key
    sessions.end(key)  # "Sign out" in that tab before the cookie was even used
    assert sessions.resolve(cookie) is None
