"""A small in-memory stand-in for the sign-in part of the store protocol (wpp.store.base.IntegrationStore), written
from the protocol's docstrings. The session tests run against it and against SqliteStore when that has the methods."""
from __future__ import annotations

import secrets
import threading
from dataclasses import replace

from wpp.errors import StoreError
from wpp.models import SignInSession


class FakeSignInStore:
    def __init__(self):
        self._lock = threading.Lock()
        self.sessions: dict[str, SignInSession] = {}
        self.secrets: dict[str, str] = {}
        self.touches = 0
        self.reads = 0

    def create_sign_in_session(self, session: SignInSession) -> None:
        with self._lock:
            for s in self.sessions.values():
                if s.key == session.key or (session.id_hash and s.id_hash == session.id_hash) or (
                        session.ticket_hash and s.ticket_hash == session.ticket_hash):
                    raise StoreError("duplicate sign-in")
            self.sessions[session.key] = session

    def redeem_sign_in_ticket(self, ticket_hash: str, id_hash: str, *, now: float) -> SignInSession | None:
        with self._lock:
            for key, s in self.sessions.items():
                if s.ticket_hash == ticket_hash:
                    if s.revoked_at is not None or s.ticket_expires_at is None or now >= s.ticket_expires_at:
                        return None
                    new = replace(s, id_hash=id_hash, ticket_hash=None, ticket_expires_at=None)
                    self.sessions[key] = new
                    return new
            return None

    def get_sign_in_session(self, *, key: str | None = None, id_hash: str | None = None) -> SignInSession | None:
        assert (key is None) != (id_hash is None)
        with self._lock:
            self.reads += 1
            if key is not None:
                return self.sessions.get(key)
            return next((s for s in self.sessions.values() if s.id_hash == id_hash), None)

    def touch_sign_in_session(self, key: str, *, last_seen_at: float, expires_at: float | None = None) -> None:
        with self._lock:
            s = self.sessions.get(key)
            if s is not None:
                self.touches += 1
                self.sessions[key] = replace(s, last_seen_at=last_seen_at,
                                             expires_at=s.expires_at if expires_at is None else expires_at)

    def revoke_sign_in_session(self, key: str, *, at: float) -> None:
        with self._lock:
            s = self.sessions.get(key)
            if s is not None and s.revoked_at is None:
                self.sessions[key] = replace(s, revoked_at=at)

    def purge_sign_in_sessions(self, *, before: float) -> int:
        with self._lock:
            gone = [k for k, s in self.sessions.items()
                    if s.expires_at < before or (s.revoked_at is not None and s.revoked_at < before)]
            for k in gone:
                del self.sessions[k]
            return len(gone)

    def console_secret(self, name: str) -> str:
        with self._lock:
            return self.secrets.setdefault(name, secrets.token_hex(32))
