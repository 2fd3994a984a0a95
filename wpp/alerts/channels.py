"""How an alert leaves the console: e-mail through SMTP (standard library), a JSON POST to a webhook (httpx), or, in
demo mode, the outbox kept in the store (nothing leaves the computer).

A channel's ``send(alert, recipient)`` returns when the alert was accepted, or raises :class:`DeliveryFailed` with a
sentence (English in logs and the store, the reader's language in the diary) and never the password, the webhook's
address or what the server answered beyond its status code.
"""
from __future__ import annotations

import email.policy
import io
import logging
import smtplib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
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
        self._lock = threading.Lock()

    def add(self, url: str) -> None:
        with self._lock:
            if url not in self._urls:
                self._urls[url] = mask_url(url)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            urls = dict(self._urls)
        if not urls:
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
        if hidden != text:
            record.msg, record.args = hidden, ()
        return True


_HIDE = _HideWebhookAddresses()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_HIDE)


class DeliveryFailed(Exception):
    """An alert was not accepted: ``problem`` is a sentence (lazy Text) without any secret."""

    def __init__(self, problem: Text):
        super().__init__(problem.english)
        self.problem = problem


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
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain=(self.config.sender.rsplit("@", 1)[-1] or None))
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

    def send(self, alert: AlertRecord, recipient: Recipient) -> None:
        cfg = self.config
        try:
            data = self.data(alert, recipient)
        except (ValueError, TypeError, UnicodeError):
            raise DeliveryFailed(N_("the message could not be written as an e-mail")) from None
        try:
            if cfg.tls == "ssl":
                server = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with server:
                if cfg.tls == "starttls":
                    server.starttls(context=ssl.create_default_context())
                if cfg.user:
                    server.login(cfg.user, cfg.password.reveal() if cfg.password else "")
                server.sendmail(cfg.sender, [recipient.address], data)
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
            raise DeliveryFailed(N_("the mail server did not answer in time")) from None
        except smtplib.SMTPServerDisconnected as e:  # smtplib turns a read timeout into this
            if "timed out" in str(e).lower():
                raise DeliveryFailed(N_("the mail server did not answer in time")) from None
            raise DeliveryFailed(N_("the mail server cannot be reached")) from None
        except ssl.SSLError:
            raise DeliveryFailed(N_("a secure connection to the mail server could not be made")) from None
        except (OSError, smtplib.SMTPException):
            raise DeliveryFailed(N_("the mail server cannot be reached")) from None


class WebhookChannel:
    """A JSON POST to the recipient's address; any 2xx answer is success. No retries here: the desk retries on later
    passes, with a growing delay."""

    name = "webhook"

    def __init__(self, timeout_s: float = 10.0, *, transport: httpx.BaseTransport | None = None):
        self.timeout_s = float(timeout_s)
        self.transport = transport

    def __repr__(self) -> str:
        return f"WebhookChannel(timeout_s={self.timeout_s})"

    def send(self, alert: AlertRecord, recipient: Recipient) -> None:
        _HIDE.add(recipient.address)
        try:
            with httpx.Client(timeout=self.timeout_s, follow_redirects=False, transport=self.transport,
                              headers={"User-Agent": "wpp-console-alerts"}) as client:
                res = client.post(recipient.address, json=alert.payload or {"text": alert.body})
        except httpx.TimeoutException:
            raise DeliveryFailed(N_("the webhook did not answer in time")) from None
        except (httpx.HTTPError, ValueError, OSError):
            raise DeliveryFailed(N_("the webhook cannot be reached")) from None
        if not 200 <= res.status_code < 300:
            raise DeliveryFailed(N_("the webhook answered HTTP {status}", status=res.status_code))


class OutboxChannel:
    """Demo mode: the alert stays in the store's outbox (the Alerts page shows it); nothing leaves the computer."""

    name = "outbox"

    def send(self, alert: AlertRecord, recipient: Recipient) -> None:
        return None


__all__ = ["DeliveryFailed", "EmailChannel", "OutboxChannel", "SmtpConfig", "TLS_MODES", "WebhookChannel"]
