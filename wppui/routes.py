"""The console's own HTTP routes, served by Streamlit beside the app (``st.App(..., routes=routes())``).

* ``POST /_wpp/session`` ``{"ticket": "..."}``: the page that just signed someone in hands over its one-time
  ticket; the answer sets the lasting sign-in cookie (``wpp_session``: HttpOnly, SameSite=Lax, Path=/, Max-Age = the
  sign-in's lifetime, Secure over https; its value is an opaque signed id). A used, expired or unknown ticket sets
  nothing.
* ``POST /_wpp/session/end`` ``{"key": "..."}``: after "Sign out" (or a sign-in that ended elsewhere) the page asks
  to delete the cookie. The sign-in behind the cookie is ended too when it is the one the tab names; a cookie of
  another, newer sign-in of this browser is left alone; a dead cookie is deleted.

Both accept only same-origin JSON posts (the Origin, or Sec-Fetch-Site, must be this site), so another site can
neither sign a browser in to its own account nor sign it out. Nothing lasting ever crosses the websocket: the ticket
is single-use and short-lived.
"""
from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

log = logging.getLogger("wppui.routes")

SESSION_PATH = "/_wpp/session"
END_PATH = "/_wpp/session/end"
_MAX_BODY = 4096


def _base() -> str:
    """Streamlit's ``server.baseUrlPath`` as a path prefix ("" or "/console")."""
    try:
        from streamlit import config

        base = (config.get_option("server.baseUrlPath") or "").strip("/")
    except Exception:  # noqa: BLE001
        base = ""
    return "/" + base if base else ""


def url(path: str) -> str:
    """The browser-side address of one of these routes."""
    return _base() + path


def _https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    forwarded = request.headers.get("x-forwarded-proto", "")
    return forwarded.split(",")[0].strip().lower() == "https"


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin:
        o = urlsplit(origin)
        return bool(o.netloc) and o.netloc.lower() == request.headers.get("host", "").lower()
    return request.headers.get("sec-fetch-site", "") == "same-origin"


async def _json_body(request: Request) -> dict | None:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return None
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        return None
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _refused(status: int = 403) -> JSONResponse:
    return JSONResponse({"ok": False}, status_code=status, headers={"Cache-Control": "no-store"})


def _sessions():
    from . import state

    return state.sign_ins()


async def open_session(request: Request) -> JSONResponse:
    if not _same_origin(request):
        return _refused()
    body = await _json_body(request)
    if body is None or not isinstance(body.get("ticket"), str):
        return _refused(400)
    try:
        sessions = await run_in_threadpool(_sessions)
        value = await run_in_threadpool(sessions.redeem, body["ticket"])
    except Exception:  # noqa: BLE001 - never a traceback to the browser
        log.exception("a sign-in ticket could not be redeemed")
        return _refused(503)
    if not value:
        return _refused(400)
    response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
    response.set_cookie(**sessions.cookie_kwargs(value, https=_https(request)))
    return response


async def end_session(request: Request) -> JSONResponse:
    if not _same_origin(request):
        return _refused()
    body = await _json_body(request)
    if body is None:
        return _refused(400)
    named = body.get("key") if isinstance(body.get("key"), str) else None
    cookie = request.cookies.get("wpp_session")
    delete = True
    if cookie:
        try:
            sessions = await run_in_threadpool(_sessions)
            found = await run_in_threadpool(sessions.resolve, cookie)
            if found is not None:
                _ident, key = found
                if named and key == named:
                    await run_in_threadpool(sessions.end, key)
                else:
                    delete = False  # another, newer sign-in of this browser: not this tab's to end
        except Exception:  # noqa: BLE001
            log.exception("a sign-in could not be ended")
            return _refused(503)
    response = JSONResponse({"ok": True, "deleted": delete}, headers={"Cache-Control": "no-store"})
    if delete:
        from wpp.access import cookie_kwargs

        response.set_cookie(**cookie_kwargs("", max_age=0, https=_https(request)))
    return response


def routes() -> list[Route]:
    """The routes for ``st.App(..., routes=routes())``."""
    return [
        Route(url(SESSION_PATH), open_session, methods=["POST"]),
        Route(url(END_PATH), end_session, methods=["POST"]),
    ]
