"""The gate (issue 11), attacked as someone on the office network would: bad settings, a broken secrets file, demo
mode over real data, password guessing against a colleague, a stolen-looking cookie, short secrets, names made of
Markdown. Every case is recorded in docs/trust.md.
"""
from __future__ import annotations

import pytest

from wpp.access import Identity, SignInSessions, StaffDirectory, hash_password
from wpp.access.throttle import SignInThrottled, WrongCredentials
from wpp.clock import ManualClock
from wpp.config import load_settings
from wpp.errors import AccessDenied, ConfigError, InvalidInput
from wpp.masking import mask
from wpp.store.sqlite import SqliteStore

from .conftest import unreadable_reasons

REAL = {"WPP_BASE_URL": "https://wpp.example.org", "WPP_SECRET": "a-platform-secret-of-some-length"}

# (setting, bad value, what the message must name besides the setting)
BAD_SETTINGS = [
    ("WPP_POLL_SECONDS", "-1", "1"),
    ("WPP_POLL_SECONDS", "0", "1"),
    ("WPP_POLL_SECONDS", "abc", "1"),
    ("WPP_FLEET_CONCURRENCY", "0", "500"),
    ("WPP_FLEET_CONCURRENCY", "501", "500"),
    ("WPP_FLEET_CONCURRENCY", "many", "500"),
    ("WPP_HTTP_TIMEOUT", "0", "0"),
    ("WPP_HTTP_TIMEOUT", "-3", "0"),
    ("WPP_KEY_ACTIVATION_WAIT", "soon", None),
    ("WPP_DEMO_SIGN_IN", "maybe", "yes"),
    ("WPP_ALLOW_ANY_OIDC_ACCOUNT", "sure", "yes"),
    ("WPP_BASE_URL", "ftp://wpp.example.org", "http"),
    ("WPP_BASE_URL", "wpp.example.org", "http"),
    ("SUPABASE_URL", "javascript:alert(1)", "http"),
    ("WPP_SIM_PORT", "70000", "65535"),
    ("WPP_SESSION_HOURS", "0", "0"),
    ("WPP_POLL_CONNECTED_SECONDS", "0.2", "1"),
    ("WPP_ORG_TABLE", "organizations; drop table x", None),
]


@pytest.mark.parametrize("name,value,needle", BAD_SETTINGS, ids=[f"{n}={v}" for n, v, _ in BAD_SETTINGS])
def test_every_bad_setting_is_named_with_its_allowed_range(tmp_path, trust, name, value, needle):
    env = {**REAL, "WPP_DATA_DIR": str(tmp_path), name: value}
    with pytest.raises(ConfigError) as ei:
        load_settings(env=env, secrets_files=[])
    text = ei.value.text
    assert name in text, text
    if needle:
        assert needle in text, text
    assert not unreadable_reasons(ei.value.message), ei.value.message
    trust.input("Configuration (environment)", f"{name} = {value}", f"{name}={value}",
                "error: console does not start", text)


def test_a_broken_secrets_file_names_its_line_and_never_starts_the_demo(tmp_path, trust):
    broken = tmp_path / "secrets.toml"
    broken.write_text('WPP_BASE_URL = "https://wpp.example.org"\nWPP_SECRET = "abc\n[staff]\nalice = "x"\n',
                      encoding="utf-8")
    with pytest.raises(ConfigError) as ei:
        load_settings(env={"WPP_SECRETS_FILE": str(broken), "WPP_DATA_DIR": str(tmp_path)})
    text = ei.value.text + " " + (ei.value.detail or "")
    assert str(broken) in text and "line 2" in text, text
    trust.input("Configuration (secrets.toml)", "syntax error", "an unclosed string on line 2",
                "error: console does not start", ei.value.text)


def test_demo_never_starts_over_real_settings_or_a_real_data_folder(tmp_path, trust):
    with pytest.raises(ConfigError) as ei:
        load_settings(env={"SUPABASE_URL": "https://x.supabase.co", "SUPABASE_KEY": "k" * 40,
                           "WPP_DATA_DIR": str(tmp_path)}, secrets_files=[])
    assert "WPP_BASE_URL" in ei.value.text
    trust.input("Configuration (demo)", "real store, no platform", "SUPABASE_* set, WPP_BASE_URL missing",
                "error: console does not start", ei.value.text)
    (tmp_path / "wpp-console.db").write_bytes(b"")
    with pytest.raises(ConfigError) as ei2:
        load_settings(env={"WPP_DATA_DIR": str(tmp_path)}, secrets_files=[])
    assert "wpp-console.db" in ei2.value.text
    trust.input("Configuration (demo)", "real data folder, nothing configured", "WPP_DATA_DIR with wpp-console.db",
                "error: console does not start", ei2.value.text)


def test_oidc_without_an_allow_list_is_refused(tmp_path, trust):
    auth = {"redirect_uri": "https://c.example/oauth2callback", "cookie_secret": "s" * 40, "client_id": "id",
            "client_secret": "cs", "server_metadata_url": "https://accounts.google.com/.well-known/openid-configuration"}
    with pytest.raises(ConfigError) as ei:
        load_settings(env={**REAL, "WPP_DATA_DIR": str(tmp_path)}, secrets={"auth": auth})
    assert "WPP_ALLOWED_EMAILS" in ei.value.text and "WPP_ALLOW_ANY_OIDC_ACCOUNT" in ei.value.text
    trust.input("Configuration ([auth])", "OIDC, no allow-list", "[auth] without WPP_ALLOWED_EMAILS",
                "error: console does not start", ei.value.text)


def test_guessing_a_colleagues_password_never_locks_her_out(trust):
    clock = ManualClock(1_800_000_000)
    staff = StaffDirectory({"alice": hash_password("correct horse")}, clock=clock)
    wrong = 0
    while wrong < 20:  # an attacker's browser: 20 wrong passwords, each as soon as it is allowed
        try:
            staff.sign_in("alice", "guess", client_key="attacker")
        except SignInThrottled as err:
            clock.advance(err.retry_after)
        except WrongCredentials:
            wrong += 1
    start = clock.time()
    while True:  # alice, from her own browser, with the right password
        try:
            ident = staff.sign_in("alice", "correct horse", client_key="alice-browser")
            break
        except SignInThrottled as err:
            assert not unreadable_reasons(err.message)
            clock.advance(err.retry_after)
    waited = clock.time() - start
    assert ident.username == "alice" and waited <= 30, waited
    with pytest.raises(SignInThrottled) as ei:  # the guessing browser keeps waiting longer and longer
        staff.sign_in("alice", "guess", client_key="attacker")
    assert ei.value.retry_after > 30
    trust.fault("20 wrong passwords for a staff account from one browser",
                f"the right password from another browser signed in after {waited:.0f} s (no lock); the guessing "
                f"browser must now wait {ei.value.retry_after} s (“{ei.value.message}”)")


def test_a_cookie_that_was_tampered_with_ended_or_belongs_to_nobody_signs_nobody_in(tmp_path, trust):
    clock = ManualClock(1_800_000_000)
    store = SqliteStore(tmp_path / "s.db")
    try:
        sessions = SignInSessions(store, clock=clock, lifetime_s=12 * 3600, secret=store.console_secret("sign-in-cookie"))
        ticket, key = sessions.begin_with_key(Identity(name="Alice", username="alice"))
        cookie = sessions.redeem(ticket)
        assert sessions.resolve(cookie)[0].username == "alice"
        assert sessions.redeem(ticket) is None, "a ticket works once"
        cid, sig = cookie.split(".", 1)
        edited = cid[:-1] + ("A" if cid[-1] != "A" else "B")  # one character changed (never the same one)
        for bad in (cid + "." + sig[::-1], edited + "." + sig, "", "x" * 5000, "None", cid):
            assert sessions.resolve(bad) is None, bad
        clock.advance(13 * 3600)
        assert sessions.resolve(cookie) is None, "a sign-in ends after the working day"
        ticket2, key2 = sessions.begin_with_key(Identity(name="Alice", username="alice"))
        cookie2 = sessions.redeem(ticket2)
        sessions.end(key2)
        assert sessions.resolve(cookie2) is None and not sessions.is_active(key2)
    finally:
        store.close()
    trust.fault("a session cookie edited by hand, replayed after the working day, or used after Sign out",
                "refused every time: nobody signed in (signature checked, expiry and revocation read from the store)")


@pytest.mark.parametrize("length", [8, 13, 15, 16, 24, 40, 200])
def test_masking_shows_at_most_a_quarter_of_a_secret(length, trust):
    secret = "".join(chr(ord("a") + i % 26) for i in range(length))
    shown = mask(secret)
    head = shown.split(" (", 1)[0]  # "abcd…klmn (40 chars)": the length is said, not shown
    visible = sum(1 for ch in head if ch.isalpha())
    if length < 16:
        assert not any(ch in shown for ch in secret), shown
    assert visible <= length / 4, (length, shown)
    trust.leaks(f"mask() of a {length}-character secret shows {visible} character(s)", 1, 1,
                int(visible > length / 4 or (length < 16 and visible > 0)))


def test_a_name_made_of_markdown_is_kept_as_typed_and_refused_when_blank(svc, store, trust):
    nasty = "![x](http://127.0.0.1:9/t.png) :green-background[✅ Connected] [link](http://x) <b>hi</b>"
    school = svc.add_organization(nasty, actor="trust")
    out = svc.create_number(school.id, name=nasty, actor="trust")
    view = svc.number(out.integration.id)
    assert view.org_name == nasty and view.name == nasty  # data, escaped only where Markdown is drawn
    with pytest.raises(InvalidInput) as ei:
        svc.rename(out.integration.id, "   ", actor="trust")
    assert store.get(out.integration.id).name == nasty
    trust.input("Connect page: school and number name", "Markdown and HTML", nasty[:60], "accepted as text",
                "kept exactly as typed; pages escape it wherever Markdown is drawn (see the browser test)")
    trust.input("Number page: rename", "blank name", "(spaces)", f"error: {ei.value.kind}", ei.value.message)


def test_sign_in_with_nothing_typed_is_not_a_guess(trust):
    staff = StaffDirectory({"alice": hash_password("pw")}, clock=ManualClock(1_800_000_000))
    with pytest.raises(AccessDenied) as ei:
        staff.sign_in("", "", client_key="b")
    assert staff.wait_for("alice", "b") == 0
    trust.input("Sign-in form", "empty", "(nothing)", f"error: {ei.value.kind}", ei.value.message)
