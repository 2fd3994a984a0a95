"""The client and the token manager against the simulator: what a staff member would notice."""
from __future__ import annotations

import io
import logging

import pytest
import zxingcpp
from PIL import Image

from wpp.errors import (
    BadResponse,
    InvalidApiKey,
    InvalidSecret,
    InvalidToken,
    NotFound,
    PlatformError,
    PlatformTimeout,
    PlatformUnreachable,
    WppError,
)
from wpp import keys
from wpp.models import ConnState, MintedToken
from wpp.qr import qr_to_png
from wpp.simulator.platform import phone_for
from wpp.store.sqlite import SqliteStore
from wpp.tokens import TokenManager

from tests.harness import run_together

TOKEN = "POST /auth/token"
STATUS = "GET /api/accounts/{session}/status"


def decode_png(png: bytes) -> str:
    """The one text the QR image encodes (zxing may report the same symbol twice)."""
    # QR codes only: zxing's 1D readers now and then "see" a short barcode in a QR code's modules
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    (text,) = {r.text for r in found}
    return text


def test_create_token_start_pair_and_send(manual_sim, client_for, org, stores, add_row):
    sim, clock = manual_sim
    client = client_for(sim)
    store = stores()
    tokens = TokenManager(client, store, clock=clock)
    created = client.create_client(org)
    assert created.session.isdigit() and len(created.session) == 13
    assert created.status.state is ConnState.STARTING
    row = add_row(store, created, org, otherFeature={"x": 1})
    session: dict = {}
    auth = tokens.auth(row, session=session)

    started = client.start_account(created.session, auth)
    assert started.status is not None and started.status.state is ConnState.STARTING
    saved = store.get(row.id).settings
    assert saved[keys.JWT_EXPIRES_AT] == int((clock.time() + 900) * 1000)
    assert saved[keys.JWT] == session[row.id].token.reveal() == tokens.cached(row.id).token.reveal()
    assert saved["otherFeature"] == {"x": 1}
    assert client.get_qr(created.session, auth) is None  # still starting

    clock.advance(1.5)
    assert client.get_status(created.session, auth).state is ConnState.QR_REQUIRED
    payload = client.get_qr(created.session, auth)
    text = decode_png(qr_to_png(payload, size_px=380))
    assert text == sim.current_qr(created.session)

    assert sim.scan(created.session, text)
    status = client.get_status(created.session, auth)
    assert status.connected and status.phone is None  # platform-api.md: the status answer names no phone
    result = client.send_text("+7 (900) 123-45-67", "Привет from WPP Console", auth)
    assert result.status == "queued" and result.task_id
    (msg,) = sim.messages(created.session)
    assert (msg["to"], msg["text"], msg["taskId"]) == ("79001234567", "Привет from WPP Console", result.task_id)
    assert sim.count(TOKEN) == 1

    client.delete_message(result.task_id, auth)
    with pytest.raises(NotFound, match="message"):
        client.delete_message(result.task_id, auth)
    client.register_webhook(created.session, "https://example.com/hook", auth)
    client.stop_session(created.session, auth)
    assert client.get_status(created.session, auth).state is ConnState.OFFLINE


def test_a_platform_that_reports_the_phone_shows_it(sim, client_for, org):
    client = client_for(sim)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    sim.knobs.report_phone = True  # a knob changed while the simulator runs
    sim.set_status(created.session, "qr_required")
    assert client.get_status(created.session, token).phone is None  # nothing linked yet
    assert sim.scan(created.session, sim.current_qr(created.session), phone="+44 7911 123456".replace(" ", ""))
    assert client.get_status(created.session, token).phone == "447911123456"
    other = client.create_client(f"{org}__wpp__0000000b")
    other_token = client.mint_token(other.api_key).token
    sim.set_status(other.session, "connected")  # linked outside the console: the simulator makes up a number
    assert client.get_status(other.session, other_token).phone == phone_for(other.session)
    sim.knobs.report_phone = False
    assert client.get_status(created.session, token).phone is None


def test_second_create_returns_the_same_key_and_a_sub_org_gets_its_own(sim, client_for, org):
    client = client_for(sim)
    first = client.create_client(org)
    again = client.create_client(org.upper())
    second_number = client.create_client(f"{org}__wpp__1a2b3c4d")
    assert again.api_key == first.api_key and again.session == first.session
    assert second_number.session != first.session and second_number.api_key != first.api_key


def test_create_with_a_supabase_user_jwt_and_with_a_wrong_secret(sim, client_for, org):
    client = client_for(sim, secret=None)
    assert client.create_client(org, user_jwt=sim.make_supabase_jwt()).session
    with pytest.raises(InvalidSecret) as ei:
        client.create_client(org, secret="not-the-platform-secret")
    assert ei.value.status == 401 and "not-the-platform-secret" not in ei.value.detail


def test_an_expired_stored_token_is_refreshed_exactly_once_and_written_back(manual_sim, client_for, org, stores,
                                                                              add_row):
    sim, clock = manual_sim
    client = client_for(sim)
    store = stores()
    created = client.create_client(org)
    first = client.mint_token(created.api_key)
    row = add_row(store, created, org, otherFeature={"x": 1}, **{keys.JWT: first.token.reveal(),
                                                                  keys.JWT_EXPIRES_AT: first.expires_at_ms})
    clock.advance(900 - 30)  # 30 s left: inside the 60 s margin
    sim.reset_counters()

    tokens = TokenManager(client, store, clock=clock)  # a fresh process: empty cache
    for _ in range(5):
        client.get_status(created.session, tokens.auth(store.get(row.id)))
    saved = store.get(row.id).settings
    assert sim.count(TOKEN) == 1
    assert saved[keys.JWT] != first.token.reveal()
    assert saved[keys.JWT_EXPIRES_AT] == int((clock.time() + 900) * 1000)
    assert saved["otherFeature"] == {"x": 1}
    assert sim.count(STATUS) == 5  # no 401 round trips: the stale token was never sent


def test_fifty_threads_asking_for_one_number_cause_one_mint(sim, client_for, org, stores, add_row):
    client = client_for(sim)
    store = stores()
    created = client.create_client(org)
    row = add_row(store, created, org)
    tokens = TokenManager(client, store)
    sim.reset_counters()
    got, errors = run_together(lambda: tokens.token_for(row).token.reveal(), 50)
    assert not errors
    assert sim.count(TOKEN) == 1
    assert len(got) == 50 and len(set(got)) == 1
    assert store.get(row.id).settings[keys.JWT] == got[0]


def test_two_replicas_on_one_database_mint_once(sim, client_for, org, stores, add_row):
    """Two processes' worth of state (own client, own store connections, own TokenManager) on one SQLite file:
    20 threads in each ask at once for a number whose saved token has expired -> one /auth/token in all."""
    created = client_for(sim).create_client(org)
    row = add_row(stores(), created, org, **{keys.JWT: "expired.jwt.token", keys.JWT_EXPIRES_AT: 1_000})
    replicas = [TokenManager(client_for(sim), stores()) for _ in range(2)]
    tabs = [{}, {}]  # one browser session on each replica
    sim.reset_counters()
    counter = iter(range(40))

    def ask():
        i = next(counter)
        return replicas[i % 2].token_for(row, session=tabs[i % 2] if i < 4 else None).token.reveal()

    got, errors = run_together(ask, 40)
    assert not errors, errors[:3]
    assert sim.count(TOKEN) == 1
    assert len(got) == 40 and len(set(got)) == 1
    assert stores().get(row.id).settings[keys.JWT] == got[0]
    assert [tab[row.id].token.reveal() for tab in tabs] == [got[0], got[0]]  # the sessions got the new token
    assert all(r.cached(row.id).token.reveal() == got[0] for r in replicas)


def test_a_refresh_on_one_replica_is_followed_by_the_other(sim, client_for, org, stores, add_row):
    """The platform drops the tokens; both replicas get a 401 for the same old token: one mint, not two."""
    created = client_for(sim).create_client(org)
    row = add_row(stores(), created, org)
    a, b = (TokenManager(client_for(sim), stores()) for _ in range(2))
    old = a.token_for(row)
    assert b.token_for(stores().get(row.id)).token == old.token  # read from the database, not minted
    sim.expire_tokens()
    sim.reset_counters()
    assert a.client.get_status(created.session, a.auth(row)).state is ConnState.STARTING
    assert b.client.get_status(created.session, b.auth(row)).state is ConnState.STARTING
    assert sim.count(TOKEN) == 1 and sim.count(STATUS) == 4  # each: one 401 and one retry


def test_a_newer_token_in_the_browser_session_is_used_without_a_mint(sim, client_for, org, stores, add_row):
    client = client_for(sim)
    store = stores()
    created = client.create_client(org)
    row = add_row(store, created, org, **{keys.JWT: "expired.jwt.token", keys.JWT_EXPIRES_AT: 1_000})
    tab = {row.id: client.mint_token(created.api_key)}  # what this tab got earlier (its write-back was lost)
    tokens = TokenManager(client, store)  # a process that has never seen this number
    sim.reset_counters()
    assert client.get_status(created.session, tokens.auth(row, session=tab)).state is ConnState.STARTING
    assert sim.count(TOKEN) == 0 and sim.count(STATUS) == 1
    assert tokens.cached(row.id) is tab[row.id]


def test_fifty_calls_after_the_platform_drops_tokens_cause_one_refresh(sim, client_for, org, stores, add_row):
    client = client_for(sim)
    store = stores()
    created = client.create_client(org)
    row = add_row(store, created, org)
    tokens = TokenManager(client, store)
    tokens.token_for(row)
    sim.expire_tokens()
    sim.reset_counters()
    states, errors = run_together(lambda: client.get_status(created.session, tokens.auth(row)).state, 50)
    assert not errors, errors[:3]
    assert len(states) == 50
    assert sim.count(TOKEN) == 1
    assert 51 <= sim.count(STATUS) <= 100  # each call: at most one 401 and one retry


def test_a_401_is_retried_exactly_once(sim, client_for, org, stores, add_row):
    client = client_for(sim)
    store = stores()
    created = client.create_client(org)
    tokens = TokenManager(client, store)
    auth = tokens.auth(add_row(store, created, org))
    client.get_status(created.session, auth)
    sim.reset_counters()
    sim.add_fault("invalid_token", endpoint="status", times=2)
    with pytest.raises(InvalidToken) as ei:
        client.get_status(created.session, auth)
    assert sim.count(STATUS) == 2 and sim.count(TOKEN) == 1
    assert ei.value.status == 401 and "Get a new access key" in str(ei.value)
    # one fault only: the retry with the fresh token succeeds
    sim.add_fault("invalid_token", endpoint="status", times=1)
    sim.reset_counters()
    assert client.get_status(created.session, auth).state is not None
    assert sim.count(STATUS) == 2 and sim.count(TOKEN) == 1


def test_a_just_created_key_is_accepted_after_back_off(client_for, org, stores, add_row):
    from wpp.clock import ManualClock
    from wpp.simulator import SimKnobs, Simulator

    clock = ManualClock(1_800_000_000.0)
    with Simulator(SimKnobs(key_activation_delay_s=3), clock=clock) as sim:
        client = client_for(sim)
        store = stores()
        created = client.create_client(org)
        with pytest.raises(InvalidApiKey):
            client.mint_token(created.api_key)  # one plain attempt is refused
        tokens = TokenManager(client, store, clock=clock)
        minted = tokens.token_for(add_row(store, created, org))
        assert minted.token
        assert clock.time() - 1_800_000_000.0 == pytest.approx(3.5)  # slept 0.5 + 1 + 2
        assert sim.count(TOKEN) == 1 + 4


def test_a_key_that_never_activates_gives_up_with_the_wait_in_the_message(client_for, org, stores, add_row):
    from wpp.clock import ManualClock
    from wpp.simulator import SimKnobs, Simulator

    clock = ManualClock(1_800_000_000.0)
    with Simulator(SimKnobs(key_activation_delay_s=3600), clock=clock) as sim:
        client = client_for(sim)
        store = stores()
        created = client.create_client(org)
        row = add_row(store, created, org)
        with pytest.raises(InvalidApiKey) as ei:
            TokenManager(client, store, clock=clock, activation_wait_s=15).token_for(row)
        assert "retrying for 15 seconds" in ei.value.message and ei.value.status == 403
        assert keys.JWT not in store.get(row.id).settings


FAULTS = [
    ("500", PlatformError, 500, "internal error"),
    ("html502", PlatformError, 502, "error page"),
    ("malformed", BadResponse, 200, "not valid JSON"),
    ("empty", BadResponse, 200, "empty answer"),
    ("invalid_token", InvalidToken, 401, "access key"),
    ("timeout", PlatformTimeout, None, "did not answer in time"),
]


@pytest.mark.parametrize("kind,cls,status,words", FAULTS, ids=[f[0] for f in FAULTS])
def test_every_injected_fault_gives_its_typed_error(sim, client_for, org, kind, cls, status, words):
    sim.knobs.timeout_hold_s = 1.0
    client = client_for(sim, timeout=0.4)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    sim.add_fault(kind, endpoint="status", times=1)
    with pytest.raises(WppError) as ei:
        client.get_status(created.session, token)  # a plain JWT: no refresh
    err = ei.value
    assert type(err) is cls and err.status == status
    assert words in err.message and err.message.endswith(".")
    assert f"GET /api/accounts/{created.session}/status" in err.detail
    assert token.reveal() not in str(err) + repr(err) + err.detail
    assert client.get_status(created.session, token).state is ConnState.STARTING  # the fault is gone


def test_an_outage_is_unreachable_then_recovers(sim, client_for, org):
    import time

    client = client_for(sim, timeout=2)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    sim.outage(0.5)
    with pytest.raises(PlatformUnreachable) as ei:
        client.get_status(created.session, token)
    assert type(ei.value) is PlatformUnreachable and "cannot be reached" in ei.value.message
    deadline = time.monotonic() + 5
    while True:
        try:
            assert client.get_status(created.session, token)
            break
        except PlatformUnreachable:
            assert time.monotonic() < deadline
            time.sleep(0.1)


@pytest.mark.parametrize("spelling", ["lower", "upper", "alt"])
def test_all_status_spellings(sim, client_for, org, spelling):
    sim.knobs.status_spelling = spelling
    client = client_for(sim)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    for state in ("starting", "qr_required", "connected", "offline"):
        sim.set_status(created.session, state)
        assert client.get_status(created.session, token).state is ConnState(state)


@pytest.mark.parametrize("form", ["raw", "base64", "dataurl"])
@pytest.mark.parametrize("field", ["qr", "qrCode", "qrcode", "data.qr"])
def test_all_qr_forms_and_fields_show_the_current_code(sim, client_for, org, form, field):
    sim.knobs.qr_form, sim.knobs.qr_field = form, field
    client = client_for(sim)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    sim.set_status(created.session, "qr_required")
    payload = client.get_qr(created.session, token)
    assert payload
    assert decode_png(qr_to_png(payload)) == sim.current_qr(created.session)
    sim.rotate_qr(created.session)  # a new code every 20 s: the next read shows the new one
    assert decode_png(qr_to_png(client.get_qr(created.session, token))) == sim.current_qr(created.session)


def test_start_can_answer_with_the_qr(sim, client_for, org):
    sim.knobs.start_returns_qr = True
    client = client_for(sim)
    created = client.create_client(org)
    token = client.mint_token(created.api_key).token
    sim.set_status(created.session, "qr_required")
    started = client.start_account(created.session, token)
    assert started.qr and decode_png(qr_to_png(started.qr)) == sim.current_qr(created.session)


def test_a_token_for_another_number_is_refused_in_words(sim, client_for, org):
    client = client_for(sim)
    a = client.create_client(org)
    b = client.create_client(f"{org}__wpp__0000000b")
    token_a = client.mint_token(a.api_key).token
    with pytest.raises(WppError) as ei:
        client.get_status(b.session, token_a)
    assert ei.value.status == 403 and "another number" in ei.value.message
    with pytest.raises(NotFound):
        client.get_status("9999999999999", token_a)


class RecordingStore(SqliteStore):
    """Remembers every token written back (to check that none leaks anywhere)."""

    written: list[str]

    def merge_settings(self, integration_id, patch):
        self.__dict__.setdefault("written", [])
        if patch.get(keys.JWT):
            self.written.append(patch[keys.JWT])
        return super().merge_settings(integration_id, patch)


def test_no_secret_in_any_error_repr_or_log_line(sim, client_for, org, stores, add_row, caplog):
    """Run the flows that fail and succeed, collect every text a person or a log could see."""
    caplog.set_level(logging.DEBUG)
    sim.knobs.timeout_hold_s = 1.0
    client = client_for(sim, timeout=0.4)
    store = stores(RecordingStore)
    tokens = TokenManager(client, store)
    seen: list[str] = [repr(client), repr(tokens)]

    def attempt(fn):
        try:
            out = fn()
            seen.append(repr(out))
        except WppError as exc:
            seen.extend([str(exc), repr(exc), exc.detail, exc.message, exc.action, str(exc.as_dict())])

    created = client.create_client(org)
    api_key = created.api_key.reveal()
    seen += [repr(created), str(created.api_key)]
    row = add_row(store, created, org)
    seen.append(repr(row))
    auth = tokens.auth(row)
    seen.append(repr(auth))
    attempt(lambda: client.get_status(created.session, auth))
    attempt(lambda: tokens.cached(row.id))
    for kind in ("500", "html502", "malformed", "empty", "invalid_token", "timeout"):
        sim.add_fault(kind, endpoint="status", times=2)
        attempt(lambda: client.get_status(created.session, auth))
        sim.clear_faults()
    sim.add_fault("invalid_token", endpoint="token", times=1)
    attempt(lambda: tokens.refresh(row))
    sim.expire_tokens()
    attempt(lambda: client.get_qr(created.session, auth))
    attempt(lambda: client.send_text("79001234567", "hi", auth))  # not connected: MessageFailed
    attempt(lambda: client.mint_token(api_key + "x"))
    attempt(lambda: client.create_client(org, secret="wrong-secret-123456"))
    attempt(lambda: client.get_status(created.session, store.written[0]))
    seen += [r.getMessage() for r in caplog.records]
    seen += [str(r.args) for r in caplog.records if r.args]

    assert len(store.written) >= 3
    secrets = [api_key, sim.secret, "wrong-secret-123456", *store.written]
    blob = "\n".join(seen)
    for s in secrets:
        assert s not in blob, f"a secret ({s[:4]}…) leaked"
    assert "MessageFailed" in blob and "InvalidToken" in blob and "PlatformTimeout" in blob
