"""The platform's pushes arrive at the console's own route ``POST /_wpp/hook/{secret}`` (beside Streamlit, through
``st.App``): status codes through Starlette's test client, the secret in the address never in a log line, the pages
that show pushed status (AppTest), and the real server (``streamlit run``) taking a push from its embedded
simulator while logging at DEBUG level without printing the secret."""
from __future__ import annotations

import json
import logging
import secrets
import time

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wpp import keys
from wpp.clock import ManualClock
from wpp.models import Status
from wpp.status import CheckResult, StatusEngine, WebhookInbox
from wpp.status.webhooks import MAX_BODY, secret_hash
from wpp.store.sqlite import SqliteStore

from .conftest import services
from .conftest import texts as _texts

SESSION = "0000000000042"


@pytest.fixture
def hook(tmp_path):
    """A store with one number whose webhook is registered, its engine and inbox, and the console's routes."""
    from wppui.routes import routes

    store = SqliteStore(tmp_path / "wpp.db")
    clock = ManualClock(start=1_800_000_000.0)
    engine = StatusEngine(store, lambda row: CheckResult(status=Status.parse("qr_required")), clock=clock)
    inbox = WebhookInbox(store, engine, clock=clock)
    secret = secrets.token_urlsafe(32)
    row = store.create("0a0a0a0a-0000-4000-8000-00000000000a", name="Front desk",
                       settings={keys.API_KEY: "k" * 30, keys.SESSION: SESSION, keys.WEBHOOK_HASH: secret_hash(secret)})
    engine.tick()
    state = {"inbox": inbox}
    with TestClient(Starlette(routes=routes(inbox_of=lambda: state["inbox"]))) as client:
        yield client, store, engine, inbox, row, secret, state
    engine.stop()
    store.close()


def texts(at) -> str:
    """What a person reads (Markdown's backslash escapes removed)."""
    import re

    return re.sub(r"\\(.)", r"\1", _texts(at))


def event(kind="connected", account=SESSION, **data):
    return {"id": "evt_" + secrets.token_hex(8), "type": kind, "created": 0, "data": {"account": account, **data}}


def test_the_route_answers_every_push_with_a_status_code_and_one_word(hook):
    client, store, engine, inbox, row, secret, state = hook
    url = f"/_wpp/hook/{secret}"
    first = event()
    r = client.post(url, json=first)
    assert (r.status_code, r.json()) == (200, {"ok": True, "outcome": "accepted"})
    assert r.headers["cache-control"] == "no-store"
    assert engine.board()[row.id].connected
    assert client.post(url, json=first).json() == {"ok": True, "outcome": "duplicate"}
    assert client.post(f"/_wpp/hook/{secrets.token_urlsafe(32)}", json=event()).status_code == 404
    assert client.post(url, content=b"{" + b" " * MAX_BODY + b"}",
                       headers={"Content-Type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: the route still stops reading past the limit
        for _ in range(20):
            yield b" " * 8192

    assert client.post(url, content=chunks()).status_code == 413
    assert client.post(url, content=b"<html>", headers={"Content-Type": "text/html"}).status_code == 400
    assert client.post(url, json=event(account="0000000009999")).status_code == 403
    assert client.post(url, json={"type": "delivery", "account": SESSION, "messageId": "m", "status": "read"}
                       ).status_code == 200
    assert client.get(url).status_code == 405
    counts = inbox.counts()
    assert {k: n for k, (n, _) in counts[row.id].items()} == {"accepted": 2, "duplicate": 1, "too_big": 2,
                                                              "malformed": 1, "mismatch": 1}
    assert counts["*"]["unknown"][0] == 1


def test_nothing_inside_ever_becomes_a_500(hook, monkeypatch):
    """What could not be handled is a 503 without detail: the platform tries again later."""
    client, store, engine, inbox, row, secret, state = hook

    def broken(*a, **kw):
        raise RuntimeError("boom " + secret)

    monkeypatch.setattr(inbox, "receive", broken)
    r = client.post(f"/_wpp/hook/{secret}", json=event())
    assert (r.status_code, r.json()) == (503, {"ok": False})
    state["inbox"] = None  # the console has no inbox (yet)
    assert client.post(f"/_wpp/hook/{secret}", json=event()).status_code == 404

    def unavailable():
        raise RuntimeError("the configuration is broken")

    from wppui.routes import routes

    with TestClient(Starlette(routes=routes(inbox_of=unavailable))) as other:
        assert other.post(f"/_wpp/hook/{secret}", json=event()).status_code == 503


def test_the_secret_in_the_address_never_reaches_a_log_line(hook, caplog):
    client, store, engine, inbox, row, secret, state = hook
    caplog.set_level(logging.DEBUG)
    url = f"/_wpp/hook/{secret}"
    for body in (event(), event(account="1"), {"x": 1}):
        client.post(url, json=body)
    client.post(url, content=b"\xff")
    # uvicorn's access log, when someone turns it on (`uvicorn streamlit_app:app`), prints the path: redacted
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", url, "1.1", 200)
    logging.getLogger("uvicorn.error").warning("Invalid request to http://console.example%s", url)
    assert caplog.records, "nothing was logged at all"
    assert secret not in caplog.text
    assert "/_wpp/hook/…" in caplog.text  # httpx's request line and the access line, with the secret cut out


def test_streamlits_own_server_keeps_the_access_log_off():
    from streamlit.web.server.starlette import starlette_server

    assert starlette_server._get_uvicorn_config_kwargs()["access_log"] is False


# --- the pages (AppTest, demo mode) -----------------------------------------------------------------------
def _open(at, page, **params):
    at.query_params.clear()
    at.query_params.update(params)
    return at.switch_page(page).run()


def test_settings_send_and_number_pages_show_pushed_status(app):
    app.run()
    svc, sim = services()
    assert svc.webhooks_on  # the demo: the simulator posts to the console's own address
    org = next(o.id for o in svc.organizations())
    out = svc.create_number(org, name="Ресепшн", actor="test")
    # registered with the embedded simulator: by the creation's own registration, or by the background webhook pass
    # when that one held the number's registration lease first (its first run can come late under load)
    deadline = time.monotonic() + 30
    while not (row := svc.store.get(out.integration.id)).settings.get(keys.WEBHOOK_HASH):
        assert time.monotonic() < deadline, "the number's webhook was never registered"
        svc.wait_webhooks()
        time.sleep(0.1)
    sim.set_status(row.session, "connected")

    _open(app, "pages/settings.py")
    assert not app.exception, app.exception
    page = texts(app)
    assert "Status pushed by the platform" in page and "/_wpp/hook/" in page
    table = next(df.value for df in app.dataframe if "Webhook registered" in df.value.columns)
    assert list(table["Webhook registered"]) == ["Yes"]

    _open(app, "pages/send.py", n=row.id)
    app.text_input(key="send_to").input("+7 900 123-45-67")
    [b for b in app.button if b.label == "Send"][0].click().run()
    assert not app.exception, app.exception
    assert "Accepted by the platform" in texts(app)  # the ticks (the pushes go to a server AppTest does not run)

    _open(app, "pages/number.py", n=row.id)
    assert not app.exception, app.exception
    assert "Test messages" in [e.label for e in app.expander]


# --- the real server ---------------------------------------------------------------------------------------
def test_the_real_server_takes_a_push_from_its_simulator_and_never_logs_the_secret(tmp_path):
    from tests.harness import SIM_SECRET, AppProcess, seed_numbers

    app = AppProcess("hooks", tmp_path / "data", log_dir=tmp_path, STREAMLIT_LOGGER_LEVEL="debug")
    secret = secrets.token_urlsafe(32)
    try:
        app.start()
        http = httpx.Client(timeout=10)
        # an address nobody was given (this also builds the console's service and starts its simulator)
        r = http.post(f"{app.url}/_wpp/hook/{secrets.token_urlsafe(32)}", json=event())
        assert (r.status_code, r.json()["outcome"]) == (404, "unknown")
        app.wait_simulator()
        (number,) = seed_numbers(app.sim_url, app.db_path, 1, name="Ресепшн")
        store = SqliteStore(app.db_path)
        try:
            store.merge_settings(number["id"], {keys.WEBHOOK_HASH: secret_hash(secret), keys.WEBHOOK_BASE: app.url})
            jwt = store.get(number["id"]).jwt
        finally:
            store.close()
        time.sleep(0.6)  # as the console does before it tells the platform a new secret (wpp.service.webhooks)
        # the webhook as the console registers it (tests/service prove the console does): the simulator pushes
        r = http.post(f"{app.sim_url}/internal/session/{number['session']}/webhook",
                      json={"url": f"{app.url}/_wpp/hook/{secret}"}, headers={"Authorization": f"Bearer {jwt}"})
        assert r.status_code == 200, r.text
        http.post(f"{app.sim_url}/_sim/accounts/{number['session']}/status", json={"state": "connected"})
        deadline = time.monotonic() + 20
        while http.get(f"{app.sim_url}/_sim/pushes").json().get("200") != 1:
            assert time.monotonic() < deadline, http.get(f"{app.sim_url}/_sim/pushes").json()
            time.sleep(0.1)
        store = SqliteStore(app.db_path)
        try:
            rec = store.load_statuses([number["id"]]).get(number["id"])
            assert rec is not None and rec.state == "connected" and rec.last_event_at is not None
        finally:
            store.close()
        # refusals by the real server too
        assert http.post(f"{app.url}/_wpp/hook/{secret}", content=b"nope").status_code == 400
        assert http.post(f"{app.url}/_wpp/hook/{secret}", content=b"x" * (MAX_BODY + 10)).status_code == 413
        http.close()
    finally:
        app.stop()
    log = app.log_path.read_text(errors="replace")
    assert "Starting uvicorn runner" in log  # one of Streamlit's DEBUG lines: it really logged at DEBUG level
    assert secret not in log
    assert json.dumps(secret)[1:-1] not in log
