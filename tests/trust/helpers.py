"""Shared pieces of the trust suite: hand-made JWTs, a transport that bends platform answers, outcome checks."""
from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

import httpx

from wpp.errors import WppError
from wpp.masking import reveal

from .conftest import unreadable_reasons


def b64url(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_jwt(claims: Any, header: Any = None, sig: str = "c2lnbmF0dXJlLW5vdC1jaGVja2Vk", *, raw_json: bool = False) -> str:
    """A JWT made by hand (any header, any claims, any signature: for tokens nobody should accept)."""
    header = {"alg": "HS256", "typ": "JWT"} if header is None else header
    h = header if raw_json and isinstance(header, str) else json.dumps(header)
    c = claims if raw_json and isinstance(claims, str) else json.dumps(claims)
    return f"{b64url(h)}.{b64url(c)}.{sig}"


class ShapingTransport(httpx.BaseTransport):
    """Forwards to the real simulator, except requests matching a rule, which get a canned answer.

    For the odd shapes the simulator cannot produce (a 200 with an HTML page, a session of 10 000 characters…).
    """

    def __init__(self):
        self.real = httpx.HTTPTransport()
        self.rules: list[tuple[str, re.Pattern, Callable[[httpx.Request], httpx.Response]]] = []
        self.hits = 0

    def answer(self, method: str, path_regex: str, status: int = 200, body: Any = b"", content_type: str = "application/json"):
        if isinstance(body, (dict, list)) or body is None:
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()

        def respond(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, content=body, headers={"Content-Type": content_type})

        self.rules.append((method, re.compile(path_regex), respond))

    def clear(self) -> None:
        self.rules.clear()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for method, rx, respond in self.rules:
            if request.method == method and rx.search(request.url.path):
                request.read()
                self.hits += 1
                return respond(request)
        return self.real.handle_request(request)

    def close(self) -> None:
        self.real.close()


@dataclass
class Outcome:
    kind: str  # "error" (a WppError), "warning" (a result carrying readable problems), "accepted"
    message: str
    error: WppError | None = None
    problems: tuple[str, ...] = ()


def outcome_of(call: Callable[[], Any]) -> Outcome:
    """Run ``call``; a WppError or a result that carries an error/problems becomes an Outcome.

    Anything that is not a WppError propagates: the test fails with it, which is the point (a traceback).
    """
    try:
        result = call()
    except WppError as err:
        return Outcome("error", err.message, err)
    err = getattr(result, "error", None)
    if isinstance(err, WppError):
        return Outcome("error", err.message, err)
    problems = tuple(str(p) for p in (getattr(result, "problems", None) or ()))
    if problems:
        return Outcome("warning", " ".join(problems), None, problems)
    return Outcome("accepted", f"accepted: {type(result).__name__}")


def check_readable(out: Outcome, secrets: list[str]) -> list[str]:
    """Everything wrong with what a person would read for this outcome."""
    bad = []
    if out.kind == "error":
        err = out.error
        for label, text in (("message", err.message), ("message + action", err.text)):
            bad += [f"{label}: {r}" for r in unreadable_reasons(text)]
        if unreadable_reasons(err.action) and err.action:
            bad += [f"action: {r}" for r in unreadable_reasons(err.action)]
        surfaces = {"message": err.message, "action": err.action, "detail": err.detail, "str": str(err), "repr": repr(err)}
    else:
        for p in out.problems:
            bad += [f"problem {p[:60]!r}: {r}" for r in unreadable_reasons(p)]
        surfaces = {"problems": out.message}
    for label, text in surfaces.items():
        for s in secrets:
            if s and len(s) >= 8 and s in (text or ""):
                bad.append(f"a secret ({s[:4]}…) is in the {label}")
    return bad


def plain(value) -> str | None:
    return reveal(value)
