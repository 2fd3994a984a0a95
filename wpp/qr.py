"""The platform's QR payload → PNG bytes a page can show.

The platform's ``qr`` value is most likely the raw pairing text the QR code must encode, but a
base64 PNG (with or without a ``data:image/png;base64,`` prefix) has also been documented, and the
field name varies (``qr``, ``qrCode``, ``qrcode``, ``data.qr``). Both are detected here.

Raw text is encoded with the ``qrcode`` library's public API (error correction M, the smallest version
that fits, the library's own choice of the best of the eight mask patterns) and drawn with Pillow at a
whole number of pixels per module, so that no module is blurred by scaling: ``size_px`` is the width the
page shows it at. A new code takes some tens of milliseconds; results are kept in a small LRU cache by
payload and size, so a Streamlit rerun that shows the same code again costs nothing.
"""
from __future__ import annotations

import functools
import io
import re
from typing import Any, Literal

from PIL import Image, UnidentifiedImageError

from .errors import InvalidInput
from .i18n import N_
from .textutil import b64decode

QrForm = Literal["text", "png_base64", "data_url"]

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 4096 * 4096
CACHE_SIZE = 32
#: pixels per module when no size is asked for
DEFAULT_BOX_PX = 10
#: modules of white margin around the code (the standard's quiet zone)
BORDER_MODULES = 4

_NEXT_CODE = N_("Wait a few seconds for the next QR code.")
_RESTART = N_("Stop the number and start linking the phone again to get a new QR code.")

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


def _looks_like_image_base64(text: str) -> bool:
    if len(text) < 16:
        return False
    head = re.sub(r"\s+", "", text[:64])
    head = head[: len(head) - len(head) % 4]
    if not _B64_CHARS_RE.fullmatch(head or "!"):
        return False
    try:
        start = b64decode(head)
    except ValueError:
        return False
    return start.startswith(_IMAGE_MAGIC)


# --- rendering -------------------------------------------------------------------------------
def qr_to_png(payload: Any, *, size_px: int | None = None) -> bytes:
    """PNG bytes for a platform QR payload.

    - raw text → a QR code encoding exactly that text, drawn at the largest whole number of pixels per
      module that keeps the image (quiet zone included) at most ``size_px`` wide; at least one pixel per
      module, so a code with more modules than ``size_px`` comes out wider. ``None``: 10 pixels per module;
    - base64 image or data URL → decoded, checked to be a real image with Pillow, returned as PNG
      (re-encoded if it was another format; its size is the platform's).

    Empty payloads, bad base64, bytes that are not an image and text longer than a QR code can hold
    raise :class:`InvalidInput`. The same payload and size again is answered from a cache.
    """
    if payload is None:
        raise InvalidInput(N_("The platform sent no QR code."), action=_NEXT_CODE)
    if isinstance(payload, (bytes, bytearray)):
        try:
            payload = bytes(payload).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(N_("The QR code from the platform is neither text nor an image."), action=_RESTART) from None
    if not isinstance(payload, str):
        raise InvalidInput(N_("The QR code from the platform is neither text nor an image."), action=_RESTART,
                           detail=f"type {type(payload).__name__}")
    if not payload.strip():
        raise InvalidInput(N_("The QR code from the platform is empty."), action=_NEXT_CODE)
    if size_px is not None:
        if isinstance(size_px, bool) or not isinstance(size_px, int) or not (1 <= size_px <= 4096):
            raise InvalidInput(N_("The QR code cannot be drawn at this size."), detail=f"size_px={size_px!r}")
    return _png(payload, size_px)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _png(payload: str, size_px: int | None) -> bytes:
    form = detect_qr_form(payload)
    if form == "data_url":
        return _image_to_png(_decode_data_url(payload.strip()))
    if form == "png_base64":
        try:
            raw = b64decode(payload.strip())
        except ValueError:
            raise InvalidInput(N_("The QR image from the platform cannot be read."), action=_NEXT_CODE,
                               detail="not valid base64") from None
        return _image_to_png(raw)
    return _render_text(payload, size_px)


def clear_cache() -> None:
    _png.cache_clear()


def cache_info():
    """``functools`` cache statistics (hits, misses, maxsize, currsize)."""
    return _png.cache_info()


def _decode_data_url(text: str) -> bytes:
    def bad(why: str) -> InvalidInput:
        return InvalidInput(N_("The QR image from the platform cannot be read."), action=_NEXT_CODE,
                            detail=f"data URL: {why}")

    m = _DATA_URL_RE.fullmatch(text)
    if not m:
        raise bad("broken data URL (no comma before the data)")
    mime = (m.group("mime") or "").strip().lower()
    params = [p.strip().lower() for p in m.group("params").split(";") if p.strip()]
    if mime and not mime.startswith("image/"):
        raise bad(f"holds {mime[:40]}, not an image")
    if "base64" not in params:
        raise bad("not base64-encoded, so not an image")
    data = m.group("data")
    if not data.strip():
        raise bad("no image data")
    try:
        return b64decode(data)
    except ValueError:
        raise bad("not valid base64") from None


def _image_to_png(raw: bytes) -> bytes:
    def bad(why: str) -> InvalidInput:
        return InvalidInput(N_("The QR image from the platform cannot be read."), action=_NEXT_CODE, detail=why)

    if not raw:
        raise bad("the image is empty")
    if len(raw) > MAX_IMAGE_BYTES:
        raise bad(f"the image is too large ({len(raw)} bytes)")
    try:
        with Image.open(io.BytesIO(raw)) as probe:
            fmt = probe.format
            w, h = probe.size
            if w * h > MAX_IMAGE_PIXELS or w < 1 or h < 1:
                raise bad(f"the image has an unusable size ({w}x{h})")
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
        raise bad(f"not a readable image: {type(exc).__name__}: {str(exc)[:200]}") from None


# --- text → QR ---------------------------------------------------------------------------------
def box_px_for(modules: int, size_px: int | None) -> int:
    """Pixels per module for a code ``modules`` wide (quiet zone included) in at most ``size_px`` pixels."""
    if size_px is None:
        return DEFAULT_BOX_PX
    return max(1, int(size_px) // int(modules))


def _render_text(text: str, size_px: int | None) -> bytes:
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M
    from qrcode.exceptions import DataOverflowError

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=BORDER_MODULES, box_size=1)
    try:
        qr.add_data(text)
        qr.make(fit=True)  # the smallest version that fits; the library picks the best mask
    except (DataOverflowError, ValueError) as exc:
        # With text and fixed, valid settings the only way make() fails is capacity: more than version 40 holds
        # (qrcode says so with DataOverflowError, or with ValueError "Invalid version (was 41 …)" when fitting).
        raise InvalidInput(
            N_("The QR text from the platform is too long for a QR code."), action=_RESTART,
            detail=f"{len(text.encode('utf-8'))} bytes: {type(exc).__name__}: {str(exc)[:100]}",
        ) from None
    except TypeError as exc:
        raise InvalidInput(
            N_("The QR text from the platform cannot be turned into a QR code."), action=_RESTART,
            detail=type(exc).__name__,
        ) from None
    matrix = qr.get_matrix()  # rows of booleans, quiet zone included
    n = len(matrix)
    box = box_px_for(n, size_px)
    raw = bytes(0 if dark else 255 for row in matrix for dark in row)
    img = Image.frombytes("L", (n, n), raw).convert("1", dither=Image.Dither.NONE)
    if box != 1:
        img = img.resize((n * box, n * box), Image.Resampling.NEAREST)
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
