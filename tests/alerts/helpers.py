"""Helpers of the alert tests: a school with a number on a real store, the real status engine asking a scripted
platform, alert desks, and time played on a manual clock."""
from __future__ import annotations

import datetime as dt
import random
import re
import uuid
from zoneinfo import ZoneInfo

from wpp import keys
from wpp.alerts.channels import SmtpConfig
from wpp.alerts.desk import AlertConfig, AlertDesk
from wpp.alerts.recipients import parse_recipients
from wpp.status import StatusEngine

from tests.status.helpers import FakePlatform

ORG = "0a0a0a0a-0000-4000-8000-00000000000a"
ORG_B = "0b0b0b0b-0000-4000-8000-00000000000b"
MSK = ZoneInfo("Europe/Moscow")
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
SMTP_USER = "console@school.example"
SMTP_PASSWORD = "smtp-Pa55word-very-secret-42"
HOOK_TOKEN = "s3cr3t-hook-token-0123456789"


def msk(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return dt.datetime(year, month, day, hour, minute, tzinfo=MSK).timestamp()


def recipients(table: dict):
    found, problems = parse_recipients(table)
    assert not problems, [str(p) for p in problems]
    return found


def smtp_config(sink, **kw) -> SmtpConfig:
    kw.setdefault("user", SMTP_USER)
    kw.setdefault("password", None)
    from wpp.masking import Secret

    if kw["user"] and kw["password"] is None:
        kw["password"] = Secret(SMTP_PASSWORD)
    return SmtpConfig(host="127.0.0.1", port=sink.port, sender="console@school.example", tls="none",
                      timeout_s=kw.pop("timeout_s", 2.0), **kw)


class World:
    """One school ("Школа № 5") with one number ("Ресепшн") in ``store``, the status engine asking a scripted
    platform, and the desks made by :meth:`desk`."""

    def __init__(self, store, clock):
        self.store, self.clock = store, clock
        self.platform = FakePlatform(clock)
        self.engine = StatusEngine(store, self.platform.check, clock=clock, rng=random.Random(7))
        self.desks: list[AlertDesk] = []
        store.add_organization("Школа № 5", ORG)
        self.number = self.add("Ресепшн")

    def add(self, name: str, org: str = ORG, state: str = "connected"):
        n = random.randint(1, 10**12)
        row = self.store.create(org, name=name, settings={keys.API_KEY: f"fake-api-key-{uuid.uuid4().hex}",
                                                          keys.SESSION: f"{n:013d}"})
        self.platform.set(row.id, state)
        return row

    def config(self, table: dict | None = None, *, smtp=None, after_s: float = 600.0, quiet=None,
               public_url: str | None = None, language: str = "ru", demo: bool = False, remind_s: float = 0.0,
               **extra) -> AlertConfig:
        """The desk's settings; reminders are off unless a test asks for them (``remind_s``)."""
        from wpp.alerts.recipients import AlertRecipients

        return AlertConfig(recipients=recipients(table) if table else AlertRecipients(), after_s=after_s,
                           language=language, tz=MSK, quiet=quiet, public_url=public_url, smtp=smtp, demo=demo,
                           remind_s=remind_s, **extra)

    def desk(self, table: dict | None = None, *, store=None, holder: str | None = None, channels=None, **kw):
        smtp = kw.get("smtp")
        extra = {k: kw.pop(k) for k in ("max_attempts", "retry_first_s", "lease_ttl_s", "claim_s") if k in kw}
        config = self.config(table, **kw)
        if channels is None and smtp is not None:
            from wpp.alerts.channels import EmailChannel, OutboxChannel, WebhookChannel

            channels = {"email": EmailChannel(smtp), "webhook": WebhookChannel(timeout_s=1.0),
                        "outbox": OutboxChannel()}
        elif channels is None:
            from wpp.alerts.channels import OutboxChannel, WebhookChannel

            channels = {"webhook": WebhookChannel(timeout_s=1.0), "outbox": OutboxChannel()}
        d = AlertDesk(store or self.store, config, clock=self.clock, holder=holder or f"desk-{len(self.desks)}",
                      channels=channels, **extra)
        self.desks.append(d)
        return d

    def settle(self, seconds: float = 120.0, step: float = 10.0) -> None:
        """Let the engine see the platform's state (no desk passes)."""
        self.play(seconds, step=step, desks=())

    def play(self, seconds: float, *, step: float = 10.0, desks=None) -> None:
        desks = self.desks if desks is None else desks
        end = self.clock.time() + seconds
        while self.clock.time() < end - 1e-9:
            self.clock.advance(step)
            self.engine.tick()
            for d in desks:
                d.run_once()

    def close(self) -> None:
        for d in self.desks:
            d.stop()
        self.engine.stop()
