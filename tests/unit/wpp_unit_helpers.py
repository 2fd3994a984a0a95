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




class FakeStore:
    """The part of the IntegrationStore protocol the TokenManager uses, in memory (no sockets, no files).

    ``token_mint_lock`` is one lock per number shared by every TokenManager given this store (two managers on
    one FakeStore are two replicas on one database). Hooks let a test act as "another replica" while a manager
    waits for the lock, and make the write-back or the lock fail.
    """

    def __init__(self, *rows):
        import copy
        import threading

        from wpp.models import Integration

        self._copy = copy.deepcopy
        self._rows: dict[str, Integration] = {r.id: copy.deepcopy(r) for r in rows}
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.merges: list[tuple[str, dict]] = []
        self.gets: list[str] = []
        self.lock_entries: list[str] = []
        self.on_lock = None  # callable(integration_id), run just after the lock is taken
        self.fail_merge: Exception | None = None
        self.fail_lock: Exception | None = None

    def add(self, row):
        with self._guard:
            self._rows[row.id] = self._copy(row)
        return row

    def get(self, integration_id):
        from wpp.errors import IntegrationNotFound

        with self._guard:
            self.gets.append(integration_id)
            row = self._rows.get(integration_id)
            if row is None:
                raise IntegrationNotFound()
            return self._copy(row)

    def merge_settings(self, integration_id, patch):
        with self._guard:
            if self.fail_merge is not None:
                raise self.fail_merge
            self.merges.append((integration_id, dict(patch)))
            row = self._rows[integration_id]
            for k, v in patch.items():
                if v is None:
                    row.settings.pop(k, None)
                else:
                    row.settings[k] = v
            return self._copy(row)

    def token_mint_lock(self, integration_id, *, timeout_s=30.0):
        import contextlib

        from wpp.errors import StoreError

        if self.fail_lock is not None:
            raise self.fail_lock
        with self._guard:
            lock = self._locks.setdefault(integration_id, __import__("threading").Lock())

        @contextlib.contextmanager
        def held():
            if not lock.acquire(timeout=timeout_s):
                raise StoreError(detail="mint lock timeout")
            try:
                self.lock_entries.append(integration_id)
                if self.on_lock is not None:
                    self.on_lock(integration_id)
                yield
            finally:
                lock.release()

        return held()
