"""The platform's answer variants: QR form, QR field name and status spelling."""
from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from PIL import Image


def _paired_screen(api, sim, clock):
    session, h = api.login()
    clock.advance(1)
    return session, h


def _decode_png(png: bytes) -> str:
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # QR codes only: zxing's 1D readers now and then "see" a short barcode in a QR code's modules
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode)
    assert results, "no QR code found in the PNG"
    (text,) = {r.text for r in results}
    return text


@pytest.mark.parametrize("form", ["raw", "base64", "dataurl"])
def test_qr_forms_all_carry_the_current_pairing_text(mapi, msim, clock, form):
    msim.knobs.qr_form = form
    session, h = _paired_screen(mapi, msim, clock)
    value = mapi.qr(session, h).json()["qr"]
    text = msim.current_qr(session)
    if form == "raw":
        assert value == text
    elif form == "base64":
        assert _decode_png(base64.b64decode(value, validate=True)) == text
    else:
        prefix = "data:image/png;base64,"
        assert value.startswith(prefix)
        assert _decode_png(base64.b64decode(value[len(prefix):], validate=True)) == text


@pytest.mark.parametrize(
    "field, path",
    [("qr", ("qr",)), ("qrCode", ("qrCode",)), ("qrcode", ("qrcode",)), ("data.qr", ("data", "qr"))],
)
def test_qr_field_names(mapi, msim, clock, field, path):
    msim.knobs.qr_field = field
    session, h = mapi.login()
    body = mapi.qr(session, h).json()
    node = body
    for part in path:
        node = node[part]
    assert node is None  # still starting
    assert len(body) == 1
    clock.advance(1)
    node = mapi.qr(session, h).json()
    for part in path:
        node = node[part]
    assert node == msim.current_qr(session)


SPELLINGS = {
    "lower": {"starting": "starting", "qr_required": "qr_required", "connected": "connected", "offline": "offline"},
    "upper": {"starting": "STARTING", "qr_required": "QRCODE", "connected": "CONNECTED", "offline": "OFFLINE"},
    "alt": {"starting": "pending", "qr_required": "qr_required", "connected": "ready", "offline": "offline"},
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_status_spellings(mapi, msim, spelling):
    msim.knobs.status_spelling = spelling
    session, h = mapi.login()
    for state, word in SPELLINGS[spelling].items():
        msim.set_status(session, state)
        assert mapi.status(session, h).json() == {"status": word}
    assert mapi.create("org-new").json()["status"] == SPELLINGS[spelling]["starting"]


def test_knobs_over_http_validate_and_apply(mapi, msim):
    r = mapi.http.post("/_sim/knobs", json={"qr_form": "dataurl", "token_lifetime_s": 30, "qr_max_codes": None})
    assert r.status_code == 200
    assert msim.knobs.qr_form == "dataurl" and msim.knobs.token_lifetime_s == 30 and msim.knobs.qr_max_codes is None
    assert mapi.http.get("/_sim/knobs").json()["qr_form"] == "dataurl"
    for bad in ({"nope": 1}, {"qr_form": "jpeg"}, {"latency_s": "slow"}, {"start_returns_qr": "yes"}):
        r = mapi.http.post("/_sim/knobs", json=bad)
        assert r.status_code == 400 and "error" in r.json()
    assert msim.knobs.qr_form == "dataurl"  # a refused update changes nothing
    key, _ = mapi.account()
    assert mapi.http.post("/auth/token", json={"apiKey": key}).json()["expiresIn"] == 30
