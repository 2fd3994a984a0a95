"""Alerts when a number drops: people are told once per outage (and once when it is back), by e-mail, webhook or
Telegram, in their language, whoever looks at the console; mutes, maintenance windows, "I'm on it" and one reminder.
Streamlit-free.

* :mod:`wpp.alerts.desk` — :class:`AlertDesk` (one sender per deployment, a lease in the store), the face of
  its rooms :mod:`~wpp.alerts.incidents` (following the board), :mod:`~wpp.alerts.queueing` (grouping, the platform
  incident, mutes, reminders) and :mod:`~wpp.alerts.sending` (claims, channels, back-off);
  :mod:`wpp.alerts.config` — :class:`AlertConfig`, what the desk needs from the settings;
* :mod:`wpp.alerts.recipients` — ``WPP_ALERT_RECIPIENTS`` read and checked;
* :mod:`wpp.alerts.message` — what an alert says; :mod:`wpp.alerts.channels` — SMTP, webhooks, Telegram, the demo
  outbox;
* :mod:`wpp.alerts.schedule` — the time zone and quiet hours.

The submodules are imported lazily (the configuration imports only the light ones).
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "ALERT_LEASE": ".desk",
    "AlertConfig": ".config",
    "AlertDesk": ".desk",
    "AlertRecipients": ".recipients",
    "Recipient": ".recipients",
    "parse_recipients": ".recipients",
    "DeliveryFailed": ".channels",
    "EmailChannel": ".channels",
    "OutboxChannel": ".channels",
    "SmtpConfig": ".channels",
    "TelegramChannel": ".channels",
    "WebhookChannel": ".channels",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
