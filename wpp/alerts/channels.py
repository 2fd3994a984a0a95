"""How an alert leaves the console: e-mail through SMTP (standard library), a JSON POST to a webhook (httpx), a
Telegram message through the Bot API (httpx), or, in demo mode, the outbox kept in the store (nothing leaves the
computer).

A channel's ``send(alert, recipient, *, deadline=None)`` returns when the alert was accepted, or raises
:class:`DeliveryFailed` with a sentence (English in logs and the store, the reader's language in the diary) and never
the password, the webhook's address or what the server answered beyond its status code.

``deadline`` (a :func:`time.monotonic` value) is when the desk's claim on the alert runs out: the channel gives the
send up by then (every socket wait is cut to what is left, and a watchdog closes the connection at the deadline), so
no other replica ever sends the same alert while this one still might.

Every try of an alert carries its stable id (:attr:`wpp.models.AlertRecord.uid`): the e-mail's ``Message-ID``
(``<uid@sender's domain>``), the webhook's JSON ``id`` and its ``Idempotency-Key`` header. Delivery is at least
once: a server that took the alert but whose answer was lost gets it again, with the same id to drop it by.
"""
from __future__ import annotations

import email.policy
import html
import io
import json
import logging
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

import httpx

from ..i18n import N_, Text
from ..masking import Secret
from ..models import AlertRecord
from .message import html_part
from .recipients import Recipient, mask_url

#: WPP_SMTP_TLS values
TLS_MODES = ("starttls", "ssl", "none")


class _HideWebhookAddresses(logging.Filter):
    """httpx logs every request's full address at INFO ("HTTP Request: POST https://chat.example/hook/<token>"):
    on its logger, a webhook's address is replaced by its masked form before any handler sees the line."""

    def __init__(self):
        super().__init__("wpp.alerts.webhooks")
        self._urls: dict[str, str] = {}
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        with self._lock:
            if url not in self._urls:
                self._urls[url] = mask_url(url)

    def add_token(self, token: str) -> None:
        """A secret that travels in a request's path (a bot token): replaced by "…" wherever it appears."""
        if token:
            with self._lock:
                self._tokens.add(token)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            urls, tokens = dict(self._urls), set(self._tokens)
        if not urls and not tokens:
            return True
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is left alone
            return True
        hidden = text
        for url in sorted(urls, key=len, reverse=True):
            hidden = hidden.replace(url, urls[url])
            parts = urlsplit(url)
            if parts.path and len(parts.path) > 1:
                hidden = hidden.replace(parts.path, "/…")
        for token in tokens:
            hidden = hidden.replace(token, "…")
        if hidden != text:
            record.msg, record.args = hidden, ()
        return True


_HIDE = _HideWebhookAddresses()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_HIDE)


class DeliveryFailed(Exception):
    """An alert was not accepted: ``problem`` is a sentence (lazy Text) without any secret. ``retry_after``: the
    receiver asked to wait that many seconds before the next try (Telegram's 429); ``permanent``: trying again cannot
    help (a chat that does not exist, a bot token refused), the desk gives the alert up at once."""

    def __init__(self, problem: Text, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(problem.english)
        self.problem = problem
        self.retry_after = None if retry_after is None else max(0.0, float(retry_after))
        self.permanent = bool(permanent)


def left(deadline: float | None, default: float) -> float:
    """Seconds a wait may last: ``default``, cut to what is left before ``deadline`` (monotonic). Raises
    :class:`DeliveryFailed` ("did not finish in time") when nothing is left."""
    if deadline is None:
        return default
    rest = deadline - time.monotonic()
    if rest <= 0.005:
        raise DeliveryFailed(N_("the send did not finish in time and was given up (it is tried again later)"))
    return min(default, rest)


class _Watchdog:
    """Closes a socket at the deadline, whatever it is waiting for (a server that trickles one byte at a time
    defeats per-read timeouts). ``with _Watchdog(deadline) as dog: dog.watch(sock)``; ``fired`` tells afterwards."""

    def __init__(self, deadline: float | None):
        self.deadline = deadline
        self.fired = False
        self._sock: socket.socket | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def watch(self, sock: "socket.socket | None") -> None:
        with self._lock:
            self._sock = sock

    def _fire(self) -> None:
        with self._lock:
            sock = self._sock
            self.fired = True
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def __enter__(self) -> "_Watchdog":
        if self.deadline is not None:
            self._timer = threading.Timer(max(0.0, self.deadline - time.monotonic()), self._fire)
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._timer is not None:
            self._timer.cancel()


class _Deadline:
    """Mixed into smtplib's classes: every command sent and every reply read waits at most what is left before the
    deadline (``smtplib`` itself only knows one timeout per socket operation)."""

    deadline: float | None = None
    dog: _Watchdog | None = None

    def _cut(self) -> None:
        sock = getattr(self, "sock", None)
        if sock is not None:
            if self.dog is not None:
                self.dog.watch(sock)
            try:
                sock.settimeout(left(self.deadline, float(self.timeout)))  # type: ignore[attr-defined]
            except DeliveryFailed:
                raise TimeoutError("deadline") from None

    def send(self, s):  # noqa: D401 - smtplib's own method, with the deadline
        self._cut()
        return super().send(s)  # type: ignore[misc]

    def getreply(self):
        self._cut()
        return super().getreply()  # type: ignore[misc]


class _SMTP(_Deadline, smtplib.SMTP):
    def __init__(self, *args, deadline: float | None = None, dog: _Watchdog | None = None, **kw):
        self.deadline, self.dog = deadline, dog
        super().__init__(*args, **kw)


class _SMTP_SSL(_Deadline, smtplib.SMTP_SSL):  # noqa: N801
    def __init__(self, *args, deadline: float | None = None, dog: _Watchdog | None = None, **kw):
        self.deadline, self.dog = deadline, dog
        super().__init__(*args, **kw)


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server (``WPP_SMTP_*``). The password is a Secret: it never prints."""

    host: str
    sender: str
    port: int = 587
    user: str | None = None
    password: Secret | None = field(default=None, repr=False)
    tls: str = "starttls"
    timeout_s: float = 20.0

    def __repr__(self) -> str:
        return (f"SmtpConfig(host={self.host!r}, port={self.port}, tls={self.tls!r}, user={self.user!r}, "
                f"password={'set' if self.password else 'not set'}, sender={self.sender!r})")


class EmailChannel:
    """E-mail: a plain-text part and an escaped HTML part, one message per recipient."""

    name = "email"

    def __init__(self, config: SmtpConfig):
        self.config = config

    def __repr__(self) -> str:
        return f"EmailChannel({self.config!r})"

    def message(self, alert: AlertRecord, recipient: Recipient) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = " ".join(alert.subject.split())
        msg["From"] = self.config.sender
        msg["To"] = recipient.address
        msg["Date"] = formatdate(alert.created_at, usegmt=True)
        msg["Message-ID"] = message_id(alert, self.config.sender)
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(alert.body)
        msg.add_alternative(html_part(alert.body), subtype="html")
        return msg

    def data(self, alert: AlertRecord, recipient: Recipient) -> bytes:
        """The message as sent. The subject is encoded here (RFC 2047, by ``email.header.Header``): the ``email``
        package's own folding of a long non-ASCII subject can drop the space at a fold ("не на" -> "нена")."""
        msg = self.message(alert, recipient)
        subject = Header(msg["Subject"], "utf-8", header_name="Subject").encode(linesep="\r\n")
        del msg["Subject"]
        buf = io.BytesIO()
        BytesGenerator(buf, policy=email.policy.SMTP).flatten(msg)
        return b"Subject: " + subject.encode("ascii") + b"\r\n" + buf.getvalue()

    def send(self, alert: AlertRecord, recipient: Recipient, *, deadline: float | None = None) -> None:
        cfg = self.config
        try:
            data = self.data(alert, recipient)
        except (ValueError, TypeError, UnicodeError):
            raise DeliveryFailed(N_("the message could not be written as an e-mail")) from None
        dog = _Watchdog(deadline)
        try:
            with dog:
                timeout = left(deadline, cfg.timeout_s)
                if cfg.tls == "ssl":
                    server = _SMTP_SSL(cfg.host, cfg.port, timeout=timeout, context=ssl.create_default_context(),
                                       deadline=deadline, dog=dog)
                else:
                    server = _SMTP(cfg.host, cfg.port, timeout=timeout, deadline=deadline, dog=dog)
                try:
                    if cfg.tls == "starttls":
                        server.starttls(context=ssl.create_default_context())
                    if cfg.user:
                        server.login(cfg.user, cfg.password.reveal() if cfg.password else "")
                    server.sendmail(cfg.sender, [recipient.address], data)
                except BaseException:
                    server.close()
                    raise
                # accepted: whatever QUIT answers (or not, by the deadline) changes nothing about the delivery
                try:
                    server.quit()
                except Exception:  # noqa: BLE001 - the message went out; a rude goodbye is no failure
                    server.close()
        except DeliveryFailed:
            raise
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryFailed(N_("the mail server did not accept the user name or password (code {code})",
                                    code=e.smtp_code)) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryFailed(N_("the mail server refused the address")) from None
        except smtplib.SMTPNotSupportedError:
            raise DeliveryFailed(N_("the mail server does not offer what WPP_SMTP_TLS asks for (STARTTLS) or a "
                                    "sign-in")) from None
        except smtplib.SMTPResponseException as e:
            raise DeliveryFailed(N_("the mail server refused the message (code {code})", code=e.smtp_code)) from None
        except (socket.timeout, TimeoutError):
            raise _late(dog, N_("the mail server did not answer in time")) from None
        except smtplib.SMTPServerDisconnected as e:  # smtplib turns a read timeout into this
            if dog.fired or "timed out" in str(e).lower():
                raise _late(dog, N_("the mail server did not answer in time")) from None
            raise DeliveryFailed(N_("the mail server cannot be reached")) from None
        except ssl.SSLError:
            raise DeliveryFailed(N_("a secure connection to the mail server could not be made")) from None
        except (OSError, smtplib.SMTPException):
            raise _late(dog, N_("the mail server cannot be reached")) from None


def _late(dog: _Watchdog, otherwise: Text) -> DeliveryFailed:
    """The failure to report: "given up at the deadline" when the watchdog cut the connection, else ``otherwise``."""
    if dog.fired or (dog.deadline is not None and time.monotonic() >= dog.deadline - 0.005):
        return DeliveryFailed(N_("the send did not finish in time and was given up (it is tried again later)"))
    return DeliveryFailed(otherwise)


def message_id(alert: AlertRecord, sender: str) -> str:
    """The e-mail's Message-ID: the alert's stable id at the sender's domain, the same on every try."""
    domain = (sender.rsplit("@", 1)[-1] if "@" in sender else "") or "wpp-console.invalid"
    uid = alert.uid or f"wpp-alert-{alert.id}"
    return f"<{uid}@{domain}>"


class WebhookChannel:
    """A JSON POST to the recipient's address; any 2xx answer is success. The body carries the alert's stable ``id``,
    and so does the ``Idempotency-Key`` header. No retries here: the desk retries on later passes, with a growing
    delay."""

    name = "webhook"

    def __init__(self, timeout_s: float = 10.0, *, transport: httpx.BaseTransport | None = None):
        self.timeout_s = float(timeout_s)
        self.transport = transport

    def __repr__(self) -> str:
        return f"WebhookChannel(timeout_s={self.timeout_s})"

    def send(self, alert: AlertRecord, recipient: Recipient, *, deadline: float | None = None) -> None:
        _HIDE.add(recipient.address)
        body = dict(alert.payload or {"text": alert.body})
        if alert.uid:
            body.setdefault("id", alert.uid)
        headers = {"Idempotency-Key": alert.uid} if alert.uid else {}
        status = post_json(recipient.address, body, headers=headers, timeout_s=self.timeout_s, deadline=deadline,
                           transport=self.transport, late=N_("the webhook did not answer in time"),
                           unreachable=N_("the webhook cannot be reached"))[0]
        if not 200 <= status < 300:
            raise DeliveryFailed(N_("the webhook answered HTTP {status}", status=status))


def post_json(url: str, body: dict, *, headers: dict | None = None, timeout_s: float, deadline: float | None,
              transport: httpx.BaseTransport | None, late: Text, unreachable: Text,
              max_answer: int = 65536) -> tuple[int, bytes, dict]:
    """POST ``body`` as JSON; ``(status, the answer's first bytes, its headers)``. Every wait is cut to what is left
    before ``deadline``, and reading the answer stops there too (the request itself went out before)."""
    wait = left(deadline, timeout_s)
    try:
        with httpx.Client(timeout=httpx.Timeout(wait), follow_redirects=False, transport=transport,
                          headers={"User-Agent": "wpp-console-alerts"}) as client:
            with client.stream("POST", url, json=body, headers=headers or {}) as res:
                got = b""
                for chunk in res.iter_bytes():
                    got += chunk
                    if len(got) >= max_answer:
                        break
                    left(deadline, timeout_s)
                return res.status_code, got[:max_answer], dict(res.headers)
    except DeliveryFailed:
        raise DeliveryFailed(N_("the send did not finish in time and was given up (it is tried again later)")) from None
    except httpx.TimeoutException:
        raise DeliveryFailed(late) from None
    except (httpx.HTTPError, ValueError, OSError):
        raise DeliveryFailed(unreachable) from None


class TelegramChannel:
    """Telegram: the Bot API's ``sendMessage`` to the recipient's chat, in Telegram's HTML subset with everything
    escaped (the subject in bold, the text as it is). Telegram's limits are obeyed: at most one message a second per
    chat and 25 a second in all from this process, and a 429 answer's ``retry_after`` is handed to the desk, which
    waits at least that long before this chat's next try. A chat or token Telegram refuses (400/401/403) is a
    permanent failure: trying again cannot help. The bot token travels in the request's path; it is never logged.

    Why not Apprise (which speaks Telegram and many more by URL): its ``notify()`` answers only True or False, so
    the desk could not keep its own retry decisions (a 429's ``retry_after``, a refused chat that must not be tried
    again), and it has no way to carry an alert's stable id (a Message-ID, an ``Idempotency-Key``)."""

    name = "telegram"
    #: Telegram's own limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this)
    PER_CHAT_S = 1.0
    PER_BOT_S = 1.0 / 25

    def __init__(self, token: Secret, *, api_url: str = "https://api.telegram.org", timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None):
        self.token = token
        self.api_url = api_url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.transport = transport
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._last_any = 0.0
        _HIDE.add_token(token.reveal())

    def __repr__(self) -> str:
        return f"TelegramChannel(api_url={self.api_url!r}, token=set)"

    def text(self, alert: AlertRecord) -> str:
        """The message: the subject in bold, then the text; every character of both escaped for Telegram's HTML
        (``&``, ``<``, ``>``), and cut to Telegram's 4096 characters."""
        subject = html.escape(" ".join(alert.subject.split()), quote=False)
        body = alert.body if len(alert.body) <= 3800 else alert.body[:3800] + "\u2026"
        return f"<b>{subject}</b>\n\n{html.escape(body, quote=False)}"[:4096]

    def _pace(self, chat: str, deadline: float | None) -> None:
        """Wait until this chat (and the bot) may get the next message; never past the deadline."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._last.get(chat, 0.0) + self.PER_CHAT_S, self._last_any + self.PER_BOT_S)
            self._last[chat] = self._last_any = at
        wait = at - time.monotonic()
        if wait > 0:
            left(deadline, wait + 0.01)
            time.sleep(wait)

    def send(self, alert: AlertRecord, recipient: Recipient, *, deadline: float | None = None) -> None:
        self._pace(recipient.address, deadline)
        url = f"{self.api_url}/bot{self.token.reveal()}/sendMessage"
        body = {"chat_id": recipient.address, "text": self.text(alert), "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True}}
        status, answer, _headers = post_json(url, body, timeout_s=self.timeout_s, deadline=deadline,
                                             transport=self.transport, late=N_("Telegram did not answer in time"),
                                             unreachable=N_("Telegram cannot be reached"))
        try:
            data = json.loads(answer.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError):
            data = None
        data = data if isinstance(data, dict) else {}
        if 200 <= status < 300 and data.get("ok") is True:
            return
        params = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
        if status == 429:
            try:
                wait = float(params.get("retry_after"))
            except (TypeError, ValueError):
                wait = 30.0
            raise DeliveryFailed(N_("Telegram asked to wait {n} s before the next message", n=int(wait)),
                                 retry_after=wait)
        if status in (400, 403) and params.get("migrate_to_chat_id") is None:
            raise DeliveryFailed(N_("Telegram refused the chat (HTTP {status}): check the chat id and that the bot "
                                    "is a member of it", status=status), permanent=True)
        if status == 401:
            raise DeliveryFailed(N_("Telegram did not accept the bot token (HTTP 401): check WPP_TELEGRAM_BOT_TOKEN"),
                                 permanent=True)
        raise DeliveryFailed(N_("Telegram answered HTTP {status}", status=status))


class OutboxChannel:
    """Demo mode: the alert stays in the store's outbox (the Alerts page shows it); nothing leaves the computer."""

    name = "outbox"

    def send(self, alert: AlertRecord, recipient: Recipient, *, deadline: float | None = None) -> None:
        return None


__all__ = ["DeliveryFailed", "EmailChannel", "OutboxChannel", "SmtpConfig", "TLS_MODES", "TelegramChannel",
           "WebhookChannel", "left",
           "message_id", "post_json"]
