"""What the alert desk needs from the settings (:class:`AlertConfig`), read once when the service is built.

Who is told (the recipients, or the demo's outbox), after how long, in which language and time zone, the quiet and
working hours, the mail server and the Telegram bot, how long incidents and alerts are kept.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .channels import SmtpConfig
from .recipients import EVERY_SCHOOL, OUTBOX, OUTBOX_KEY, AlertRecipients, Recipient
from .schedule import in_quiet_hours, parse_quiet_hours, parse_working_hours, zone

#: the demo's one recipient: the outbox
DEMO_OUTBOX = Recipient(OUTBOX, OUTBOX_KEY, None)
DAY = 86400.0


@dataclass(frozen=True)
class AlertConfig:
    """What the desk needs from the settings (:meth:`from_settings`)."""

    recipients: AlertRecipients = field(default_factory=AlertRecipients)
    after_s: float = 600.0
    language: str = "ru"
    tz: dt.tzinfo = field(default_factory=lambda: zone("Europe/Moscow"))
    quiet: tuple[int, int] | None = None
    public_url: str | None = None
    smtp: SmtpConfig | None = None
    demo: bool = False
    interval_s: float = 30.0
    #: how long closed incidents and delivered alerts are kept (given-up alerts: as long as incidents)
    keep_incidents_s: float = 365 * DAY
    keep_alerts_s: float = 90 * DAY
    #: drops that start within this many seconds of each other go out as one message
    group_s: float = 120.0
    #: more than this percentage of the fleet down at once (at least 3 numbers): one platform incident
    platform_percent: int = 50
    #: a drop nobody acknowledged is reminded once after this many working seconds (0: never)
    remind_s: float = 4 * 3600.0
    #: the working day (minutes of the day), Monday to Friday
    working: tuple[int, int] = (9 * 60, 18 * 60)
    #: the Telegram bot (a Secret) and the Bot API's address
    telegram_token: Any = field(default=None, repr=False)
    telegram_api_url: str = "https://api.telegram.org"

    @classmethod
    def from_settings(cls, settings: Any) -> "AlertConfig":
        s = settings
        smtp = None
        if getattr(s, "smtp_host", None):
            smtp = SmtpConfig(host=s.smtp_host, port=int(s.smtp_port), user=s.smtp_user or None,
                              password=s.smtp_password, tls=s.smtp_tls, sender=s.smtp_sender or "")
        quiet = parse_quiet_hours(s.alert_quiet_hours) if getattr(s, "alert_quiet_hours", None) else None
        demo = bool(getattr(s, "demo", False))
        return cls(
            recipients=getattr(s, "alert_recipients", None) or AlertRecipients(),
            after_s=float(s.alert_after_s),
            language=s.alert_language,
            tz=zone(s.alert_timezone),
            quiet=quiet,
            public_url=getattr(s, "public_url", None),
            smtp=smtp,
            demo=demo,
            interval_s=10.0 if demo else 30.0,
            keep_incidents_s=float(getattr(s, "keep_incidents_days", 365)) * DAY,
            keep_alerts_s=float(getattr(s, "keep_alerts_days", 90)) * DAY,
            group_s=float(getattr(s, "alert_group_minutes", 2.0)) * 60.0,
            platform_percent=int(getattr(s, "alert_platform_percent", 50)),
            remind_s=float(getattr(s, "alert_remind_hours", 4.0)) * 3600.0,
            working=parse_working_hours(getattr(s, "alert_working_hours", None) or "09:00-18:00"),
            telegram_token=getattr(s, "telegram_bot_token", None),
            telegram_api_url=getattr(s, "telegram_api_url", None) or "https://api.telegram.org",
        )

    @property
    def enabled(self) -> bool:
        """Whether anyone is to be told: demo mode (the outbox), or at least one recipient."""
        return self.demo or bool(self.recipients)

    def recipients_for(self, org_id: str | None) -> list[Recipient]:
        if self.demo:
            return [DEMO_OUTBOX]
        return self.recipients.for_school(org_id)

    def recipient(self, key: str) -> Recipient | None:
        if self.demo:
            return DEMO_OUTBOX if key == OUTBOX_KEY else None
        return self.recipients.by_key().get(key)

    def everyone(self) -> list[Recipient]:
        """The "*" recipients (every school's people: the console's support); in the demo, the outbox."""
        if self.demo:
            return [DEMO_OUTBOX]
        return list(self.recipients.get(EVERY_SCHOOL, ()))

    def quiet_now(self, now: float) -> bool:
        return in_quiet_hours(now, self.quiet, self.tz)

    @property
    def secrets(self) -> list[str]:
        """What must never be written anywhere: the SMTP password, the webhooks' addresses, the bot token."""
        out = list(self.recipients.secrets)
        if self.smtp is not None and self.smtp.password:
            out.append(self.smtp.password.reveal())
        if self.telegram_token:
            out.append(self.telegram_token.reveal())
        return out


__all__ = ["DAY", "DEMO_OUTBOX", "AlertConfig"]
