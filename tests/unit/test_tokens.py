"""JWT reading (wpp.jwtinfo), the expiry rule, and the TokenManager (single flight, back-off, write-back, 401 once)."""
from __future__ import annotations

import base64
import json
import logging
import threading
import time

import httpx
import pytest

from wpp import keys
from wpp.clock import ManualClock
from wpp.errors import InvalidApiKey, InvalidInput, InvalidToken, PlatformUnreachable, StoreError
from wpp.i18n import Text, use_language
from wpp.jwtinfo import ASSUMED_LIFETIME_S, MARGIN_S, decode_jwt, expiry_from, is_usable, jwt_expiry_ms
from wpp.masking import Secret
from wpp.models import Integration, MintedToken
from wpp.tokens import TokenAuth, TokenManager, stored_token

from .wpp_unit_helpers import API_KEY, JWT_KEY, FakeStore, Recorder, assert_no_secret, make_jwt

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
    assert bad.verified is False and any("signature does not match" in str(p) for p in bad.problems)
    assert all("another-key" not in str(p) for p in bad.problems)
    assert all(isinstance(p, Text) for p in bad.problems)  # translated when shown


@pytest.mark.parametrize(
    "text,words",
    [
        ("", "No access key"),
        (None, "No access key"),
        ("   ", "No access key"),
        ("hello", "three parts"),
        ("abc.def", "three parts"),
        ("a.b.c.d", "three parts"),
        ("ak_live_9f8e7d6c5b4a39281706f5e4d3c2b1a0ZZ", "three parts"),
        (".x.y", "part is empty"),
        ("!!!.@@@.###", "cannot be read"),
        (b64({"alg": "HS256"}) + ".bm90IGpzb24.sig", "cannot be read"),
        (b64([1, 2]) + "." + b64({"exp": 1}) + ".sig", "do not hold what an access key holds"),
        (b64({"alg": "HS256"}) + "." + b64("just a string") + ".sig", "do not hold what an access key holds"),
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
        ({"alg": "none"}, {"exp": NOW + 900}, "not signed (alg none)", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900}, "has no signature", NOW + 900),
        ({}, {"exp": NOW + 900}, "no alg", NOW + 900),
        ({"alg": "HS256"}, {"sub": "x"}, "does not say when it expires (no exp)", None),
        ({"alg": "HS256"}, {"exp": "tomorrow"}, '(exp) is not a number ("tomorrow")', None),
        ({"alg": "HS256"}, {"exp": True}, "(exp) is not a number (true)", None),
        ({"alg": "HS256"}, {"exp": None}, "exp is empty", None),
        ({"alg": "HS256"}, {"exp": 1e20}, "(exp) is absurd", None),
        ({"alg": "HS256"}, {"exp": -5}, "(exp) is absurd", None),
        ({"alg": "HS256"}, {"exp": (NOW + 900) * 1000}, "looks like milliseconds", None),
        ({"alg": "HS256"}, {"exp": NOW + 5 * 365 * 86400}, "far future", NOW + 5 * 365 * 86400),
        ({"alg": "HS256"}, {"exp": 100000}, "far past", 100000),
        ({"alg": "HS256"}, {"exp": NOW - 600}, "expired 10 minutes ago", NOW - 600),
        ({"alg": "HS256"}, {"exp": NOW + 900, "nbf": NOW + 3600}, "not valid yet", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": NOW + 3600}, "(iat) is in the future", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": "yesterday"}, "(iat) is not a number", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW + 900, "iat": 1e20}, "(iat) is in the future", NOW + 900),
        ({"alg": "HS256"}, {"exp": NOW - 100, "iat": NOW}, "(exp) is before the issue time", NOW - 100),
    ],
)
def test_readable_but_suspicious_tokens_list_problems(header, claims, words, expires_at):
    sig = "" if words in ("not signed (alg none)", "has no signature") else "c2ln"
    info = decode_jwt(unsigned(header, claims, sig), now=NOW)
    assert any(words in str(p) for p in info.problems), info.problems
    assert info.expires_at == expires_at


def test_problems_are_said_in_the_readers_language_when_shown():
    info = decode_jwt(unsigned({"alg": "HS256"}, {"exp": NOW - 600}, "c2ln"), now=NOW)
    (problem,) = info.problems
    assert problem.msgid == "The access key expired {duration} ago."  # one message, the time as a value
    with use_language("ru"):
        russian = str(problem)
    assert "10" in russian and "минут" in russian  # Babel says the duration in Russian even without a translation


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


def test_jwt_expiry_ms_reads_only_the_token():
    assert jwt_expiry_ms(make_jwt(now=NOW, exp_in=900)) == int((NOW + 900) * 1000)
    assert jwt_expiry_ms(make_jwt(now=NOW, exp_in=None)) is None
    assert jwt_expiry_ms("garbage") is None


# --- stored_token ----------------------------------------------------------------------------
def row(rid: str = "int-1", **settings) -> Integration:
    return Integration(id=rid, organization_id="123e4567-e89b-12d3-a456-426614174000",
                       settings={keys.API_KEY: API_KEY, keys.SESSION: "0000000000004", **settings})


def test_stored_token_reads_the_two_keys_and_trusts_no_token_without_an_expiry():
    tok = make_jwt(now=NOW, exp_in=900)
    assert stored_token(row()) is None
    with_exp = stored_token(row(**{keys.JWT: tok, keys.JWT_EXPIRES_AT: int((NOW + 100) * 1000)}))
    assert with_exp.token.reveal() == tok and with_exp.expires_at_ms == int((NOW + 100) * 1000)
    assert with_exp.expiry_source == "stored"
    from_claim = stored_token(row(**{keys.JWT: tok}))
    assert (from_claim.expires_at_ms, from_claim.expiry_source) == (int((NOW + 900) * 1000), "exp")
    assert stored_token(row(**{keys.JWT: make_jwt(now=NOW, exp_in=None)})) is None


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


def minted(token: str, expires_in: float, source: str = "exp") -> MintedToken:
    return MintedToken(token=Secret(token), expires_at_ms=int((NOW + expires_in) * 1000), expiry_source=source)


@pytest.fixture
def setup(make_client):
    def build(*rows, store=None, **kw):
        clock = ManualClock(NOW)
        fake = FakePlatform(clock, **{k: kw.pop(k) for k in ("reject_for_s", "lifetime") if k in kw})
        client, rec = make_client(Recorder(fake), clock=clock)
        store = store or FakeStore(*(rows or (row(),)))
        mgr = TokenManager(client, store, clock=clock, **kw)
        return mgr, client, fake, clock, store

    return build


def test_a_usable_stored_token_is_used_without_minting(setup):
    r = row(**{keys.JWT: "stored.jwt.x", keys.JWT_EXPIRES_AT: int((NOW + 600) * 1000)})
    mgr, _, fake, _, store = setup(r)
    got = mgr.token_for(r)
    assert got.token.reveal() == "stored.jwt.x"
    assert fake.minted == [] and store.merges == [] and store.lock_entries == []
    assert mgr.cached("int-1") == got


def test_a_token_within_the_margin_is_replaced_and_written_back_alone(setup):
    r = row(**{keys.JWT: "stored.jwt.x", keys.JWT_EXPIRES_AT: int((NOW + 59) * 1000), "otherFeature": {"x": 1}})
    mgr, _, fake, clock, store = setup(r)
    first = mgr.token_for(r)
    assert len(fake.minted) == 1 and first.token.reveal() == fake.minted[0]
    # only the two token keys are written, through merge_settings (other features' keys are not touched)
    assert store.merges == [("int-1", {keys.JWT: fake.minted[0], keys.JWT_EXPIRES_AT: first.expires_at_ms})]
    assert store.get("int-1").settings["otherFeature"] == {"x": 1}
    assert store.lock_entries == ["int-1"]  # minted under the store's lock
    assert mgr.token_for(r) is first  # cached now, the stale row object is ignored
    clock.advance(900 - 60)  # reaches expires_at - 60 s
    assert mgr.token_for(r) is not first
    assert len(fake.minted) == 2


def test_an_id_is_enough(setup):
    mgr, _, fake, _, store = setup()
    assert mgr.token_for("int-1").token.reveal() == fake.minted[0]
    assert mgr.auth("int-1").integration.id == "int-1"


def test_single_flight_per_number_and_numbers_do_not_block_each_other(setup):
    mgr, _, fake, _, store = setup(row("a"), row("b"))
    # Both mints must be in flight at once to pass this rendezvous: one number blocking the other would break it.
    fake.rendezvous = threading.Barrier(2, timeout=10)
    results: list[tuple[str, str]] = []
    barrier = threading.Barrier(30)
    rows = {"a": row("a"), "b": row("b")}

    def worker(rid):
        barrier.wait()
        results.append((rid, mgr.token_for(rows[rid]).token.reveal()))

    threads = [threading.Thread(target=worker, args=("a" if i < 20 else "b",)) for i in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not fake.rendezvous.broken, "the two numbers were minted one after the other"
    assert len(fake.minted) == 2  # one per number
    assert len({tok for rid, tok in results if rid == "a"}) == 1
    assert len({tok for rid, tok in results if rid == "b"}) == 1
    assert sorted(rid for rid, _ in store.merges) == ["a", "b"]


def test_refresh_skips_minting_when_someone_already_refreshed(setup):
    mgr, _, fake, _, _ = setup()
    r = row()
    first = mgr.token_for(r)
    second = mgr.refresh(r, stale=first.token)
    assert second.token != first.token and len(fake.minted) == 2
    assert mgr.refresh(r, stale=first.token) is second  # stale already replaced
    assert mgr.refresh(r, stale=first) is second  # a MintedToken is taken as its token
    assert len(fake.minted) == 2
    mgr.refresh(r)  # no stale: forced
    assert len(fake.minted) == 3
    mgr.forget("int-1")
    assert mgr.cached("int-1") is None


def test_a_replica_that_refreshed_first_is_followed_not_repeated(setup):
    """Two managers on one store: after a 401 on both, the second finds the first one's new token in the row."""
    mgr_a, client, fake, clock, store = setup()
    mgr_b = TokenManager(client, store, clock=clock)
    r = row()
    old = mgr_a.token_for(r)
    assert mgr_b.token_for(store.get("int-1")).token == old.token and len(fake.minted) == 1  # b read the store
    new = mgr_a.refresh(r, stale=old.token)
    again = mgr_b.refresh(r, stale=old.token)  # b's caches still hold the old one: the row, re-read, does not
    assert again.token == new.token and len(fake.minted) == 2


def test_another_replica_minting_while_we_wait_for_the_lock_means_no_mint(setup):
    mgr, _, fake, _, store = setup()
    other = make_jwt(now=NOW, exp_in=900, jti="other-replica")

    def other_replica_finished(rid):
        store.on_lock = None
        store.merge_settings(rid, {keys.JWT: other, keys.JWT_EXPIRES_AT: int((NOW + 900) * 1000)})

    store.on_lock = other_replica_finished
    session: dict = {}
    got = mgr.token_for(row(), session=session)
    assert got.token.reveal() == other and fake.minted == []
    assert session["int-1"].token.reveal() == other and mgr.cached("int-1").token.reveal() == other


def test_the_session_cache_gets_the_new_token_and_a_newer_one_there_is_used(setup):
    r = row(**{keys.JWT: "stored.jwt.old", keys.JWT_EXPIRES_AT: int((NOW + 30) * 1000)})
    mgr, _, fake, _, store = setup(r)
    session: dict = {}
    got = mgr.token_for(r, session=session)
    assert session == {"int-1": got} and got.token.reveal() == fake.minted[0]

    # another process (fresh caches) whose browser session holds a token newer than the store's
    mgr2 = TokenManager(mgr.client, store, clock=mgr.clock)
    newer = minted("session.jwt.newer", 800)
    tab = {"int-1": newer, "other": "not a token"}
    assert mgr2.token_for(r, session=tab) is newer
    assert len(fake.minted) == 1 and mgr2.cached("int-1") is newer
    # and the process cache's better token is handed to a tab that has an older one
    old_tab = {"int-1": minted("tab.jwt.old", 100)}
    assert mgr2.token_for(r, session=old_tab) is newer and old_tab["int-1"] is newer
    mgr2.forget("int-1", session=old_tab)
    assert "int-1" not in old_tab and mgr2.cached("int-1") is None


def test_current_is_the_best_known_token_without_io(setup):
    r = row(**{keys.JWT: "stored.jwt.old", keys.JWT_EXPIRES_AT: int((NOW - 30) * 1000)})
    mgr, _, fake, _, store = setup(r)
    assert mgr.current(r).token.reveal() == "stored.jwt.old"  # expired, still the one to show
    assert not mgr.usable(mgr.current(r))
    assert fake.minted == [] and store.lock_entries == []
    assert mgr.current(row()) is not None  # the process cache remembers it now


def test_back_off_until_the_key_is_accepted(setup, caplog):
    mgr, _, fake, clock, store = setup(reject_for_s=3)
    caplog.set_level(logging.INFO)
    got = mgr.token_for(row())
    assert got.token.reveal() == fake.minted[0]
    assert clock.time() - NOW == pytest.approx(0.5 + 1 + 2)  # slept 0.5, 1, 2 on the shared clock
    assert [rid for rid, _ in store.merges] == ["int-1"]
    assert all(API_KEY not in r.getMessage() for r in caplog.records)


def test_back_off_gives_up_after_activation_wait_with_a_clear_message(setup):
    mgr, client, fake, clock, _ = setup(reject_for_s=10_000, activation_wait_s=15)
    with pytest.raises(InvalidApiKey) as ei:
        mgr.token_for(row())
    assert "retrying for 15 seconds" in ei.value.message and ei.value.status == 403
    assert "6 attempts" in ei.value.detail
    assert clock.time() - NOW == pytest.approx(15)  # 0.5 + 1 + 2 + 4 + 7.5
    assert_no_secret(ei.value, API_KEY)


def test_no_back_off_when_activation_wait_is_zero(setup):
    mgr, _, fake, clock, _ = setup(reject_for_s=10_000, activation_wait_s=0)
    with pytest.raises(InvalidApiKey):
        mgr.token_for(row())
    assert clock.time() == NOW


def test_a_number_without_a_platform_key_gets_words_not_a_request(setup):
    bare = Integration(id="int-1", organization_id="123e4567-e89b-12d3-a456-426614174000", settings={})
    mgr, _, fake, _, _ = setup(bare)
    with pytest.raises(InvalidInput, match="no permanent key"):
        mgr.token_for(bare)
    assert fake.minted == []


def test_a_failing_write_back_does_not_lose_the_token(setup, caplog):
    mgr, _, fake, _, store = setup()
    store.fail_merge = StoreError(detail=f"db down while saving for {API_KEY}")
    caplog.set_level(logging.WARNING, logger="wpp.tokens")
    session: dict = {}
    got = mgr.token_for(row(), session=session)
    assert mgr.cached("int-1") is got and session["int-1"] is got and mgr.token_for(row()) is got
    assert len(fake.minted) == 1
    (record,) = [r for r in caplog.records if r.name == "wpp.tokens"]
    assert "StoreError" in record.getMessage()
    assert fake.minted[0] not in record.getMessage() and API_KEY not in record.getMessage()


def test_a_mint_lock_that_cannot_be_had_does_not_stop_the_work(setup, caplog):
    mgr, _, fake, _, store = setup()
    store.fail_lock = StoreError(detail="lock timeout")
    caplog.set_level(logging.WARNING, logger="wpp.tokens")
    assert mgr.token_for(row()).token.reveal() == fake.minted[0]
    assert any("minting without it" in r.getMessage() for r in caplog.records)


def test_auth_retries_a_401_exactly_once(setup):
    mgr, client, fake, _, _ = setup()
    auth = mgr.auth(row())
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
    mgr = TokenManager(client, FakeStore(row()), clock=clock)
    with pytest.raises(InvalidToken) as ei:
        client.get_status("0000000000004", mgr.auth(row()))
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
    mgr = TokenManager(client, FakeStore(row()), clock=clock)
    with pytest.raises(PlatformUnreachable):
        client.get_status("0000000000004", mgr.auth(row()))


def test_token_auth_repr_is_masked_and_it_is_for_the_sync_client_only(setup):
    mgr, *_ = setup()
    auth = mgr.auth(row())
    assert isinstance(auth, TokenAuth) and API_KEY not in repr(auth) and API_KEY in auth.known_secrets()
    flow = auth.async_auth_flow(httpx.Request("GET", "https://x.test/"))
    with pytest.raises(NotImplementedError):
        flow.asend(None).send(None)
