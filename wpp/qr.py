"""The platform's QR payload → PNG bytes a page can show.

The platform's ``qr`` value is most likely the raw pairing text the QR code must encode, but a
base64 PNG (with or without a ``data:image/png;base64,`` prefix) has also been documented, and the
field name varies (``qr``, ``qrCode``, ``qrcode``, ``data.qr``). Both are detected here.

Rendering raw text is done with ``qrcode`` (error correction M) but without its slow parts: the
version is computed directly from the byte length, a fixed mask pattern is used (any of the eight
masks is valid; choosing the "best" one costs ~35 ms for nothing a phone camera notices) and the
image is drawn from the module matrix with Pillow. Results are cached by payload (small LRU):
Streamlit re-renders the same QR on every rerun.
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import re
import threading
from collections import OrderedDict
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from .errors import InvalidInput

QrForm = Literal["text", "png_base64", "data_url"]

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
_CACHE_SIZE = 32

# Magic numbers of the image formats a platform might send, base64-encoded prefixes of them.
_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",  # JPEG
    b"GIF87a",
    b"GIF89a",
    b"RIFF",  # WEBP (checked further by Pillow)
    b"BM",  # BMP
)
_B64_CHARS_RE = re.compile(r"[A-Za-z0-9+/=_-]+")
_DATA_URL_RE = re.compile(r"data:(?P<mime>[^;,]*)(?P<params>(?:;[^;,]*)*),(?P<data>.*)", re.IGNORECASE | re.DOTALL)


def detect_qr_form(payload: Any) -> QrForm:
    """``"data_url"`` for ``data:...``, ``"png_base64"`` for base64 of an image (PNG, or another
    image format Pillow reads), otherwise ``"text"`` (the pairing text the QR must encode)."""
    if isinstance(payload, (bytes, bytearray)):
        payload = bytes(payload).decode("utf-8", "replace")
    text = str(payload or "").strip()
    if text[:5].lower() == "data:":
        return "data_url"
    if _looks_like_image_base64(text):
        return "png_base64"
    return "text"


def _b64decode(text: str) -> bytes:
    """Strict base64 (standard or URL-safe alphabet, padding optional, whitespace ignored)."""
    compact = re.sub(r"\s+", "", text)
    if not compact or not _B64_CHARS_RE.fullmatch(compact):
        raise ValueError("not base64")
    if "-" in compact or "_" in compact:
        compact = compact.replace("-", "+").replace("_", "/")
    compact = compact.rstrip("=")
    if len(compact) % 4 == 1:
        raise ValueError("bad base64 length")
    compact += "=" * (-len(compact) % 4)
    return base64.b64decode(compact, validate=True)


def _looks_like_image_base64(text: str) -> bool:
    if len(text) < 16:
        return False
    head = re.sub(r"\s+", "", text[:64])
    head = head[: len(head) - len(head) % 4]
    if not _B64_CHARS_RE.fullmatch(head or "!"):
        return False
    try:
        start = _b64decode(head)
    except (ValueError, binascii.Error):
        return False
    return start.startswith(_IMAGE_MAGIC)


# --- rendering -------------------------------------------------------------------------------
_cache: "OrderedDict[tuple, bytes]" = OrderedDict()
_cache_lock = threading.Lock()


def qr_to_png(payload: Any, *, box_size: int = 10, border: int = 4) -> bytes:
    """PNG bytes for a platform QR payload.

    - raw text → a QR code (error correction M) encoding exactly that text, ``box_size`` pixels per
      module, ``border`` modules of quiet zone;
    - base64 image or data URL → decoded, checked to be a real image with Pillow, returned as PNG
      (re-encoded if it was another format).

    Empty payloads, bad base64, bytes that are not an image and text longer than a QR code can hold
    raise :class:`InvalidInput`.
    """
    if payload is None:
        raise InvalidInput("The platform sent no QR code.", action="Wait a few seconds for the next QR code.")
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("The QR code from the platform is not text or an image.") from None
    if not isinstance(payload, str):
        raise InvalidInput(f"The QR code from the platform has an unexpected type ({type(payload).__name__}).")
    if not payload.strip():
        raise InvalidInput("The QR code from the platform is empty.", action="Wait a few seconds for the next QR code.")
    box_size = int(box_size)
    border = int(border)
    if not (1 <= box_size <= 50) or not (0 <= border <= 20):
        raise InvalidInput("QR size settings out of range (box size 1–50, border 0–20).")

    key = (payload, box_size, border)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit

    form = detect_qr_form(payload)
    if form == "data_url":
        png = _image_to_png(_decode_data_url(payload.strip()))
    elif form == "png_base64":
        try:
            raw = _b64decode(payload.strip())
        except (ValueError, binascii.Error):
            raise InvalidInput("The QR image from the platform is not valid base64.") from None
        png = _image_to_png(raw)
    else:
        png = _render_text(payload, box_size, border)

    with _cache_lock:
        _cache[key] = png
        _cache.move_to_end(key)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return png


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _decode_data_url(text: str) -> bytes:
    m = _DATA_URL_RE.fullmatch(text)
    if not m:
        raise InvalidInput("The QR image from the platform is a broken data URL (no comma before the data).")
    mime = (m.group("mime") or "").strip().lower()
    params = [p.strip().lower() for p in m.group("params").split(";") if p.strip()]
    if mime and not mime.startswith("image/"):
        raise InvalidInput(f"The QR data URL from the platform holds {mime!s}, not an image.")
    if "base64" not in params:
        raise InvalidInput("The QR data URL from the platform is not base64-encoded, so it is not an image.")
    data = m.group("data")
    if not data.strip():
        raise InvalidInput("The QR data URL from the platform has no image data.")
    try:
        return _b64decode(data)
    except (ValueError, binascii.Error):
        raise InvalidInput("The QR image in the platform's data URL is not valid base64.") from None


def _image_to_png(raw: bytes) -> bytes:
    if not raw:
        raise InvalidInput("The QR image from the platform is empty.")
    if len(raw) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"The QR image from the platform is too large ({len(raw)} bytes).")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            w, h = probe.size
            if w * h > MAX_IMAGE_PIXELS or w < 1 or h < 1:
                raise InvalidInput(f"The QR image from the platform has an unusable size ({w}×{h}).")
            probe.verify()
        if fmt == "PNG":
            # verify() checks structure and CRCs; a full load catches truncated pixel data.
            with Image.open(io.BytesIO(raw)) as img:
                img.load()
            return raw
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            if img.mode not in ("1", "L", "LA", "RGB", "RGBA", "P"):
                img = img.convert("RGBA")
            out = io.BytesIO()
            img.save(out, "PNG")
            return out.getvalue()
    except InvalidInput:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise InvalidInput(
            "The QR image from the platform is not a readable image.",
            detail=f"{type(exc).__name__}: {str(exc)[:200]}",
        ) from None


# --- text → QR ---------------------------------------------------------------------------------
def _qr_version(nbytes: int, error_correction: int) -> int:
    from qrcode import util

    for version in range(1, 41):
        length_bits = 8 if version < 10 else 16  # byte mode character count indicator
        if 4 + length_bits + 8 * nbytes <= util.BIT_LIMIT_TABLE[error_correction][version]:
            return version
    raise InvalidInput(
        f"The QR text from the platform is too long for a QR code ({nbytes} bytes).",
        action="Restart the number's session to get a new QR code.",
    )


@functools.lru_cache(maxsize=None)
def _rs_table(n_ec: int) -> tuple[int, ...]:
    """For each byte value f: the generator polynomial (without its leading 1) times f in GF(256),
    packed into one int of ``n_ec`` bytes."""
    from qrcode import LUT, base

    gen = LUT.rsPoly_LUT.get(n_ec)
    if gen is None:  # pragma: no cover - every standard block size is in the table
        poly = base.Polynomial([1], 0)
        for i in range(n_ec):
            poly = poly * base.Polynomial([1, base.gexp(i)], 0)
        gen = list(poly)
    exp, log_ = base.EXP_TABLE, base.LOG_TABLE
    gen_log = [log_[g] for g in gen[1:]]
    table = [0]
    for f in range(1, 256):
        lf = log_[f]
        table.append(int.from_bytes(bytes(exp[(lf + gl) % 255] for gl in gen_log), "big"))
    return tuple(table)


def _codewords(data: bytes, version: int, error_correction: int) -> list[int]:
    """Data + error-correction codewords for one byte-mode segment, interleaved as the QR standard
    wants. The same result as ``qrcode.util.create_data`` (a unit test compares them) but with a
    table-driven Reed-Solomon encoder instead of qrcode's recursive polynomial division, which is
    most of qrcode's run time."""
    from qrcode import base

    blocks = base.rs_blocks(version, error_correction)
    capacity = sum(b.data_count for b in blocks)
    length_bits = 8 if version < 10 else 16
    bits = "0100" + format(len(data), f"0{length_bits}b") + "".join(format(b, "08b") for b in data)
    if len(bits) > capacity * 8:  # pragma: no cover - _qr_version picked a version that fits
        raise InvalidInput("The QR text from the platform is too long for a QR code.")
    bits += "0" * min(4, capacity * 8 - len(bits))  # terminator
    bits += "0" * (-len(bits) % 8)
    stream = [int(bits[i : i + 8], 2) for i in range(0, len(bits), 8)]
    pad = (0xEC, 0x11)
    stream += [pad[i % 2] for i in range(capacity - len(stream))]

    dc_blocks: list[list[int]] = []
    ec_blocks: list[list[int]] = []
    offset = 0
    for block in blocks:
        dc = stream[offset : offset + block.data_count]
        offset += block.data_count
        n_ec = block.total_count - block.data_count
        table = _rs_table(n_ec)
        # the LFSR register as one big int of n_ec bytes: one shift, one xor per data byte
        reg, shift, mask = 0, 8 * (n_ec - 1), (1 << (8 * n_ec)) - 1
        for byte in dc:
            reg = ((reg << 8) & mask) ^ table[byte ^ (reg >> shift)]
        dc_blocks.append(dc)
        ec_blocks.append(list(reg.to_bytes(n_ec, "big")))
    out: list[int] = []
    for i in range(max(len(b) for b in dc_blocks)):
        out += [b[i] for b in dc_blocks if i < len(b)]
    for i in range(max(len(b) for b in ec_blocks)):
        out += [b[i] for b in ec_blocks if i < len(b)]
    return out


_DARK_TO_BLACK = bytes([255, 0]) + bytes(254)  # module value 1 (dark) -> 0 (black), 0 -> 255 (white)


def _render_text(text: str, box_size: int, border: int) -> bytes:
    import qrcode
    from qrcode import util
    from qrcode.constants import ERROR_CORRECT_M

    data = text.encode("utf-8")
    version = _qr_version(len(data), ERROR_CORRECT_M)
    try:
        qr = qrcode.QRCode(
            version=version, error_correction=ERROR_CORRECT_M, border=border, box_size=box_size, mask_pattern=0
        )
        qr.add_data(util.QRData(data, mode=util.MODE_8BIT_BYTE))
        qr.data_cache = _codewords(data, version, ERROR_CORRECT_M)  # makeImpl uses it instead of create_data
        qr.make(fit=False)
        matrix = qr.get_matrix()  # includes the border
    except InvalidInput:
        raise
    except Exception as exc:  # qrcode's DataOverflowError and friends
        raise InvalidInput(
            "The QR text from the platform cannot be turned into a QR code.", detail=type(exc).__name__
        ) from None
    n = len(matrix)
    raw = b"".join(bytes(row) for row in matrix).translate(_DARK_TO_BLACK)
    img = Image.frombytes("L", (n, n), raw).convert("1", dither=Image.Dither.NONE)
    if box_size != 1:
        img = img.resize((n * box_size, n * box_size), Image.Resampling.NEAREST)
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=1)
    return out.getvalue()


# --- reading the field ------------------------------------------------------------------------
_QR_FIELDS = ("qr", "qrCode", "qrcode")


def extract_qr(body: Any) -> str | None:
    """The QR payload from a platform answer: the first non-empty of ``qr``, ``qrCode``,
    ``qrcode``, ``data.qr``, ``data.qrCode``, ``data.qrcode`` (``None`` if there is none)."""
    if not isinstance(body, dict):
        return None
    candidates = [body.get(k) for k in _QR_FIELDS]
    data = body.get("data")
    if isinstance(data, dict):
        candidates += [data.get(k) for k in _QR_FIELDS]
    for value in candidates:
        if isinstance(value, str) and value.strip():
            return value
    return None
