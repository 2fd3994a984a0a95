"""StaffDirectory: sign-in for the [staff] accounts, lockout, no user enumeration."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from wpp import access
from wpp.access import Identity, StaffDirectory
from wpp.clock import ManualClock
from wpp.errors import AccessDenied

WRONG = "Wrong name or password."
LOCKED = "Too many wrong passwords: this account is locked for"


@pytest.fixture
def clock():
    return ManualClock(start=1_700_000_000)


@pytest.fixture
def events():
    return []


@pytest.fixture
def directory(anna_hash, clock, events):
    return StaffDirectory(
        {"anna": anna_hash}, clock=clock, on_event=lambda event, user: events.append((event, user))
    )


def _deny(directory, username, password) -> AccessDenied:
    with pytest.raises(AccessDenied) as info:
        directory.sign_in(username, password)
    return info.value


def test_right_password_signs_in(directory, staff_password):
    who = directory.sign_in("anna", staff_password)
    assert isinstance(who, Identity)
    assert (who.name, who.username, who.method, who.supabase_jwt) == ("anna", "anna", "staff", None)


def test_name_is_not_case_or_space_sensitive(directory, staff_password):
    assert directory.sign_in("  Anna ", staff_password).username == "anna"


def test_same_message_for_unknown_user_and_wrong_password(directory):
    wrong_pw = _deny(directory, "anna", "guess")
    unknown = _deny(directory, "boris", "guess")
    assert wrong_pw.message == unknown.message == WRONG
    assert str(wrong_pw) == str(unknown)
    assert wrong_pw.status == unknown.status
    assert "guess" not in str(wrong_pw) and "anna" not in str(wrong_pw)


def test_unknown_user_costs_a_real_hash_verification(directory, monkeypatch):
    seen = []
    real = access.verify_password

    def spy(password, stored):
        seen.append(stored)
        return real(password, stored)

    monkeypatch.setattr(access, "verify_password", spy)
    _deny(directory, "boris", "guess")
    assert len(seen) == 1
    scheme, n, *_ = seen[0].split("$")
    assert scheme == "scrypt" and int(n) >= 2**14  # same work as for a real account


def test_lockout_after_five_failures_and_unlock_after_lockout_s(directory, clock, staff_password):
    for _ in range(4):
        assert _deny(directory, "anna", "guess").message == WRONG
    fifth = _deny(directory, "anna", "guess")
    assert fifth.message == "Too many wrong passwords: this account is locked for 5 more minutes."
    # locked: even the right password is refused, without saying whether it was right
    assert _deny(directory, "anna", staff_password).message.startswith(LOCKED)
    clock.advance(240)
    assert _deny(directory, "anna", staff_password).message == (
        "Too many wrong passwords: this account is locked for 1 more minute."
    )
    assert directory.locked_for("anna") == pytest.approx(60)
    clock.advance(60)
    assert directory.locked_for("anna") == 0
    assert directory.sign_in("anna", staff_password).username == "anna"


def test_after_a_lock_expires_the_count_starts_again(directory, clock):
    for _ in range(5):
        _deny(directory, "anna", "guess")
    clock.advance(301)
    for _ in range(4):
        assert _deny(directory, "anna", "guess").message == WRONG
    assert _deny(directory, "anna", "guess").message.startswith(LOCKED)


def test_success_resets_the_count(directory, staff_password):
    for _ in range(4):
        _deny(directory, "anna", "guess")
    directory.sign_in("anna", staff_password)
    for _ in range(4):
        assert _deny(directory, "anna", "guess").message == WRONG


def test_failures_outside_the_window_do_not_add_up(directory, clock):
    for _ in range(4):
        _deny(directory, "anna", "guess")
    clock.advance(301)
    for _ in range(4):
        assert _deny(directory, "anna", "guess").message == WRONG


def test_unknown_user_is_locked_the_same_way(directory, clock):
    known = [_deny(directory, "anna", "guess").message for _ in range(6)]
    unknown = [_deny(directory, "nobody", "guess").message for _ in range(6)]
    assert known == unknown
    assert unknown[-1].startswith(LOCKED)
    clock.advance(300)
    assert _deny(directory, "nobody", "guess").message == WRONG


def test_lock_is_per_username(directory, anna_hash, clock, staff_password):
    for _ in range(5):
        _deny(directory, "boris", "guess")
    assert directory.sign_in("anna", staff_password).username == "anna"
    # and the case-folded spelling of a locked name is the same account
    for _ in range(5):
        _deny(directory, "ANNA", "guess")
    assert _deny(directory, "anna", staff_password).message.startswith(LOCKED)


def test_empty_form_is_refused_without_counting(directory, staff_password):
    for _ in range(10):
        _deny(directory, "anna", "")
        _deny(directory, "", "x")
    assert directory.sign_in("anna", staff_password).username == "anna"


def test_concurrent_wrong_passwords_lock_exactly_once(directory, events):
    errors: list[BaseException] = []
    messages: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def hammer(username):
        start.wait()
        for _ in range(4):
            try:
                directory.sign_in(username, "guess")
            except AccessDenied as exc:
                with lock:
                    messages.append(exc.message)
            except BaseException as exc:  # noqa: BLE001 - any other failure is a bug
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=hammer, args=("anna" if i % 2 else "nobody",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    assert len(messages) == 64
    counts = Counter(events)
    for user in ("anna", "nobody"):
        assert counts[("failure", user)] == 5  # exactly five guesses were checked ...
        assert counts[("locked", user)] == 1  # ... the lock started once ...
        assert counts[("refused_locked", user)] == 27  # ... and every later try was refused unchecked
    assert Counter(m == WRONG for m in messages) == {True: 8, False: 56}


def test_bad_hashes_in_the_configuration_never_sign_in(clock, staff_password, anna_hash):
    d = StaffDirectory({"plain": staff_password, "md5": "5f4dcc3b5aa765d61d8327deb882cf99", "anna": anna_hash}, clock=clock)
    assert _deny(d, "plain", staff_password).message == WRONG
    assert _deny(d, "md5", "password").message == WRONG
    assert any("'plain'" in p and "scrypt or pbkdf2" in p for p in d.problems)
    assert any("'md5'" in p for p in d.problems)
    assert all(staff_password not in p for p in d.problems)
    assert d.sign_in("anna", staff_password).username == "anna"


def test_directory_repr_shows_no_hashes(directory, anna_hash):
    assert anna_hash not in repr(directory)
    assert "anna" in directory and "boris" not in directory
