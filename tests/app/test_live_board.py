"""A pushed change on screen within a second (``wppui.live``): the tab's waiting request ``GET /_wpp/board`` answers
as soon as the board's version changes, only with a token a gated page run made; AppTest pages mount the listener."""
from __future__ import annotations

import threading
import time

import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from wppui import live


class FakeService:
    """What the route needs of the service: a board version and the store's shared secret."""

    def __init__(self):
        self.version = "v1"
        self.asked = 0

        class Store:
            def console_secret(self, name):
                assert name == "board-listener"
                return "s" * 64

        self.store = Store()

    def board_version(self):
        self.asked += 1
        return self.version


@pytest.fixture
def board():
    svc = FakeService()
    app = Starlette(routes=[Route("/_wpp/board", live.board_endpoint(lambda: svc, wait_s=2.0), methods=["GET"])])
    with TestClient(app) as client:
        yield client, svc, live.make_token(b"s" * 64)


def test_a_waiting_tab_hears_of_a_change_at_once(board):
    client, svc, token = board
    # the page was drawn with an older version: the answer comes at once
    r = client.get("/_wpp/board", params={"v": "v0", "t": token})
    assert (r.status_code, r.json()) == (200, {"v": "v1"})
    assert r.headers["cache-control"] == "no-store"
    # up to date: the request waits ... until the board changes (a push recorded in this process)
    threading.Timer(0.5, lambda: setattr(svc, "version", "v2")).start()
    t0 = time.monotonic()
    r = client.get("/_wpp/board", params={"v": "v1", "t": token})
    waited = time.monotonic() - t0
    assert r.json() == {"v": "v2"} and 0.4 <= waited < 1.9
    # nothing changes: it answers after the wait, unchanged, and the tab asks again
    t0 = time.monotonic()
    assert client.get("/_wpp/board", params={"v": "v2", "t": token}).json() == {"v": "v2"}
    assert time.monotonic() - t0 >= 1.9


def test_only_a_page_run_of_the_console_may_follow_the_board(board):
    client, svc, token = board
    assert client.get("/_wpp/board", params={"v": "v0"}).status_code == 401
    assert client.get("/_wpp/board", params={"v": "v0", "t": "123.abc"}).status_code == 401
    forged = live.make_token(b"another key")
    assert client.get("/_wpp/board", params={"v": "v0", "t": forged}).status_code == 401
    expired = live.make_token(b"s" * 64, now=time.time() - 2 * live.TOKEN_S)
    r = client.get("/_wpp/board", params={"v": "v0", "t": expired})
    assert (r.status_code, r.json()) == (401, {"ok": False})  # nothing else is said
    assert svc.asked == 0  # not even the version was read


def test_many_waiting_tabs_cost_one_look_per_interval(board):
    client, svc, token = board
    from concurrent.futures import ThreadPoolExecutor

    threading.Timer(1.0, lambda: setattr(svc, "version", "v9")).start()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: client.get("/_wpp/board", params={"v": "v1", "t": token}).json(),
                                range(20)))
    assert answers == [{"v": "v9"}] * 20
    assert svc.asked <= 1 + 2.0 / live.LOOK_S + 2  # the watcher looked; twenty tabs did not each look


def test_pages_mount_the_listener_with_the_board_version_and_a_token(app):
    from streamlit.testing.v1 import AppTest  # noqa: F401 - the fixture's kind

    app.run()
    assert not app.exception, app.exception
    from wppui import state

    svc = state.service()
    key = live.token_key(svc)
    found = [n for n in _walk(app._tree) if getattr(getattr(n, "proto", None), "component_name", None)
             == "wpp_board_listener"]
    assert found, "the sidebar has no board listener"
    import json

    data = json.loads(found[0].proto.json) if found[0].proto.json else {}
    assert data["v"] == svc.board_version() and data["url"].endswith("/_wpp/board")
    assert live.token_ok(key, data["t"])


def test_a_redraw_for_a_board_change_keeps_what_the_last_run_said_once(app):
    """A push re-draws every open page within a second; "… is back in the list" (a sentence said once, after the
    person's action) must not vanish with it -- only with the person's next action."""
    said = "“Ресепшн” is back in the list."
    app.run()
    assert not app.exception, app.exception
    app.session_state["_wpp_flash"] = [("success", said)]  # what Restore leaves for the next run
    app.run()
    assert said in [e.value for e in app.success]
    app.session_state[live.CHANGED_KEY] = True  # the listener's callback, before the run it triggers
    app.run()
    assert not app.exception, app.exception
    assert said in [e.value for e in app.success], "a re-draw for the board lost what the person was just told"
    app.run()  # the person did something else
    assert said not in [e.value for e in app.success]


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values() if isinstance(getattr(node, "children", None), dict) else []:
        yield from _walk(child)
