"""QR payloads: raw pairing text, base64 PNG, data URL; the PNG must encode exactly the text."""
from __future__ import annotations

import base64
import io

import pytest
import zxingcpp
from PIL import Image

from wpp import qr
from wpp.errors import InvalidInput
from wpp.qr import BORDER_MODULES, box_px_for, detect_qr_form, extract_qr, qr_to_png
from wpp.simulator.platform import new_qr_text


def pairing_text() -> str:
    """Shaped like WhatsApp's pairing string, as the simulator sends it (~225 characters)."""
    return new_qr_text()


def decode(png: bytes) -> list[str]:
    img = Image.open(io.BytesIO(png))
    # QR codes only: zxing's 1D readers now and then "see" a short barcode in a QR code's modules
    found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)
    return sorted({r.text for r in found})  # zxing may report one symbol twice


def png_bytes(fmt: str = "PNG", size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, fmt)
    return buf.getvalue()


def modules_of(png: bytes) -> tuple[int, int]:
    """(modules across, pixels per module) of a rendered code, read from the image itself: the first dark run
    on the first row with a dark pixel is the top edge of a finder pattern, 7 modules wide."""
    img = Image.open(io.BytesIO(png)).convert("L")
    w, h = img.size
    assert w == h
    px = img.load()
    for y in range(h):
        xs = [x for x in range(w) if px[x, y] < 128]
        if xs:
            run = 0
            while xs[0] + run < w and px[xs[0] + run, y] < 128:
                run += 1
            assert run % 7 == 0, run
            box = run // 7
            assert xs[0] == BORDER_MODULES * box and y == BORDER_MODULES * box  # the quiet zone, whole modules
            assert w % box == 0
            return w // box, box
    raise AssertionError("no dark pixel")


TEXTS = [pairing_text(), pairing_text(), "2@short,abc", "x", "https://wa.me/79001234567?text=hello%20there"]


@pytest.mark.parametrize("text", TEXTS)
@pytest.mark.parametrize("size_px", [None, 380, 250, 600, 100])
def test_text_becomes_a_qr_that_decodes_to_exactly_that_text(text, size_px):
    png = qr_to_png(text, size_px=size_px)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode(png) == [text]
    modules, box = modules_of(png)
    width = Image.open(io.BytesIO(png)).width
    assert width == modules * box  # a whole number of pixels per module
    if size_px is None:
        assert box == 10
    else:
        assert box == box_px_for(modules, size_px) and (width <= size_px or box == 1)
        assert width + modules > size_px  # the largest whole size that fits


def test_a_pairing_text_at_the_pages_size():
    png = qr_to_png(pairing_text(), size_px=380)
    assert modules_of(png) == (69, 5)  # version 11 with its quiet zone, 5 px a module: 345 px


def test_the_librarys_own_code_is_drawn_with_its_best_mask():
    """The image holds exactly the matrix qrcode itself makes (its mask choice, nothing pinned or patched)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    text = pairing_text()
    ref = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER_MODULES)
    ref.add_data(text)
    ref.make(fit=True)
    expected = ref.get_matrix()
    png = qr_to_png(text, size_px=380)
    modules, box = modules_of(png)
    px = Image.open(io.BytesIO(png)).convert("L").load()
    got = [[px[x * box + box // 2, y * box + box // 2] < 128 for x in range(modules)] for y in range(modules)]
    assert got == [list(row) for row in expected]


def test_size_out_of_range_is_refused():
    for bad in (0, -5, 10_000, 3.5, True, "380"):
        with pytest.raises(InvalidInput, match="cannot be drawn at this size"):
            qr_to_png("x", size_px=bad)


def test_base64_png_and_data_url_are_decoded_not_reencoded_as_text():
    raw = png_bytes()
    b64 = base64.b64encode(raw).decode()
    assert qr_to_png(b64) == raw
    assert qr_to_png("data:image/png;base64," + b64) == raw
    assert qr_to_png("DATA:image/png;BASE64," + b64) == raw
    assert qr_to_png(b64, size_px=380) == raw  # an image keeps the platform's size
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
    "payload,words,detail",
    [
        (None, "sent no QR code", ""),
        ("", "is empty", ""),
        ("   \n", "is empty", ""),
        ("data:image/png;base64,", "cannot be read", "no image data"),
        ("data:image/png;base64,!!!not base64!!!", "cannot be read", "not valid base64"),
        ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUg*", "cannot be read", "not valid base64"),
        ("data:text/plain;base64,aGVsbG8=", "cannot be read", "not an image"),
        ("data:image/png,rawbytes", "cannot be read", "not base64-encoded"),
        ("data:image/png;base64", "cannot be read", "broken data URL"),
        ("data:image/png;base64," + base64.b64encode(b"hello, this is not an image").decode(), "cannot be read",
         "not a readable image"),
        # PNG magic followed by garbage: looks like a PNG, is not one
        (base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode(), "cannot be read", "not a readable image"),
        # a PNG cut in half (truncated transfer)
        (base64.b64encode(png_bytes(size=(300, 300))[:60]).decode(), "cannot be read", "not a readable image"),
        ("x" * 3000, "too long for a QR code", "3000 bytes"),
    ],
)
def test_unusable_payloads_are_refused(payload, words, detail):
    with pytest.raises(InvalidInput) as ei:
        qr_to_png(payload)
    assert words in ei.value.message
    assert detail in ei.value.detail
    assert ei.value.action  # what to do: wait for the next code, or start again


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
    """A Streamlit rerun asks for the same QR again: the same bytes, without drawing it again."""
    text = pairing_text()
    first = qr_to_png(text, size_px=380)
    hits = qr.cache_info().hits
    assert qr_to_png(text, size_px=380) is first
    assert qr.cache_info().hits == hits + 1
    assert qr_to_png(text, size_px=200) is not first  # another size is another image


def test_longest_text_that_fits_still_decodes():
    text = "A1b2" * (2331 // 4) + "xyz"  # 2331 bytes: the capacity of version 40-M in byte mode
    assert len(text) == 2331
    png = qr_to_png(text, size_px=380)
    assert modules_of(png) == (177 + 2 * BORDER_MODULES, 2)
    assert decode(png) == [text]
    with pytest.raises(InvalidInput, match="too long"):
        qr_to_png(text + "!")


def test_cache_is_bounded():
    qr.clear_cache()
    for _ in range(qr.CACHE_SIZE + 10):
        qr_to_png(pairing_text())
    assert qr.cache_info().currsize == qr.CACHE_SIZE
