"""JWT decoding, the expiry rule, and the TokenManager (single flight, back-off, write-back, 401 once)."""
from __future__ import annotations

import base64
import json
import logging
import threading
import time

import httpx
import pytest

from wpp.clock import ManualClock
from wpp.errors import InvalidApiKey, InvalidInput, InvalidToken, PlatformUnreachable
from wpp.masking import Secret
from wpp.models import MintedToken
from wpp.tokens import (
    ASSUMED_LIFETIME_S,
    MARGIN_S,
    TokenAuth,
    TokenManager,
    decode_jwt,
    expiry_from,
    is_usable,
)

from .wpp_unit_helpers import API_KEY, JWT_KEY, Recorder, assert_no_secret, make_jwt

NOW = 1_800_000_000.0


def b64(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, sig: str = "") -> str:
    return f"{b64(header)}.{b64(claims)}.{sig}"


# --- decode_jwt ------------------------------------------------------------------------------
def test_decode_a_normal_token():
    tok = make_jwt(now=NOW, exp_in=900, organizationId="org-1")
    info = decode_jwt(tok, now=NOW)
    assert info.algorithm == "HS256" and info.subject == "0000000000004"
    assert info.issued_at == NOW and info.expires_at == NOW + 900 and info.expires_at_ms == (NOW + 900) * 1000
    assert info.verified is None and info.problems == []
    assert info.seconds_left(NOW + 100) == 800
    assert tok not in repr(info)
    assert decode_jwt("Bearer " + tok, now=NOW).expires_at == NOW + 900
    assert decode_jwt(Secret(tok), now=NOW).subject == "0000000000004"


def test_verification_only_with_a_key():
    tok = make_jwt(now=NOW)
    assert decode_jwt(tok, key=JWT_KEY, now=NOW).verified is True
    bad = decode_jwt(tok, key="another-key-that-is-long-enough-for-hs256!!", now=NOW)
    assert bad.verified is False and any("signature does not match" in p for p in bad.problems)
    assert all("another-key" not in p for p in bad.problems)


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "No token"),
        (None, "No token"),
        ("   ", "No token"),
        ("hello", "three parts"),
        ("abc.def", "three parts"),
        ("a.b.c.d", "three parts"),
        ("ak_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ", "three parts"),
        (".x.y", "empty"),
        ("!!!.@@@.###", "cannot be read"),
        (b64({"alg": "HS256"}) + ".bm90IGpzb24.sig", "cannot be read"),
        (b64([1, 2]) + "." + b64({"exp": 1}) + ".sig", "JSON objects"),
        (b64({"alg": "HS256"}) + "." + b64("just a string") + ".sig", "JSON objects"),
    ],
)
def test_unreadable_text_is_invalid_input(text, words):
    with pytest.raises(InvalidInput) as ei:
        decode_jwt(text, now=NOW)
    assert words in str(ei.value)


def test_truncated_tokens_are_unreadable_or_unsigned_never_a_crash():
    tok = make_jwt(now=NOW)
    head, payload, sig = tok.split(".")
    for cut in range(1, len(tok)):
        piece = tok[:cut]
        try:
            decode_jwt(piece, now=NOW)
        except InvalidInput as err:
            assert len(piece) < 20 or piece not in str(err)
            continue
        # only cuts inside the signature are still readable
        assert len(piece) > len(head) + len(payload) + 1
        assert decode_jwt(piece, key=JWT_KEY, now=NOW).verified is False or piece == tok


@pytest.mark.parametrize(
    "header,claims,words,expires_at",
    [
        ({"alg": "none"}, {"exp": NOW + 900}, "alg none", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900}, "no signature", NOW + 900),
        ({}, {"exp": NOW + 900}, "no alg", NOW + 900),
        ({"alg": "HS256"}, {"sub": "x"}, "no exp claim", None),
        ({"alg": "HS256"}, {"exp": "tomorrow"}, 'exp is not a number ("tomorrow")', None),
        ({"alg": "HS256"}, {"exp": True}, "exp is not a number (true)", None),
        ({"alg": "HS256"}, {"exp": None}, "exp is empty (null)", None),
        ({"alg": "HS256"}, {"exp": 1e20}, "exp is absurd", None),
        ({"alg": "HS256"}, {"exp": -5}, "exp is absurd", None),
        ({"alg": "HS256"}, {"exp": (NOW + 900) * 1000}, "looks like milliseconds", None),
        ({"alg": "HS256"}, {"exp": NOW + 5 * 365 * 86400}, "far future", NOW + 5 * 365 * 86400),
        ({"alg": "HS256"}, {"exp": 100000}, "far past", 100000),
        ({"alg": "HS256"}, {"exp": NOW - 600}, "expired 10 min ago", NOW - 600),
        ({"alg": "HS256"}, {"exp": NOW + 900, "nbf": NOW + 3600}, "not yet valid", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": NOW + 3600}, "iat is in the future", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": "yesterday"}, "iat is not a number", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": 1e20}, "iat is in the future", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW - 100, "iat": NOW}, "exp is before iat", NOW - 100),
    ],
)
def test_readable_but_suspicious_tokens_list_problems(header, claims, words, expires_at):
    sig = "" if words in ("alg none", "no signature") else "c2ln"
    info = decode_jwt(unsigned(header, claims, sig), now=NOW)
    assert any(words in p for p in info.problems), info.problems
    assert info.expires_at == expires_at


def test_absurd_times_are_never_handed_out_as_dates():
    info = decode_jwt(unsigned({"alg": "HS256"}, {"exp": 1e20, "iat": 1e20, "nbf": float("nan")}, "c2ln"), now=NOW)
    assert info.issued_at is None and info.expires_at is None
    assert info.claim_time("exp") is None and info.claim_time("iat") is None and info.claim_time("nbf") is None
    ok = decode_jwt(make_jwt(now=NOW), now=NOW)
    assert ok.claim_time("iat") == NOW and ok.claim_time("exp") == NOW + 900 and ok.claim_time("sub") is None


def test_alg_none_never_verifies():
    tok = unsigned({"alg": "none", "typ": "JWT"}, {"sub": "x", "exp": NOW + 900})
    info = decode_jwt(tok, key=JWT_KEY, now=NOW)
    assert info.verified is False and info.algorithm == "none"


# --- expiry_from / is_usable -----------------------------------------------------------------
def test_exp_wins_over_expires_in():
    assert expiry_from(make_jwt(now=NOW, exp_in=900), 60, NOW) == (int((NOW + 900) * 1000), "exp")


@pytest.mark.parametrize("expires_in", [900, 900.0, "900", " 900 "])
def test_expires_in_when_there_is_no_exp(expires_in):
    assert expiry_from(make_jwt(now=NOW, exp_in=None), expires_in, NOW) == (int((NOW + 900) * 1000), "expiresIn")


@pytest.mark.parametrize("expires_in", [None, 0, -5, "soon", float("nan"), float("inf"), True, 10**12])
def test_assumed_when_neither(expires_in):
    assert expiry_from(make_jwt(now=NOW, exp_in=None), expires_in, NOW) == (
        int((NOW + ASSUMED_LIFETIME_S) * 1000), "assumed")


def test_absurd_exp_falls_back_to_expires_in_and_garbage_to_assumed():
    absurd = unsigned({"alg": "HS256"}, {"exp": 1e20}, "c2ln")
    assert expiry_from(absurd, 900, NOW)[1] == "expiresIn"
    assert expiry_from("not a jwt", None, NOW)[1] == "assumed"
    assert ASSUMED_LIFETIME_S == 300


def test_is_usable_is_the_seed_rule():
    exp_ms = int((NOW + 600) * 1000)
    assert MARGIN_S == 60
    assert is_usable(exp_ms, NOW + 539) is True
    assert is_usable(exp_ms, NOW + 540) is False  # now < expires_at - 60 s, strictly
    assert is_usable(exp_ms, NOW + 700) is False
    assert is_usable(None, NOW) is False
    assert is_usable(exp_ms, NOW + 580, margin_s=10) is True


# --- TokenManager ----------------------------------------------------------------------------
class FakePlatform:
    """/auth/token and /api/.../status behind a MockTransport, with a clock."""

    def __init__(self, clock, *, reject_for_s: float = 0.0, lifetime: float = 900):
        self.clock = clock
        self.created = clock.time()
        self.reject_for_s = reject_for_s
        self.lifetime = lifetime
        self.minted: list[str] = []
        self.valid: set[str] = set()
        self.lock = threading.Lock()
        self.delay_s = 0.0
        self.rendezvous: threading.Barrier | None = None
        self.status_calls = 0

    def __call__(self, req: httpx.Request) -> httpx.Response:
        if req.url.path == "/auth/token":
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.rendezvous is not None:
                self.rendezvous.wait()  # BrokenBarrierError unless another mint is in flight at the same time
            if self.clock.time() < self.created + self.reject_for_s:
                return httpx.Response(403, json={"error": "Invalid API key"})
            with self.lock:
                tok = make_jwt(now=self.clock.time(), exp_in=self.lifetime, jti=str(len(self.minted)))
                self.minted.append(tok)
                self.valid = {tok}
            return httpx.Response(200, json={"token": tok})
        with self.lock:
            self.status_calls += 1
        auth = req.headers.get("Authorization", "")
        if auth.removeprefix("Bearer ") in self.valid:
            return httpx.Response(200, json={"status": "connected"})
        return httpx.Response(401, json={"error": "Invalid token"})


@pytest.fixture
def setup(make_client):
    def build(**kw):
        clock = ManualClock(NOW)
        fake = FakePlatform(clock, **{k: kw.pop(k) for k in ("reject_for_s", "lifetime") if k in kw})
        client, rec = make_client(Recorder(fake), clock=clock)
        saved: dict[str, MintedToken] = {}
        mgr = TokenManager(client, clock=clock, on_new_token=lambda key, m: saved.__setitem__(key, m), **kw)
        return mgr, client, fake, clock, saved

    return build


def test_get_uses_a_usable_stored_token_without_minting(setup):
    mgr, _, fake, _, saved = setup()
    stored = MintedToken(token=Secret("stored.jwt.x"), expires_at_ms=int((NOW + 600) * 1000), expiry_source="exp")
    assert mgr.get("int-1", API_KEY, stored=stored) is stored
    assert fake.minted == [] and saved == {}
    assert mgr.cached("int-1") is stored


def test_get_mints_when_the_stored_token_is_within_the_margin_and_writes_back(setup):
    mgr, _, fake, clock, saved = setup()
    stored = MintedToken(token=Secret("stored.jwt.x"), expires_at_ms=int((NOW + 59) * 1000), expiry_source="exp")
    minted = mgr.get("int-1", API_KEY, stored=stored)
    assert len(fake.minted) == 1 and minted.token.reveal() == fake.minted[0]
    assert saved["int-1"] is minted
    assert mgr.get("int-1", API_KEY, stored=stored) is minted  # cached now, the stale row is ignored
    clock.advance(900 - 60)  # reaches expires_at - 60 s
    assert mgr.get("int-1", API_KEY, stored=stored) is not minted
    assert len(fake.minted) == 2


def test_single_flight_per_key_and_keys_do_not_block_each_other(setup):
    mgr, _, fake, _, saved = setup()
    # Both mints must be in flight at once to pass this rendezvous: one key blocking the other would break it.
    fake.rendezvous = threading.Barrier(2, timeout=10)
    results: list[str] = []
    barrier = threading.Barrier(30)

    def worker(key):
        barrier.wait()
        results.append((key, mgr.get(key, API_KEY).token.reveal()))

    threads = [threading.Thread(target=worker, args=("a" if i < 20 else "b",)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not fake.rendezvous.broken, "the two keys were minted one after the other"
    assert len(fake.minted) == 2  # one per key
    assert len({tok for key, tok in results if key == "a"}) == 1
    assert len({tok for key, tok in results if key == "b"}) == 1
    assert set(saved) == {"a", "b"}


def test_refresh_skips_minting_when_someone_already_refreshed(setup):
    mgr, _, fake, _, _ = setup()
    first = mgr.get("k", API_KEY)
    second = mgr.refresh("k", API_KEY, stale=first.token)
    assert second.token != first.token and len(fake.minted) == 2
    assert mgr.refresh("k", API_KEY, stale=first.token) is second  # stale already replaced
    assert len(fake.minted) == 2
    mgr.refresh("k", API_KEY)  # no stale: forced
    assert len(fake.minted) == 3
    mgr.invalidate("k")
    assert mgr.cached("k") is None


def test_back_off_until_the_key_is_accepted(setup, caplog):
    mgr, _, fake, clock, saved = setup(reject_for_s=3)
    caplog.set_level(logging.INFO)
    minted = mgr.get("k", API_KEY)
    assert minted.token.reveal() == fake.minted[0]
    assert clock.time() - NOW == pytest.approx(0.5 + 1 + 2)  # slept 0.5, 1, 2 on the shared clock
    assert "k" in saved
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_back_off_gives_up_after_activation_wait_with_a_clear_message(setup):
    mgr, client, fake, clock, _ = setup(reject_for_s=10_000, activation_wait_s=15)
    with pytest.raises(InvalidApiKey) as ei:
        mgr.get("k", API_KEY)
    assert "retrying for 15 seconds" in ei.value.message and ei.value.status == 403
    assert clock.time() - NOW == pytest.approx(15)  # 0.5 + 1 + 2 + 4 + 7.5
    assert_no_secret(ei.value, API_KEY)


def test_no_back_off_when_activation_wait_is_zero(setup):
    mgr, _, fake, clock, _ = setup(reject_for_s=10_000, activation_wait_s=0)
    with pytest.raises(InvalidApiKey):
        mgr.get("k", API_KEY)
    assert clock.time() == NOW


def test_a_failing_write_back_does_not_lose_the_token(make_client, caplog):
    clock = ManualClock(NOW)
    fake = FakePlatform(clock)
    client, _ = make_client(Recorder(fake), clock=clock)

    def broken(key, minted):
        raise RuntimeError(f"db down while saving {minted.token.reveal()} for {API_KEY}")

    mgr = TokenManager(client, clock=clock, on_new_token=broken)
    caplog.set_level(logging.WARNING, logger="wpp.tokens")
    minted = mgr.get("k", API_KEY)
    assert mgr.cached("k") is minted and mgr.get("k", API_KEY) is minted
    assert len(fake.minted) == 1
    (record,) = [r for r in caplog.records if r.name == "wpp.tokens"]
    assert "RuntimeError" in record.getMessage()
    assert fake.minted[0] not in record.getMessage() and API_KEY not in record.getMessage()


def test_auth_for_retries_a_401_exactly_once(setup):
    mgr, client, fake, _, _ = setup()
    auth = mgr.auth_for("k", API_KEY)
    assert client.get_status("0000000000004", auth).connected
    assert (fake.status_calls, len(fake.minted)) == (1, 1)
    fake.valid = set()  # the platform forgets the token: one refresh, one retry, success
    assert client.get_status("0000000000004", auth).connected
    assert (fake.status_calls, len(fake.minted)) == (3, 2)
    assert auth.retried


def test_a_second_401_becomes_invalid_token_without_looping(make_client):
    clock = ManualClock(NOW)
    mints = []

    def answer(req):
        if req.url.path == "/auth/token":
            tok = make_jwt(now=clock.time(), jti=str(len(mints)))
            mints.append(tok)
            return httpx.Response(200, json={"token": tok})
        return httpx.Response(401, json={"error": "Invalid token"})

    client, rec = make_client(answer, clock=clock)
    mgr = TokenManager(client, clock=clock)
    with pytest.raises(InvalidToken) as ei:
        client.get_status("0000000000004", mgr.auth_for("k", API_KEY))
    assert rec.paths().count("GET /api/accounts/0000000000004/status") == 2
    assert len(mints) == 2  # the first token, then exactly one refresh
    assert_no_secret(ei.value, API_KEY, *mints)


def test_a_failing_refresh_surfaces_as_its_own_typed_error(make_client):
    clock = ManualClock(NOW)
    calls = {"mint": 0}

    def answer(req):
        if req.url.path == "/auth/token":
            calls["mint"] += 1
            if calls["mint"] > 1:
                raise httpx.ConnectError("refused", request=req)
            return httpx.Response(200, json={"token": make_jwt(now=clock.time())})
        return httpx.Response(401, json={"error": "Invalid token"})

    client, _ = make_client(answer, clock=clock)
    mgr = TokenManager(client, clock=clock)
    with pytest.raises(PlatformUnreachable):
        client.get_status("0000000000004", mgr.auth_for("k", API_KEY))


def test_token_auth_repr_is_masked(setup):
    mgr, *_ = setup()
    auth = mgr.auth_for("k", API_KEY)
    assert isinstance(auth, TokenAuth) and API_KEY not in repr(auth)
