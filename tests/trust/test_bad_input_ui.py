"""Bad input through the pages (AppTest): the text on the page is readable, there is no exception element, and
the store is unchanged. A subset of the service-level table, typed where staff type it."""
from __future__ import annotations

import time

from wpp import keys
from tests.app.conftest import app, app_env, entry_script_reruns  # noqa: F401  (fixtures)

from .conftest import ORG, snapshot, store_changes, unreadable_reasons
from .helpers import make_jwt
from .uihelpers import page_errors, services, texts

CLAIMS = {"sub": "0000000000001", "iat": 1_700_000_000, "exp": 1_700_000_900}


def _check_page(at, trust, form, case, shown, expect_in, before, store):
    assert not at.exception, [e.value for e in at.exception]
    page = texts(at)
    assert "Traceback" not in page
    assert expect_in.lower() in page.lower(), f"{expect_in!r} not on the page:\n{page[:2000]}"
    shown_msgs = page_errors(at) + [w.value for w in at.warning if expect_in.lower() in w.value.lower()]
    msg = next(m for m in shown_msgs if expect_in.lower() in m.lower())
    assert not unreadable_reasons(msg.replace("**", "")[:400]), (msg, unreadable_reasons(msg))
    for m in page_errors(at):
        assert not unreadable_reasons(m.split("\n\n")[0]), m
    assert not store_changes(before, snapshot(store), "strict")
    trust.input(form, case, shown, "shown on the page", " ".join(msg.split()))


KEY_CASES = [
    ("words", "hello world", "hello world", "three parts"),
    ("two parts", "abc.def", "abc.def", "three parts"),
    ("10 000 characters", "eyJ + 10 000 × A", "eyJ" + "A" * 10_000, "three parts"),
    ("payload not JSON", "<header>.base64('{oops').<sig>", make_jwt("{oops", {"alg": "HS256"}, raw_json=True), "cannot be read"),
    ("alg none", '{"alg":"none"}', make_jwt(CLAIMS, {"alg": "none"}), "alg none"),
    ("absurd exp", "exp = 1e20", make_jwt({**CLAIMS, "exp": 1e20}), "is absurd"),
    ("exp in milliseconds", "exp = 1 700 000 900 000", make_jwt({**CLAIMS, "exp": 1_700_000_900_000}), "milliseconds"),
    ("exp NaN", "exp = NaN", make_jwt('{"sub": "1", "exp": NaN}', raw_json=True), "not a number"),
    ("iat absurd", "iat = 1e20", make_jwt({**CLAIMS, "iat": 1e20}), "issue time"),
]


def test_access_page_paste_box(app, trust):
    """One browser tab pasting one bad key after another; every case is checked, failures listed together."""
    at = app.run()
    svc, _ = services()
    at.switch_page("pages/access.py").run()
    failed = {}
    for case, shown, value, expect in KEY_CASES:
        before = snapshot(svc.store)
        at.text_area(key="access_pasted").input(value).run()
        try:
            _check_page(at, trust, "UI: Access page, pasted key", case, shown, expect, before, svc.store)
        except AssertionError as exc:
            failed[case] = " ".join(str(exc).split())[:160]
    assert not failed, "bad keys that broke the page:\n" + "\n".join(f"- {k}: {v}" for k, v in failed.items())


def _settled(svc, integration_id: str, timeout_s: float = 30.0) -> None:
    """Wait for what the console does by itself to a number just connected: its webhook registered with the platform
    (by the background registration or the watch's pass, whichever takes it), which also mints its access key -- both
    writes to its row. A bad input is then compared with the store as it stands after them (under load they landed
    inside the first case's before/after and were blamed on it)."""
    svc.wait_webhooks()
    deadline = time.monotonic() + timeout_s
    while True:
        s = svc.store.get(integration_id).settings
        if s.get(keys.WEBHOOK_HASH) and not s.get(keys.WEBHOOK_PENDING):
            return
        assert time.monotonic() < deadline, f"the new number's webhook was never registered: {sorted(s)}"
        time.sleep(0.05)


def test_send_page_phone_and_text(app, trust):
    at = app.run()
    svc, _ = services()
    out = svc.create_number(ORG, name="Front desk", actor="trust")
    assert out.ok
    _settled(svc, out.integration.id)
    at.query_params["n"] = out.integration.id
    at.switch_page("pages/send.py").run()
    assert not at.exception
    for case, shown, value, expect in [
        ("letters", "+7 900 ABC-45-67", "+7 900 ABC-45-67", "contains letters"),
        ("too short", "12345", "12345", "too short"),
        ("10 000 characters", "10 000 × 9", "9" * 10_000, "too long"),
        ("no such country", "+999 1234567890", "+999 1234567890", "country code that exists"),
    ]:
        before = snapshot(svc.store)
        sent = len(svc.activity())
        at.text_input(key="send_to").input(value)
        at.button(key="send_button").click().run()  # one click, as a person does: the field is committed with it
        _check_page(at, trust, "UI: Send page recipient", case, shown, expect, before, svc.store)
        assert len(svc.activity()) == sent, "a refused recipient was logged as a send"
    at.text_input(key="send_to").input("+7 900 123-45-67")
    for case, shown, value, expect in [("empty", "(nothing)", "", "message is empty"),
                                       ("blank", "spaces and line breaks", "  \n \n", "message is empty")]:
        before = snapshot(svc.store)
        at.text_area(key="send_text").input(value)
        at.button(key="send_button").click().run()
        _check_page(at, trust, "UI: Send page message text", case, shown, expect, before, svc.store)
