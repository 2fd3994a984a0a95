"""QR payloads: raw pairing text, base64 PNG, data URL; the PNG must encode exactly the text."""
from __future__ import annotations

import base64
import io
import secrets

import pytest
import zxingcpp
from PIL import Image

from wpp import qr
from wpp.errors import InvalidInput
from wpp.qr import detect_qr_form, extract_qr, qr_to_png


def pairing_text() -> str:
    """Shaped like WhatsApp's pairing string (what the simulator sends): ~240 characters."""
    ref = "2@" + base64.b64encode(secrets.token_bytes(66)).decode()
    return ",".join([ref, *(base64.b64encode(secrets.token_bytes(32)).decode() for _ in range(3))])


def decode(png: bytes) -> list[str]:
    img = Image.open(io.BytesIO(png))
    return sorted({r.text for r in zxingcpp.read_barcodes(img)})  # zxing may report one symbol twice


def png_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("text", [pairing_text(), "2@short,abc", "x", "https://wa.me/79001234567?text=hello%20there"])
def test_text_becomes_a_qr_that_decodes_to_exactly_that_text(text):
    png = qr_to_png(text)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(png) == [text]


def test_box_size_and_border_set_the_image_size():
    text = pairing_text()
    big = Image.open(io.BytesIO(qr_to_png(text, box_size=10, border=4)))
    small = Image.open(io.BytesIO(qr_to_png(text, box_size=4, border=2)))
    modules_big = big.width // 10 - 8
    assert big.width == big.height == (modules_big + 8) * 10
    assert small.width == (modules_big + 4) * 4
    assert decode(qr_to_png(text, box_size=4, border=2)) == [text]


def test_base64_png_and_data_url_are_decoded_not_reencoded_as_text():
    raw = png_bytes()
    b64 = base64.b64encode(raw).decode()
    assert qr_to_png(b64) == raw
    assert qr_to_png("data:image/png;base64," + b64) == raw
    assert qr_to_png("DATA:image/png;BASE64," + b64) == raw
    # wrapped lines and missing padding, as some gateways send them
    wrapped = "\n".join(b64.rstrip("=")[i : i + 76] for i in range(0, len(b64.rstrip("=")), 76))
    assert qr_to_png(wrapped) == raw


def test_a_real_qr_png_from_the_platform_still_decodes():
    text = pairing_text()
    import qrcode

    buf = io.BytesIO()
    qrcode.make(text).save(buf, format="PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    for payload in (b64, "data:image/png;base64," + b64):
        assert decode(qr_to_png(payload)) == [text]


def test_other_image_formats_are_reencoded_as_png():
    for fmt in ("JPEG", "GIF", "BMP"):
        b64 = base64.b64encode(png_bytes(fmt)).decode()
        out = qr_to_png("data:image/%s;base64,%s" % (fmt.lower(), b64))
        assert out.startswith(b"\x89PNG")
        assert Image.open(io.BytesIO(out)).size == (40, 30)
        assert qr_to_png(b64).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "payload,words",
    [
        (None, "no QR"),
        ("", "empty"),
        ("   \n", "empty"),
        ("data:image/png;base64,", "no image data"),
        ("data:image/png;base64,!!!not base64!!!", "not valid base64"),
        ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUg*", "not valid base64"),
        ("data:text/plain;base64,aGVsbG8=", "not an image"),
        ("data:image/png,rawbytes", "not base64-encoded"),
        ("data:image/png;base64", "broken data URL"),
        ("data:image/png;base64," + base64.b64encode(b"hello, this is not an image").decode(), "not a readable image"),
        # PNG magic followed by garbage: looks like a PNG, is not one
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode(), "not a readable image"),
        # a PNG cut in half (truncated transfer)
        (base64.b64encode(png_bytes(size=(300, 300))[:60]).decode(), "not a readable image"),
        ("x" * 3000, "too long for a QR code"),
    ],
)
def test_unusable_payloads_are_refused(payload, words):
    with pytest.raises(InvalidInput) as ei:
        qr_to_png(payload)
    assert words in str(ei.value)


@pytest.mark.parametrize(
    "payload,form",
    [
        ("2@abc,def,ghi", "text"),
        (pairing_text(), "text"),
        ("hello", "text"),
        ("aGVsbG8gd29ybGQgdGhpcyBpcyBiYXNlNjQ=", "text"),  # base64, but not of an image
        (base64.b64encode(png_bytes()).decode(), "png_base64"),
        (base64.b64encode(png_bytes("JPEG")).decode(), "png_base64"),
        ("data:image/png;base64,AAAA", "data_url"),
        ("  data:image/png;base64,AAAA", "data_url"),
    ],
)
def test_detect_form(payload, form):
    assert detect_qr_form(payload) == form


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"qr": "A"}, "A"),
        ({"qrCode": "B"}, "B"),
        ({"qrcode": "C"}, "C"),
        ({"data": {"qr": "D"}}, "D"),
        ({"data": {"qrCode": "E"}}, "E"),
        ({"qr": None, "qrCode": "F"}, "F"),
        ({"qr": "", "data": {"qr": "G"}}, "G"),
        ({"qr": "  ", "qrcode": "H"}, "H"),
        ({"qr": None}, None),
        ({"status": "connected"}, None),
        ({"data": None}, None),
        ({"data": "x"}, None),
        ({"qr": 5}, None),
        ([], None),
        (None, None),
    ],
)
def test_extract_qr(body, expected):
    assert extract_qr(body) == expected


def test_repeated_payload_is_served_from_the_cache():
    """A Streamlit rerun asks for the same QR again; the speed figure itself is in bench/bench_qr.py."""
    text = pairing_text()
    assert qr_to_png(text) is qr_to_png(text)


@pytest.mark.parametrize("n", [1, 17, 100, 240, 1000, 2331])
def test_fast_codewords_match_qrcode_reference(n):
    from qrcode import util
    from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

    data = secrets.token_bytes(n)
    for ec in (ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q, ERROR_CORRECT_H):
        try:
            version = qr._qr_version(n, ec)
        except InvalidInput:
            continue
        expected = util.create_data(version, ec, [util.QRData(data, mode=util.MODE_8BIT_BYTE)])
        assert qr._codewords(data, version, ec) == expected


def test_longest_text_that_fits_still_decodes():
    text = "A1b2" * (2331 // 4) + "xyz"  # 2331 bytes: the capacity of version 40-M in byte mode
    assert len(text) == 2331
    assert decode(qr_to_png(text, box_size=2)) == [text]
    with pytest.raises(InvalidInput, match="too long"):
        qr_to_png(text + "!")


def test_cache_is_bounded():
    qr.clear_cache()
    for _ in range(qr._CACHE_SIZE + 10):
        qr_to_png(pairing_text())
    assert len(qr._cache) == qr._CACHE_SIZE
