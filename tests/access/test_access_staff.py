"""StaffDirectory: sign-in for the [staff] accounts; throttled, never locked; no user enumeration."""
from __future__ import annotations

import pytest

from wpp.access import Identity, SignInThrottled, StaffDirectory, WrongCredentials, passwords
from wpp.access import staff as staff_module
from wpp.errors import AccessDenied

WRONG = "Wrong name or password."


@pytest.fixture
def events():
    return []


@pytest.fixture
def directory(anna_hash, clock, events):
    return StaffDirectory({"anna": anna_hash}, clock=clock,
                          on_event=lambda event, user, client: events.append((event, user, client)))


def _deny(directory, username, password, client="browser-1") -> AccessDenied:
    with pytest.raises(AccessDenied) as info:
        directory.sign_in(username, password, client_key=client)
    return info.value


def test_right_password_signs_in(directory, staff_password, events):
    who = directory.sign_in("anna", staff_password, client_key="browser-1")
    assert isinstance(who, Identity)
    assert (who.name, who.username, who.method, who.supabase_jwt) == ("anna", "anna", "staff", None)
    assert events == [("success", "anna", "browser-1")]


def test_name_is_not_case_or_space_sensitive(directory, staff_password):
    assert directory.sign_in("  Anna ", staff_password).username == "anna"


def test_same_message_for_unknown_user_and_wrong_password(directory):
    wrong_pw = _deny(directory, "anna", "guess")
    unknown = _deny(directory, "boris", "guess")
    assert isinstance(wrong_pw, WrongCredentials) and isinstance(unknown, WrongCredentials)
    assert wrong_pw.message == unknown.message == WRONG
    assert str(wrong_pw) == str(unknown)
    assert wrong_pw.status == unknown.status
    assert "guess" not in str(wrong_pw) and "anna" not in str(wrong_pw)


def test_unknown_user_costs_a_real_hash_verification(directory, monkeypatch):
    seen = []
    real = passwords.verify_password

    def spy(password, stored):
        seen.append(stored)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", spy)
    _deny(directory, "boris", "guess")
    _deny(directory, "anna", "guess")
    assert len(seen) == 2
    for stored in seen:
        scheme, n, r, p, *_ = stored.split("$")
        assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**14, 8, 1)  # the same work as for a real account


def test_unknown_and_known_names_are_throttled_alike(directory, clock):
    """Neither the words nor the waits tell which names exist."""
    def story(name, client):
        out = []
        for _ in range(8):
            try:
                directory.sign_in(name, "guess", client_key=client)
            except SignInThrottled as exc:
                out.append(("wait", exc.retry_after, exc.message))
                clock.advance(exc.retry_after)
            except WrongCredentials as exc:
                out.append(("wrong", exc.retry_after, exc.message))
        return out

    assert story("anna", "browser-a") == story("nobody", "browser-b")


def test_a_success_clears_the_waits(directory, clock, staff_password):
    for _ in range(3):
        _deny(directory, "anna", "guess")
    assert directory.wait_for("anna", "browser-1") > 0
    clock.advance(directory.wait_for("anna", "browser-1"))
    directory.sign_in("anna", staff_password, client_key="browser-1")
    assert directory.wait_for("anna", "browser-1") == 0
    assert _deny(directory, "anna", "guess").message == WRONG


def test_empty_form_is_refused_without_counting(directory, staff_password, events):
    for _ in range(10):
        assert _deny(directory, "anna", "").message == "Enter your name and password."
        _deny(directory, "", "x")
        _deny(directory, "   ", "x")
    assert events == []
    assert directory.sign_in("anna", staff_password, client_key="browser-1").username == "anna"


def test_bad_hashes_in_the_configuration_never_sign_in(clock, staff_password, anna_hash):
    d = StaffDirectory({"plain": staff_password, "md5": "5f4dcc3b5aa765d61d8327deb882cf99", "anna": anna_hash},
                       clock=clock)
    assert _deny(d, "plain", staff_password, client="c1").message == WRONG
    assert _deny(d, "md5", "password", client="c2").message == WRONG
    problems = [str(p) for p in d.problems]
    assert any("“plain”" in p and "scrypt or pbkdf2" in p for p in problems)
    assert any("“md5”" in p for p in problems)
    assert all(staff_password not in p for p in problems)
    assert d.sign_in("anna", staff_password).username == "anna"


def test_names_differing_only_in_case_cannot_sign_in(clock, anna_hash, staff_password):
    d = StaffDirectory({"anna": anna_hash, "ANNA": anna_hash, "boris": anna_hash}, clock=clock)
    assert "anna" not in d and "boris" in d
    assert _deny(d, "anna", staff_password).message == WRONG
    assert any("upper/lower case" in str(p) for p in d.problems)


def test_directory_repr_shows_no_hashes(directory, anna_hash):
    assert anna_hash not in repr(directory)
    assert "anna" in directory and "boris" not in directory
    assert directory.usernames == ["anna"] and len(directory) == 1


def test_directories_can_share_one_throttle(anna_hash, clock, staff_password):
    """One throttle per process: a second directory (e.g. after the settings were reloaded) keeps the waits."""
    first = StaffDirectory({"anna": anna_hash}, clock=clock)
    second = StaffDirectory({"anna": anna_hash}, clock=clock, throttle=first.throttle)
    for _ in range(5):
        try:
            first.sign_in("anna", "guess", client_key="c")
        except AccessDenied:
            pass
    assert second.wait_for("anna", "c") == first.wait_for("anna", "c") > 0
    assert staff_module.StaffDirectory is StaffDirectory
