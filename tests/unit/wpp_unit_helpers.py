"""Helpers for the unit tests (no sockets: httpx.MockTransport only)."""
from __future__ import annotations

import time
from typing import Callable

import httpx
import jwt as pyjwt

JWT_KEY = "unit-test-signing-key-that-is-long-enough-for-hs256"
API_KEY = "ak_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ"
PLATFORM_SECRET = "platform-secret-0123456789abcdef"


def make_jwt(claims: dict | None = None, *, key: str = JWT_KEY, exp_in: float | None = 900, now: float | None = None,
             **extra) -> str:
    now = time.time() if now is None else now
    body = {"sub": "0000000000004", "iat": int(now), **(claims or {}), **extra}
    if exp_in is not None and "exp" not in body:
        body["exp"] = int(now + exp_in)
    return pyjwt.encode(body, key, algorithm="HS256")


def assert_no_secret(err: BaseException, *secrets: str) -> None:
    """No full secret in str/repr/message/action/detail of an error."""
    texts = [str(err), repr(err)]
    for attr in ("message", "action", "detail"):
        texts.append(str(getattr(err, attr, "")))
    for s in secrets:
        for t in texts:
            assert s not in t, f"secret leaked into {t!r}"


class Recorder:
    """A MockTransport handler that records requests and answers from a function."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]):
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.answer(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]


