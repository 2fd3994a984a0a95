"""The names of the states staff read, in one place (pages, the diary and the alerts use these; no Streamlit).

Started with proof of delivery's two new names; the other states' names (``ConnState.label``) join here as the
console speaks with one voice (issue 27). A name is a lazy :class:`~wpp.i18n.Text`: it is said in the reader's
language where it is shown (``str()`` in a page, ``.render(lang)`` in an alert).
"""
from __future__ import annotations

from .i18n import N_, Text

#: the number's check message reached the witness (✓✓, or the witness number received it)
DELIVERY_PROVEN = N_("Delivery proven")
#: the number shows as connected, but its check message was not delivered
NOT_DELIVERING = N_("Connected but not delivering")
#: a check message is on its way
DELIVERY_CHECKING = N_("Checking delivery")

#: the one thing to do about a number that is connected but not delivering
NOT_DELIVERING_TODO = N_("Messages from this number do not arrive, although it shows as connected. Check that the "
                         "phone is on and has internet, and open WhatsApp on it; then press “Check delivery now” "
                         "on the number's page. If the check fails again, link the phone again with a new QR code.")


def delivery_proven(time: str) -> Text:
    """"Delivery proven 09:12" (``time`` already formatted for the reader)."""
    return N_("Delivery proven {time}", time=time)


def not_delivering(since: str) -> Text:
    """"Not delivering since 09:12" (``since`` already formatted for the reader)."""
    return N_("Not delivering since {time}", time=since)


__all__ = ["DELIVERY_CHECKING", "DELIVERY_PROVEN", "NOT_DELIVERING", "NOT_DELIVERING_TODO", "delivery_proven",
           "not_delivering"]
