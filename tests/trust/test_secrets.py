"""Secrets (issue 6): after a full journey, no full apiKey, JWT, platform secret or Supabase key appears in
anything logged (every logger at DEBUG, stderr), in any page's visible text in the default view, or in the
reprs of the objects that carry them. Masked forms (at most a quarter of a secret's characters) are fine."""
from __future__ import annotations

import logging
import time

import pytest

from tests.app.conftest import app, app_env, entry_script_reruns  # noqa: F401  (fixtures)

from wpp.config import load_settings
from wpp.errors import InvalidApiKey, InvalidToken, PlatformError, WppError
from wpp.masking import Secret

from .conftest import ORG, ORG2
from .helpers import ShapingTransport, outcome_of
from .uihelpers import everything_on_page, services

SUPABASE_KEY = "sb-service-role-" + "9f8e7d6c5b4a" * 4
VERIFY_KEY = "jwt-verify-key-" + "0a1b2c3d" * 4


def leaks_in(text: str, secrets: set[str]) -> list[str]:
    return sorted({f"{s[:4]}…({len(s)} chars)" for s in secrets if s and s in text})


class LogCatcher(logging.Handler):
    """Every record of every logger (also the ones that do not propagate, such as streamlit's)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record):
        try:
            self.lines.append(self.format(record))
        except Exception as exc:  # noqa: BLE001 - a record that cannot format is itself worth seeing
            self.lines.append(f"unformattable record {record.name}: {exc!r}")


@pytest.fixture
def all_logs():
    catcher = LogCatcher()
    touched = []
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in list(logging.Logger.manager.loggerDict)
                                       if isinstance(logging.Logger.manager.loggerDict[n], logging.Logger)]
    for lg in loggers:
        touched.append((lg, lg.level))
        lg.setLevel(logging.DEBUG)
        lg.addHandler(catcher)
    yield catcher
    for lg, level in touched:
        lg.setLevel(level)
        lg.removeHandler(catcher)


def test_full_journey_leaks_no_secret(app, app_env, all_logs, capfd, trust):
    app_env.setenv("WPP_JWT_VERIFY_KEY", VERIFY_KEY)  # a configured secret, shown masked on Settings
    for name in ("wpp", "httpx", "httpcore", "streamlit", "urllib3"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        lg.addHandler(all_logs)
    pages: dict[str, str] = {}
    at = app.run()
    svc, sim = services()
    assert not at.exception

    # create: the school by name, the number's name, the button
    school = next(o.id for o in svc.organizations() if o.name == "Школа № 5")
    at.switch_page("pages/connect.py").run()
    at.selectbox(key="connect_school").set_value(school).run()
    at.text_input(key="connect_name").input("Front desk").run()
    at.button(key="connect_create").click().run()
    assert not at.exception, [e.value for e in at.exception]
    pages["connect (created)"] = everything_on_page(at)
    row = svc.list_numbers()[0]
    # pair: wait for the QR, then the demo's "Simulate the phone scan"
    deadline = time.monotonic() + 10
    while not any("simscan" in (b.key or "") for b in at.button):
        assert time.monotonic() < deadline, "the QR code never appeared"
        time.sleep(0.3)
        at.run()
    pages["connect (QR)"] = everything_on_page(at)
    next(b for b in at.button if "simscan" in (b.key or "")).click().run()
    at.run()
    assert not at.exception
    assert "The phone is linked" in everything_on_page(at)
    pages["connect (connected)"] = everything_on_page(at)
    # a second number of another school: more secrets to hide
    assert svc.create_number(ORG2, name="Office", actor="trust").ok
    # send
    at.query_params["n"] = row.id
    at.switch_page("pages/send.py").run()
    at.text_input(key="send_to").input("8 900 123 45 67")
    at.button(key="send_button").click().run()
    assert not at.exception
    assert "accepted the message" in everything_on_page(at)
    pages["send"] = everything_on_page(at)
    # access: default view (no reveal), then a new key and a test
    at.switch_page("pages/access.py").run()
    pages["access"] = everything_on_page(at)
    at.button(key="access_refresh").click().run()
    pages["access (new key)"] = everything_on_page(at)
    at.button(key="access_test").click().run()
    pages["access (tested)"] = everything_on_page(at)
    assert not at.exception
    assert at.toggle(key="access_number_reveal").value is False
    for path in ("pages/numbers.py", "pages/number.py", "pages/activity.py", "pages/settings.py"):
        at.switch_page(path).run()
        assert not at.exception, (path, [e.value for e in at.exception])
        pages[path.split("/")[1].removesuffix(".py")] = everything_on_page(at)
    # the status engine's poller (a background thread) logs too: make it check everything once
    svc.check_now()
    deadline = time.monotonic() + 10
    while len(svc.engine.board()) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)

    secrets = {sim.secret, sim.supabase_jwt_secret, VERIFY_KEY}
    for r in svc.list_numbers(include_inactive=True):
        secrets |= {r.api_key, r.jwt}
    for r in svc.list_numbers(include_inactive=True):
        cached = svc.tokens.cached(r.id)
        if cached:
            secrets.add(cached.token.reveal())
    secrets.discard(None)
    assert len(secrets) >= 7  # 2 platform keys, 2+ access keys, the platform secret, the simulator's Supabase secret, the verify key

    found = {}
    for name, text in pages.items():
        if leak := leaks_in(text, secrets):
            found[f"page {name}"] = leak
    trust.leaks(f"visible text of {len(pages)} page views (connect, QR, connected, send, access ×3, numbers, "
                "number, activity, settings)", len(pages), len(secrets), sum(len(v) for v in found.values()))
    log_text = "\n".join(all_logs.lines)
    out, err = capfd.readouterr()
    for label, text in (("log records", log_text), ("stderr", err), ("stdout", out)):
        if leak := leaks_in(text, secrets):
            found[label] = leak
    trust.leaks("log records of every logger at DEBUG", len(all_logs.lines), len(secrets),
                len(found.get("log records", [])))
    trust.leaks("stderr and stdout of the process", len((err + out).splitlines()), len(secrets),
                len(found.get("stderr", [])) + len(found.get("stdout", [])))
    activity = "\n".join(f"{e.action} {e.outcome} {e.detail} {e.message}" for e in svc.store.list_activity(limit=1000))
    activity += "\n" + "\n".join(f"{line.who} {line.school} {line.number} {line.what}" for line in svc.activity(limit=1000))
    rows_errors = "\n".join(str(r.last_error) for r in svc.list_numbers(include_inactive=True))
    for label, text in (("activity log", activity), ("last_error columns", rows_errors)):
        if leak := leaks_in(text, secrets):
            found[label] = leak
    trust.leaks("activity log and last_error as stored", len(activity.splitlines()) + 2, len(secrets),
                len(found.get("activity log", [])) + len(found.get("last_error columns", [])))
    assert all_logs.lines, "nothing was logged: the capture does not work"
    assert not found, found


def test_reprs_and_errors_hide_secrets(make_service, sim, store, trust):
    """Every object that holds a secret prints masked; errors built from answers that echo a secret scrub it."""
    from wpp.client import BearerAuth
    from wpp.jwtinfo import decode_jwt

    transport = ShapingTransport()
    svc = make_service(transport=transport)
    out = svc.create_number(ORG, name="Front desk", actor="trust")
    assert out.ok
    row = store.get(out.integration.id)
    api_key, jwt = row.api_key, row.jwt
    secrets = {api_key, jwt, sim.secret, SUPABASE_KEY, VERIFY_KEY}

    # errors whose platform answers echo the secrets back
    transport.answer("POST", r"/auth/token$", 403, {"error": f"Invalid API key {api_key}"})
    e1 = outcome_of(lambda: svc.refresh_token(row.id, actor="trust")).error
    transport.clear()
    transport.answer("GET", r"/status$", 500, f"<html><body>upstream said: Authorization: Bearer {jwt}</body></html>",
                     "text/html")
    e2 = svc.poll_check(store.get(row.id)).error
    transport.clear()
    transport.answer("POST", r"/api/messages/text$", 200, {"status": "error", "message": f"bad token {jwt} / key={api_key}"})
    e3 = outcome_of(lambda: svc.send_test(row.id, "+79001234567", "hi", actor="trust")).error
    transport.clear()
    transport.answer("POST", r"/api/integrations/wpp/create$", 401, {"error": f"Invalid token {sim.secret}"})
    half = store.create(ORG2, name="half")
    e4 = svc.resume(half.id, actor="trust").error
    transport.clear()
    errors = [e1, e2, e3, e4, InvalidToken(f"token {jwt}", detail=f"Bearer {jwt}", secrets=[jwt]),
              PlatformError(f"secret {sim.secret}", secrets=[sim.secret])]
    assert all(isinstance(e, WppError) for e in errors), errors

    settings = load_settings(env={"WPP_BASE_URL": "https://wpp.example", "WPP_SECRET": sim.secret,
                                  "SUPABASE_URL": "https://x.supabase.co", "SUPABASE_KEY": SUPABASE_KEY,
                                  "WPP_JWT_VERIFY_KEY": VERIFY_KEY, "DATABASE_URL": "postgresql://u:pw-" + VERIFY_KEY + "@h/db"},
                             secrets={})
    report = svc.access_report(row.id)
    objects = {
        "Integration": store.get(row.id),
        "list of Integrations": store.list_integrations(),
        "Settings": settings,
        "Settings.describe()": settings.describe(),
        "CreateOutcome": out,
        "MintedToken": svc.tokens.cached(row.id),
        "TokenManager": svc.tokens,
        "TokenAuth": svc.tokens.auth(row),
        "BearerAuth": BearerAuth(jwt),
        "Secret": Secret(api_key),
        "WppClient": svc.client,
        "SqliteStore": store,
        "CheckResult": svc.poll_check(store.get(row.id)),
        "PairingView": svc.pairing_state(row.id),
        "JwtInfo": decode_jwt(jwt),
        "AccessReport": report,
        "CreatedClient": svc.client.create_client(ORG),
    }
    found = {}
    for name, obj in objects.items():
        for how, text in (("repr", repr(obj)), ("str", str(obj)), ("f-string", f"{obj}")):
            if leak := leaks_in(text, secrets):
                found[f"{how}({name})"] = leak
    for i, e in enumerate(errors):
        for part, text in (("message", e.message), ("action", e.action), ("detail", e.detail), ("str", str(e)),
                           ("repr", repr(e)), ("as_dict", str(e.as_dict()))):
            if leak := leaks_in(text, secrets):
                found[f"error {i} ({e.kind}) {part}"] = leak
    trust.leaks(f"repr/str/f-string of {len(objects)} objects that carry secrets", 3 * len(objects), len(secrets),
                sum(1 for k in found if not k.startswith("error")))
    trust.leaks(f"{len(errors)} errors built from platform answers that echo a secret (message, action, detail, "
                "str, repr)", 6 * len(errors), len(secrets), sum(1 for k in found if k.startswith("error")))
    assert isinstance(e1, InvalidApiKey)
    assert not found, found
