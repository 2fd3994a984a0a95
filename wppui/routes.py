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

* ``POST /_wpp/hook/{secret}``: the WPP Platform pushes a number's events here (its webhook; the platform signs
  nothing, so the secret in the address is the proof). Thin: at most the inbox's limit (+1 byte) of the body is read
  and handed, with the secret, to the domain's :class:`wpp.status.webhooks.WebhookInbox`, whose answer (a status
  code and one word) goes back. Never a 500: what could not be handled is a 503 without detail (the platform tries
  again). At most :data:`HOOK_THREADS` pushes are handled at once (the others wait in the event loop, holding no
  thread), so a flood never takes the thread pool Streamlit's own requests share. The secret is in the path, so every log line that could print a path
  (uvicorn's access log, httpx's request lines) goes through :func:`install_log_redaction` first: it prints
  ``/_wpp/hook/…`` instead. (Streamlit's own server keeps uvicorn's access log off and logs no request paths.)

For whoever runs the console (``wpp.service.ops``):

* ``GET /_wpp/board?v=…&t=…``: a tab's long request that answers when the status board changed (``wppui.live``).
* ``GET /_wpp/health``: this replica's watch in JSON, no secret and no school's data; 200 when healthy, 503 with the
  problems when not (a Docker/Kubernetes probe). No sign-in: a probe has none.
* ``GET /_wpp/metrics``: Prometheus' text format, only with ``Authorization: Bearer <WPP_METRICS_TOKEN>`` (compared in
  constant time; a missing or wrong key: 401). Without ``WPP_METRICS_TOKEN`` the address does not exist (404).
"""
from __future__ import annotations

import hmac
import json
import logging
import re
from typing import Any, Callable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from .addresses import END_PATH, HEALTH_PATH, HOOK_PATH, METRICS_PATH, SESSION_PATH, url

log = logging.getLogger("wppui.routes")

_MAX_BODY = 4096
#: pushes handled at once (each in a thread of the shared pool)
HOOK_THREADS = 8


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


# --- the platform's pushes ----------------------------------------------------------------------------------------
_HOOK_RE = re.compile(r"(/_wpp/hook/)[^/\s\"'?#]+")


def redact(text: str) -> str:
    """``…/_wpp/hook/<secret>…`` -> ``…/_wpp/hook/…``."""
    return _HOOK_RE.sub(r"\1…", text)


class RedactHookPaths(logging.Filter):
    """Rewrites a log record whose text holds a webhook's secret address (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is left to logging
            return True
        if "/_wpp/hook/" in message:
            record.msg, record.args = redact(message), ()
        return True


_REDACTION = RedactHookPaths()
#: the loggers that print request paths or URLs (the filter applies to what they log themselves)
REDACTED_LOGGERS = ("uvicorn.access", "uvicorn.error", "uvicorn", "httpx", "httpcore", "starlette", "wppui.routes")


def install_log_redaction() -> None:
    """Put :class:`RedactHookPaths` on every logger that prints paths and on the handlers of the root and Streamlit
    loggers (records of any logger pass through those). Idempotent."""
    targets: list[Any] = [logging.getLogger(name) for name in REDACTED_LOGGERS]
    for name in ("", "streamlit"):
        targets.extend(logging.getLogger(name).handlers)
    for target in targets:
        if _REDACTION not in target.filters:
            target.addFilter(_REDACTION)


def _default_inbox():
    from . import state

    return state.service().inbox


async def _read_at_most(request: Request, limit: int) -> bytes:
    """The body, but never more than ``limit`` bytes of it (a bigger one comes back cut at ``limit``)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"\0" * limit  # not read at all: refused for its size
    chunks, size = [], 0
    async for chunk in request.stream():
        chunks.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(chunks)[:limit]


def hook_endpoint(inbox_of: Callable[[], Any] = _default_inbox):
    """The ``POST /_wpp/hook/{secret}`` endpoint; ``inbox_of()`` gives the process's WebhookInbox."""
    import anyio

    limiter: list = []  # made on first use, in the server's event loop

    async def in_thread(fn, *args):
        if not limiter:
            limiter.append(anyio.CapacityLimiter(HOOK_THREADS))
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiter[0])

    async def receive_hook(request: Request) -> JSONResponse:
        headers = {"Cache-Control": "no-store"}
        try:
            inbox = await in_thread(inbox_of)
            if inbox is None:
                return JSONResponse({"ok": False, "outcome": "unknown"}, status_code=404, headers=headers)
            body = await _read_at_most(request, int(inbox.max_body) + 1)
            answer = await in_thread(inbox.receive, request.path_params.get("secret"), body)
            return JSONResponse(answer.body(), status_code=answer.status, headers=headers)
        except Exception as exc:  # noqa: BLE001 - never a 500, never a traceback (it could quote the path)
            log.warning("a push to the webhook could not be handled (%s)", type(exc).__name__)
            return JSONResponse({"ok": False}, status_code=503, headers=headers)

    return receive_hook


# --- health and metrics, for whoever runs the console ------------------------------------------------------------
#: requests of health and metrics handled at once (each in a thread of the shared pool)
OPS_THREADS = 4


def _default_service():
    from . import state

    return state.service()


def _default_metrics_token():
    from . import state

    return getattr(state.settings(), "metrics_token", None)


def _limited():
    import anyio

    limiter: list = []

    async def in_thread(fn, *args):
        if not limiter:
            limiter.append(anyio.CapacityLimiter(OPS_THREADS))
        return await anyio.to_thread.run_sync(fn, *args, limiter=limiter[0])

    return in_thread


def health_endpoint(service_of: Callable[[], Any] = _default_service):
    """``GET /_wpp/health`` (see the module docstring)."""
    in_thread = _limited()

    async def health(request: Request) -> JSONResponse:
        from wpp.service.ops import health as check

        headers = {"Cache-Control": "no-store"}
        try:
            svc = await in_thread(service_of)
        except Exception as exc:  # noqa: BLE001 - the configuration (the pages say what is wrong with it)
            log.warning("health: the console's service is not available (%s)", type(exc).__name__)
            return JSONResponse({"status": "fail", "problems": ["the configuration cannot be used: see the console's "
                                                                "Settings page or its log"]},
                                status_code=503, headers=headers)
        try:
            report = await in_thread(check, svc)
        except Exception as exc:  # noqa: BLE001
            log.warning("health could not be checked (%s)", type(exc).__name__)
            return JSONResponse({"status": "fail", "problems": ["the health could not be checked"]}, status_code=503,
                                headers=headers)
        return JSONResponse(report.as_dict(), status_code=200 if report.ok else 503, headers=headers)

    return health


def metrics_endpoint(service_of: Callable[[], Any] = _default_service,
                     token_of: Callable[[], Any] = _default_metrics_token):
    """``GET /_wpp/metrics`` (see the module docstring)."""
    in_thread = _limited()

    async def metrics(request: Request) -> Response:
        headers = {"Cache-Control": "no-store"}
        try:
            token = await in_thread(token_of)
        except Exception:  # noqa: BLE001 - a configuration that cannot be used: no key is known
            return PlainTextResponse("Service Unavailable\n", status_code=503, headers=headers)
        expected = token.reveal() if hasattr(token, "reveal") else token
        if not expected:
            return PlainTextResponse("Not Found\n", status_code=404, headers=headers)
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if not hmac.compare_digest(value.strip().encode("utf-8") if scheme.lower() == "bearer" else b"",
                                   str(expected).encode("utf-8")):
            return PlainTextResponse("Unauthorized\n", status_code=401,
                                     headers={**headers, "WWW-Authenticate": 'Bearer realm="wpp-console"'})
        try:
            from wpp.service.ops import metrics_text

            svc = await in_thread(service_of)
            body, content_type = await in_thread(metrics_text, svc)
        except Exception as exc:  # noqa: BLE001
            log.warning("the metrics could not be gathered (%s)", type(exc).__name__)
            return PlainTextResponse("Service Unavailable\n", status_code=503, headers=headers)
        return Response(body, media_type=content_type, headers=headers)

    return metrics


def routes(*, inbox_of: Callable[[], Any] | None = None, service_of: Callable[[], Any] | None = None,
           metrics_token_of: Callable[[], Any] | None = None) -> list[Route]:
    """The routes for ``st.App(..., routes=routes())`` (``inbox_of``: where the webhook's pushes go; ``service_of``:
    the service health and metrics describe; ``metrics_token_of``: the metrics' key; defaults: the process's)."""
    from .live import BOARD_PATH, board_endpoint

    install_log_redaction()
    return [
        Route(url(SESSION_PATH), open_session, methods=["POST"]),
        Route(url(END_PATH), end_session, methods=["POST"]),
        Route(url(HOOK_PATH), hook_endpoint(inbox_of or _default_inbox), methods=["POST"]),
        Route(url(BOARD_PATH), board_endpoint(service_of), methods=["GET"]),
        Route(url(HEALTH_PATH), health_endpoint(service_of or _default_service), methods=["GET"]),
        Route(url(METRICS_PATH), metrics_endpoint(service_of or _default_service,
                                                  metrics_token_of or _default_metrics_token), methods=["GET"]),
    ]
