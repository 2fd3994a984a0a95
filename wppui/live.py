"""A pushed change on screen within a second, for next to nothing while nothing changes.

Every signed-in tab holds one long request open, from a tiny invisible component in the sidebar (:func:`listen`,
``st.components.v2``): ``GET /_wpp/board?v=<version>&t=<token>`` answers as soon as the status board's version
differs from the one the page was drawn with (or after :data:`WAIT_S`, unchanged, and the tab asks again). Only then,
and only once the page is idle and nobody pressed or typed anything for a second, does the component re-run the page
(a re-run requested while someone's click is being answered would start the page over with the click forgotten), so the Numbers list, a Number page, the pairing panel and the sidebar's count all
show the change. The version is the process-wide status engine's: changed at once when this process records a push or
a check that changes what a page shows, and shared across replicas through the board read (:class:`BoardWatcher`
reads it a few times a second while tabs wait, which costs at most one store read per ``board_ttl_s`` per process).

Why not a self-refreshing fragment: Streamlit spends ~4 ms of CPU on every fragment run, so a tab looking every half
second would cost ~0.009 core while idle; a waiting request costs nothing until it answers (``bench/bench_viewers.py``).

The request carries a token the gated page run made (:func:`token`: an HMAC, with the console's shared secret, of an
expiry; valid in every replica): nobody who was not let into a page learns when the board changes. It says nothing
else: the version is an opaque hash.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import threading
import time
from typing import Any, Callable

import anyio
import streamlit as st

from .addresses import BOARD_PATH, url

log = logging.getLogger("wppui.live")

#: a waiting request answers after this many seconds at the latest (the tab then asks again)
WAIT_S = 25.0
#: how often, while tabs wait, the process looks at the board's version (seconds)
LOOK_S = 0.2
#: a token is good for this long (a page run makes a new one)
TOKEN_S = 12 * 3600.0
#: at most this many requests wait at once in a process (more are told to come back later)
MAX_WAITING = 2000

_JS = """
export default function (component) {
  const { data, setTriggerValue, parentElement } = component;
  const s = parentElement.__wppBoard || (parentElement.__wppBoard = { gen: 0, ctrl: null });
  const gen = ++s.gen;
  if (s.ctrl) { s.ctrl.abort(); }
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  if (!window.__wppInputHook) {
    window.__wppInputHook = true;
    for (const t of ["pointerdown", "keydown"]) {
      document.addEventListener(t, () => { window.__wppLastInput = Date.now(); }, true);
    }
  }
  const busy = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !!app && app.getAttribute("data-test-script-state") === "running";
  };
  const settle = async () => {  /* the page is idle and nobody pressed or typed for a second (at most ~10 s) */
    for (let i = 0; i < 100 && s.gen === gen; i++) {
      if (!busy() && Date.now() - (window.__wppLastInput || 0) > 1000) { return; }
      await sleep(100);
    }
  };
  const seen = data && data.v;
  if (!data || !data.url || !seen) { return () => { s.gen++; }; }
  (async () => {
    let fails = 0;
    while (s.gen === gen) {
      const ctrl = new AbortController();
      s.ctrl = ctrl;
      try {
        const sep = data.url.indexOf("?") < 0 ? "?" : "&";
        const r = await fetch(data.url + sep + "v=" + encodeURIComponent(seen) + "&t=" + encodeURIComponent(data.t),
                              { credentials: "same-origin", cache: "no-store", signal: ctrl.signal });
        if (s.gen !== gen) { return; }
        if (r.ok) {
          const body = await r.json();
          fails = 0;
          if (s.gen === gen && body && body.v && body.v !== seen) {
            await settle();  /* never cut short the run that answers someone's click */
            if (s.gen !== gen) { return; }
            s.gen++; setTriggerValue("changed", body.v); return;
          }
        } else if (r.status === 401) {
          await sleep(60000);  /* an old token: a page run gives a new one */
          if (s.gen === gen) { s.gen++; setTriggerValue("changed", "renew"); }
          return;
        } else {
          fails++;
          await sleep(Math.min(30000, 1000 * fails));
        }
      } catch (e) {
        if (s.gen !== gen) { return; }
        fails++;
        await sleep(Math.min(30000, 1000 * fails));
      }
    }
  })();
  return () => { s.gen++; if (s.ctrl) { s.ctrl.abort(); } };
}
"""

_component: list = []


def _listener():
    if not _component:
        _component.append(st.components.v2.component("wpp_board_listener", js=_JS))
    return _component[0]


# --- the token --------------------------------------------------------------------------------------------------
def _sign(key: bytes, exp: int) -> str:
    return hmac.new(key, f"board:{exp}".encode(), hashlib.sha256).hexdigest()[:32]


def make_token(key: bytes, *, now: float | None = None, lifetime_s: float = TOKEN_S) -> str:
    """``<expiry>.<signature>``: proof that a gated page run asked to follow the board."""
    exp = int((time.time() if now is None else now) + lifetime_s)
    return f"{exp}.{_sign(key, exp)}"


def token_ok(key: bytes, token: Any, *, now: float | None = None) -> bool:
    if not isinstance(token, str) or len(token) > 80 or "." not in token:
        return False
    exp_text, _, sig = token.partition(".")
    if not exp_text.isdigit():
        return False
    exp = int(exp_text)
    if exp < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(sig.encode(), _sign(key, exp).encode())


_keys: dict[int, bytes] = {}
_keys_lock = threading.Lock()


def token_key(svc) -> bytes:
    """The key tokens are signed with: the console's shared secret ``board-listener`` (the same in every replica),
    read once per service."""
    with _keys_lock:
        found = _keys.get(id(svc))
    if found is None:
        found = svc.store.console_secret("board-listener").encode()
        with _keys_lock:
            _keys[id(svc)] = found
    return found


# --- the page side ------------------------------------------------------------------------------------------------
def board_version(svc=None) -> str:
    """The whole board's version in this process (no platform call; a store read at most once per ``board_ttl_s``
    per process, shared by every tab). "" when it cannot be read."""
    from . import state

    try:
        return str((svc or state.service()).board_version())
    except Exception:  # noqa: BLE001
        return ""


#: st.session_state keys: the listener's callback marks the run it triggers; listen() tells that run it only re-draws
CHANGED_KEY = "_wpp_board_changed"
REDRAW_KEY = "_wpp_board_redraw"


def redrawing() -> bool:
    """Whether this page run only re-draws the page for a change of the status board (the listener's), not for
    anything the person did: what the last run said to them once (``pagekit.flash``) is said again, not lost."""
    return bool(st.session_state.get(REDRAW_KEY))


def listen() -> None:
    """Mount the listener (once per page run, after the gate let the person in: ``wppui.gate.sidebar``, before the
    page itself). Never breaks a page: without a board or a key nothing is mounted (the pages' own refresh still
    runs)."""
    from . import state

    st.session_state[REDRAW_KEY] = bool(st.session_state.pop(CHANGED_KEY, False))
    try:
        svc = state.service()
        version = board_version(svc)
        if not version:
            return
        data = {"v": version, "url": url(BOARD_PATH), "t": make_token(token_key(svc))}
        _listener()(key="wpp_board_listener", data=data, on_changed_change=_changed, height=0)
    except Exception:  # noqa: BLE001 - the sidebar never breaks a page
        log.warning("the board listener could not be mounted", exc_info=True)


def _changed() -> None:
    """The listener's trigger re-runs the page; this marks that run as a re-draw (see :func:`redrawing`)."""
    st.session_state[CHANGED_KEY] = True


# --- the server side ----------------------------------------------------------------------------------------------
class BoardWatcher:
    """Looks at the board's version every :data:`LOOK_S` seconds while requests wait (in a worker thread: it may read
    the store), and wakes those whose version is out of date. One per process and event loop."""

    def __init__(self, version_of: Callable[[], str], *, look_s: float = LOOK_S):
        self.version_of = version_of
        self.look_s = float(look_s)
        self.current: str | None = None
        self.waiting = 0
        self.looks = 0
        self._changed: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        self._starting: asyncio.Lock | None = None

    async def wait(self, seen: str, timeout: float) -> str:
        """The board's version once it differs from ``seen``, or whatever it is after ``timeout`` seconds."""
        if self._changed is None:
            self._changed = asyncio.Event()
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:  # tabs arriving together: one of them reads the version, the others wait for it
            if self._task is None or self._task.done():
                self.current = await anyio.to_thread.run_sync(self.version_of)
                self._task = asyncio.get_running_loop().create_task(self._look())
        self.waiting += 1
        try:
            deadline = time.monotonic() + timeout
            while True:
                if self.current and self.current != seen:
                    return self.current
                left = deadline - time.monotonic()
                if left <= 0:
                    return self.current or seen
                event = self._changed
                try:
                    await asyncio.wait_for(event.wait(), timeout=left)
                except asyncio.TimeoutError:
                    pass
        finally:
            self.waiting -= 1

    async def _look(self) -> None:
        idle_since: float | None = None
        while True:
            await asyncio.sleep(self.look_s)
            if self.waiting <= 0:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > WAIT_S:
                    return  # nobody waits: stop looking (the next request starts it again)
                continue
            idle_since = None
            try:
                now = await anyio.to_thread.run_sync(self.version_of)
            except Exception:  # noqa: BLE001
                continue
            self.looks += 1
            if now and now != self.current:
                self.current = now
                old, self._changed = self._changed, asyncio.Event()
                if old is not None:
                    old.set()


def board_endpoint(service_of: Callable[[], Any] | None = None, *, wait_s: float = WAIT_S):
    """``GET /_wpp/board?v=<version>&t=<token>`` (see the module docstring): 200 ``{"v": <version>}`` as soon as the
    board's version is not ``v`` (or after ``wait_s``); 401 for a missing or bad token (nothing else is said)."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    def default_service():
        from . import state

        return state.service()

    get_service = service_of or default_service
    watchers: dict[int, BoardWatcher] = {}
    limiter: list = []

    async def in_thread(fn, *args):
        if not limiter:
            limiter.append(anyio.CapacityLimiter(4))
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiter[0])

    async def board(request: Request) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        try:
            svc = await in_thread(get_service)
            key = _keys.get(id(svc)) or await in_thread(token_key, svc)
        except Exception as exc:  # noqa: BLE001
            log.warning("the board cannot be followed (%s)", type(exc).__name__)
            return JSONResponse({"ok": False}, status_code=503, headers=headers)
        if not token_ok(key, request.query_params.get("t")):
            return JSONResponse({"ok": False}, status_code=401, headers=headers)
        seen = str(request.query_params.get("v") or "")[:200]
        watcher = watchers.get(id(svc))
        if watcher is None:
            watcher = watchers[id(svc)] = BoardWatcher(lambda: board_version(svc))
        if watcher.waiting >= MAX_WAITING:
            return JSONResponse({"ok": False}, status_code=503, headers={**headers, "Retry-After": "5"})
        version = await watcher.wait(seen, wait_s)
        return JSONResponse({"v": version}, headers=headers)

    return board


__all__ = ["BOARD_PATH", "BoardWatcher", "CHANGED_KEY", "LOOK_S", "REDRAW_KEY", "WAIT_S", "board_endpoint",
           "board_version", "listen", "redrawing",
           "make_token", "token_key", "token_ok"]
