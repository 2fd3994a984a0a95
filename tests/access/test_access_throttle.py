"""Sign-in throttling that cannot be turned against staff (issue 11.4): growing delays per account and per client,
never a lock. Time is a ManualClock: no test waits."""
from __future__ import annotations

import threading
from collections import Counter

import pytest

from wpp.access import SignInThrottled, StaffDirectory, Throttle, WrongCredentials
from wpp.errors import AccessDenied
from wpp.i18n import use_language


@pytest.fixture
def events():
    return []


@pytest.fixture
def directory(anna_hash, clock, events):
    return StaffDirectory({"anna": anna_hash}, clock=clock,
                          on_event=lambda event, user, client: events.append((event, user, client)))


def guess_until_counted(directory, clock, username, client, times):
    """Make ``times`` wrong attempts that are really checked, waiting out every delay as a patient attacker would."""
    waited = 0.0
    counted = 0
    while counted < times:
        try:
            directory.sign_in(username, "wrong password", client_key=client)
        except SignInThrottled as exc:
            clock.advance(exc.retry_after)
            waited += exc.retry_after
        except WrongCredentials:
            counted += 1
    return waited


def test_twenty_wrong_passwords_from_one_browser_never_lock_the_person_out(directory, clock, staff_password, events):
    """The acceptance case: 20 wrong attempts from client A, then the right password from client B signs in within
    30 s (B may be told to wait; it succeeds after waiting)."""
    guess_until_counted(directory, clock, "anna", "browser-A", 20)
    assert Counter(e for e, *_ in events)["failure"] == 20

    started = clock.time()
    who = None
    for _ in range(5):
        try:
            who = directory.sign_in("anna", staff_password, client_key="browser-B")
            break
        except SignInThrottled as exc:
            assert exc.retry_after <= 30
            clock.advance(exc.retry_after)
    assert who is not None and who.username == "anna"
    assert clock.time() - started < 30
    assert events[-1] == ("success", "anna", "browser-B")


def test_the_attacking_browser_waits_minutes(directory, clock):
    guess_until_counted(directory, clock, "anna", "browser-A", 14)
    wait = directory.wait_for("boris", "browser-A")  # any name: the browser itself is slowed down
    assert wait >= 5 * 60


def test_per_client_delays_grow(directory, clock):
    seen = []
    for _ in range(12):
        try:
            directory.sign_in(f"user{len(seen)}", "guess", client_key="browser-A")  # a new name each time
        except WrongCredentials as exc:
            seen.append(exc.retry_after)
        except SignInThrottled as exc:
            clock.advance(exc.retry_after)
            continue
        clock.advance(max(0, directory.wait_for("someone-else", "browser-A")))
    assert seen[:3] == [0, 0, 0]  # typos cost nothing
    assert all(b >= a for a, b in zip(seen, seen[1:]))  # then the waits only grow ...
    assert seen[-1] >= 60 * seen[3] / 2  # ... a lot
    assert seen[-1] <= Throttle.client_cap_s


def test_per_account_delay_is_capped_low(directory, clock):
    """Many browsers guessing one account: the account's own wait never exceeds its cap."""
    for i in range(40):
        try:
            directory.sign_in("anna", "guess", client_key=f"bot-{i}")
        except SignInThrottled as exc:
            assert exc.retry_after <= Throttle.account_cap_s
            clock.advance(exc.retry_after)
        except WrongCredentials as exc:
            assert exc.retry_after <= Throttle.account_cap_s
    assert directory.wait_for("anna", "fresh-browser") <= Throttle.account_cap_s


def test_a_too_early_attempt_is_not_checked_and_not_counted(directory, clock, staff_password, events, monkeypatch):
    guess_until_counted(directory, clock, "anna", "browser-A", 6)
    before = Counter(e for e, *_ in events)
    from wpp.access import passwords

    checked = []
    monkeypatch.setattr(passwords, "verify_password", lambda *a: checked.append(a) or True)
    for _ in range(10):
        with pytest.raises(SignInThrottled) as info:
            directory.sign_in("anna", staff_password, client_key="browser-A")
    assert checked == []  # the password was never looked at, not even the right one
    after = Counter(e for e, *_ in events)
    assert after["failure"] == before["failure"] == 6
    assert after["throttled"] - before["throttled"] == 10
    assert info.value.retry_after >= 1


def test_throttled_message_says_how_long_to_wait(directory, clock):
    guess_until_counted(directory, clock, "anna", "browser-A", 8)
    with pytest.raises(SignInThrottled) as info:
        directory.sign_in("anna", "guess", client_key="browser-A")
    err = info.value
    assert isinstance(err, AccessDenied)
    wait = err.retry_after
    expected = f"{wait} seconds" if wait < 120 else f"{-(-wait // 60)} minutes"
    assert expected in err.message
    assert "guess" not in str(err) and "anna" not in str(err)
    with use_language("ru"):
        assert err.message  # translated when shown (English until the catalogue has it)


def test_no_hard_lock_waiting_always_helps(directory, clock, staff_password):
    guess_until_counted(directory, clock, "anna", "browser-A", 30)
    clock.advance(directory.wait_for("anna", "browser-A"))
    # even the attacking browser gets in with the right password once it has waited
    assert directory.sign_in("anna", staff_password, client_key="browser-A").username == "anna"


def test_waits_are_forgotten_after_a_quiet_while(directory, clock):
    guess_until_counted(directory, clock, "anna", "browser-A", 10)
    clock.advance(2 * 3600)
    assert directory.wait_for("anna", "browser-A") == 0
    assert directory.throttle.wait_for("anna", "browser-A") == 0


def test_without_a_client_key_only_the_account_delay_applies(directory, clock):
    for _ in range(30):
        try:
            directory.sign_in("anna", "guess")
        except SignInThrottled as exc:
            assert exc.retry_after <= Throttle.account_cap_s
            clock.advance(exc.retry_after)
        except WrongCredentials:
            pass


def test_event_hook_failures_never_break_signing_in(anna_hash, clock, staff_password):
    def broken(*_):
        raise RuntimeError("activity log is down")

    d = StaffDirectory({"anna": anna_hash}, clock=clock, on_event=broken)
    with pytest.raises(WrongCredentials):
        d.sign_in("anna", "guess")
    assert d.sign_in("anna", staff_password).username == "anna"


def test_parallel_guesses_for_one_account_are_counted_one_by_one(directory, events):
    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def hammer():
        start.wait()
        for _ in range(3):
            try:
                directory.sign_in("anna", "guess", client_key=f"c-{threading.get_ident()}")
            except AccessDenied:
                pass
            except BaseException as exc:  # noqa: BLE001 - anything else is a bug
                errors.append(exc)

    threads = [threading.Thread(target=hammer) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    counts = Counter(e for e, *_ in events)
    # the clock does not move: after the free tries every further attempt must wait, however many ran in parallel
    assert counts["failure"] == Throttle.account_free
    assert counts["throttled"] == 36 - Throttle.account_free


def test_throttle_schedule_is_what_the_docs_say():
    t = Throttle()
    assert [t.account_delay(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 10, 10]
    assert [t.client_delay(n) for n in range(1, 6)] == [0, 0, 0, 2, 4]
    assert t.client_delay(100) == 15 * 60
