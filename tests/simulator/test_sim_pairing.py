"""Starting, QR rotation, scanning and the account life cycle, driven by a ManualClock."""
from __future__ import annotations

import pytest


def _qr(api, session, headers):
    r = api.qr(session, headers)
    assert r.status_code == 200
    return r.json()["qr"]


def _state(api, session, headers):
    r = api.status(session, headers)
    assert r.status_code == 200
    return r.json()["status"]


def test_full_pairing_with_rotation(mapi, msim, clock):
    msim.knobs.token_lifetime_s = 10**7  # the clock jumps far below
    session, h = mapi.login()
    assert _state(mapi, session, h) == "starting"
    assert _qr(mapi, session, h) is None and msim.current_qr(session) is None

    clock.advance(1.0)  # starting_s
    assert _state(mapi, session, h) == "qr_required"
    first = _qr(mapi, session, h)
    assert first.startswith("2@") and first.count(",") == 3
    assert msim.current_qr(session) == first

    clock.advance(19.9)
    assert _qr(mapi, session, h) == first
    clock.advance(0.2)  # the first code (qr_first_s=20) has expired
    second = _qr(mapi, session, h)
    assert second != first and msim.current_qr(session) == second

    r = mapi.http.post(f"/_sim/accounts/{session}/scan", json={"qr": first})
    assert r.status_code == 409
    assert r.json() == {"ok": False, "error": "QR code does not match the one on the screen"}
    assert _state(mapi, session, h) == "qr_required"

    r = mapi.http.post(f"/_sim/accounts/{session}/scan", json={"qr": second})
    assert r.status_code == 200 and r.json() == {"ok": True, "status": "connected"}
    assert _state(mapi, session, h) == "connected"
    assert _qr(mapi, session, h) is None
    clock.advance(10_000)  # connected accounts stay connected
    assert _state(mapi, session, h) == "connected"


def test_first_code_lives_longer_than_later_ones(mapi, msim, clock):
    msim.knobs.qr_first_s = 60
    msim.knobs.qr_rotate_s = 20
    session, h = mapi.login()
    clock.advance(1)
    first = msim.current_qr(session)
    clock.advance(59.9)
    assert msim.current_qr(session) == first
    clock.advance(0.2)
    second = msim.current_qr(session)
    assert second not in (None, first)
    clock.advance(19.8)
    assert msim.current_qr(session) == second
    clock.advance(0.2)
    assert msim.current_qr(session) not in (None, first, second)


def test_python_scan_helper(mapi, msim, clock):
    session, h = mapi.login()
    clock.advance(1)
    assert msim.scan(session, "2@not-it") is False
    assert msim.scan(session, msim.current_qr(session)) is True
    assert _state(mapi, session, h) == "connected"
    assert msim.scan(session, "anything") is False  # nothing on the screen any more


def test_after_max_codes_the_account_goes_offline_until_restarted(mapi, msim, clock):
    msim.knobs.qr_max_codes = 3
    session, h = mapi.login()
    clock.advance(1)
    seen = {msim.current_qr(session)}
    for _ in range(2):
        clock.advance(20)
        seen.add(msim.current_qr(session))
    assert None not in seen and len(seen) == 3
    clock.advance(19.9)
    assert _state(mapi, session, h) == "qr_required"
    clock.advance(0.2)  # the third code expired unscanned
    assert _state(mapi, session, h) == "offline"
    assert _qr(mapi, session, h) is None

    r = mapi.http.post("/api/accounts/start", json={"number": session}, headers=h)
    assert r.status_code == 200 and r.json() == {"status": "starting"}
    clock.advance(1)
    assert _state(mapi, session, h) == "qr_required" and _qr(mapi, session, h)


def test_a_long_jump_expires_many_codes_at_once(mapi, msim, clock):
    msim.knobs.token_lifetime_s = 10**7  # the clock jumps far below
    session, h = mapi.login()
    clock.advance(10_000)
    assert _state(mapi, session, h) == "offline"  # 6 codes of 20 s long gone


def test_unlimited_codes_keep_rotating(mapi, msim, clock):
    msim.knobs.token_lifetime_s = 10**7  # the clock jumps far below
    msim.knobs.qr_max_codes = None
    session, h = mapi.login()
    clock.advance(1)
    before = msim.current_qr(session)
    clock.advance(100_000)
    assert _state(mapi, session, h) == "qr_required"
    assert msim.current_qr(session) not in (None, before)


def test_start_keeps_a_connected_account_connected_and_stop_takes_it_offline(mapi, msim, clock):
    session, h = mapi.login()
    msim.set_status(session, "connected")
    r = mapi.http.post("/api/accounts/start", json={"number": session}, headers=h)
    assert r.json() == {"status": "connected"}
    r = mapi.http.post(f"/internal/session/{session}/stop", headers=h)
    assert r.status_code == 200 and r.json() == {"status": "offline"}
    assert _state(mapi, session, h) == "offline"
    mapi.http.post("/api/accounts/start", json={"number": session}, headers=h)
    assert _state(mapi, session, h) == "starting"


def test_start_checks_its_body_and_the_token(mapi, msim):
    s1, h1 = mapi.login("org-1")
    s2, _ = mapi.login("org-2")
    assert mapi.http.post("/api/accounts/start", json={}, headers=h1).status_code == 400
    r = mapi.http.post("/api/accounts/start", json={"number": s2}, headers=h1)
    assert r.status_code == 403 and r.json() == {"error": "Forbidden"}
    r = mapi.http.post("/api/accounts/start", json={"number": "0000000000777"}, headers=h1)
    assert r.status_code == 404 and r.json() == {"error": "Account not found"}
    r = mapi.http.post("/api/accounts/start", json={"number": s1})
    assert r.status_code == 401 and r.json() == {"error": "Invalid token"}


def test_start_returns_qr_once_it_exists(mapi, msim, clock):
    msim.knobs.start_returns_qr = True
    session, h = mapi.login()
    r = mapi.http.post("/api/accounts/start", json={"number": session}, headers=h)
    assert r.json() == {"status": "starting"}
    clock.advance(1)
    r = mapi.http.post("/api/accounts/start", json={"number": session}, headers=h)
    assert r.json() == {"qr": msim.current_qr(session)}


def test_rotate_and_set_status_helpers_and_their_http_forms(mapi, msim, clock):
    session, h = mapi.login()
    # rotating while starting shows the first QR right away
    first = msim.rotate_qr(session)
    assert first and _state(mapi, session, h) == "qr_required"
    r = mapi.http.post(f"/_sim/accounts/{session}/rotate")
    assert r.status_code == 200
    second = r.json()["qr"]
    assert second not in (None, first)
    assert mapi.http.get(f"/_sim/accounts/{session}/qr-text").json() == {"qr": second}

    r = mapi.http.post(f"/_sim/accounts/{session}/status", json={"state": "connected"})
    assert r.status_code == 200 and _state(mapi, session, h) == "connected"
    assert msim.rotate_qr(session) is None
    msim.set_status(session, "OFFLINE")
    assert _state(mapi, session, h) == "offline"
    msim.set_status(session, "qr_required")
    assert _state(mapi, session, h) == "qr_required" and msim.current_qr(session)
    msim.set_status(session, "starting")
    assert _state(mapi, session, h) == "starting"
    with pytest.raises(ValueError):
        msim.set_status(session, "banana")
    assert mapi.http.post(f"/_sim/accounts/{session}/status", json={"state": "banana"}).status_code == 400
    assert mapi.http.post("/_sim/accounts/0000000000999/scan", json={"qr": "x"}).status_code == 404
    with pytest.raises(KeyError):
        msim.current_qr("0000000000999")


def test_webhook_is_stored(mapi, msim):
    session, h = mapi.login()
    r = mapi.http.post(f"/internal/session/{session}/webhook", json={"url": "https://example.test/hook"}, headers=h)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert msim.accounts()[0]["webhook"] == "https://example.test/hook"
    r = mapi.http.post(f"/internal/session/{session}/webhook", json={}, headers=h)
    assert r.status_code == 400 and "error" in r.json()


def test_the_status_names_no_phone_unless_the_report_phone_knob_is_on(mapi, msim, clock):
    """platform-api.md documents no phone number in the status answer; the knob plays a platform that has one."""
    from wpp.simulator.platform import phone_for

    session, h = mapi.login()
    clock.advance(1)
    assert msim.scan(session, msim.current_qr(session))
    assert mapi.status(session, h).json() == {"status": "connected"}  # faithful by default
    r = mapi.http.post("/_sim/knobs", json={"report_phone": True})  # changed while it runs
    assert r.status_code == 200 and r.json()["report_phone"] is True
    assert mapi.status(session, h).json() == {"status": "connected", "phone": phone_for(session)}
    assert phone_for("0000000000004") == "79000000004"
    msim.set_status(session, "qr_required")
    assert mapi.status(session, h).json() == {"status": "qr_required"}  # no phone while not linked
    r = mapi.http.post(f"/_sim/accounts/{session}/scan", json={"qr": msim.current_qr(session), "phone": "+447911123456"})
    assert r.status_code == 200
    assert mapi.status(session, h).json() == {"status": "connected", "phone": "447911123456"}
    msim.set_status(session, "qr_required")
    bad = mapi.http.post(f"/_sim/accounts/{session}/scan", json={"qr": msim.current_qr(session), "phone": "call me"})
    assert bad.status_code == 400 and "phone" in bad.json()["error"]
    assert mapi.status(session, h).json() == {"status": "qr_required"}  # a refused scan links nothing
    assert mapi.http.post("/_sim/knobs", json={"report_phone": "yes"}).status_code == 400
    msim.knobs.report_phone = False
    assert msim.scan(session, msim.current_qr(session))
    assert mapi.status(session, h).json() == {"status": "connected"}


def test_one_platform_client_per_organization(mapi, msim):
    """The real platform keeps one key and one account per organizationId: a second create returns them."""
    key, session = mapi.account("org-same")
    again_key, again_session = mapi.account("org-same")
    other_key, other_session = mapi.account("org-same__wpp__1a2b3c4d")
    assert (again_key, again_session) == (key, session)
    assert other_session != session and other_key != key
    assert [a["organizationId"] for a in msim.accounts()].count("org-same") == 1
