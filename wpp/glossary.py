"""One name for each thing staff read about, in one place (pages, the diary and the alerts use these; no Streamlit).

Started with proof of delivery's names (issue 26); the states of a number join here as the console speaks with one
voice (issue 27): a code (a plain text) per state, its one name (a lazy :class:`~wpp.i18n.Text`, said in the reader's
language where it is shown: ``str()`` in a page, ``.render(lang)`` in an alert), and the sentences built from it.
"""
from __future__ import annotations

from .i18n import N_, Text

# --- proof of delivery ---------------------------------------------------------------------------------------------
#: the number's check message reached the witness (✓✓, or the witness number received it)
DELIVERY_PROVEN = "delivery_proven"
#: the number shows as connected, but its check message was not delivered (an incident kind of its own)
NOT_DELIVERING = "not_delivering"
#: a check message is on its way
CHECKING_DELIVERY = "checking_delivery"

DELIVERY_NAMES: dict[str, Text] = {
    DELIVERY_PROVEN: N_("Delivery proven"),
    NOT_DELIVERING: N_("Connected but not delivering"),
    CHECKING_DELIVERY: N_("Checking delivery"),
}

#: the one thing to do about a number that is connected but not delivering (phone first)
NOT_DELIVERING_TODO = N_("Messages from this number do not arrive, although it shows as connected. Check that the "
                         "phone is on and has internet, and open WhatsApp on it; then press “Check delivery now” "
                         "on the number's page. If the check fails again, link the phone again with a new QR code.")


def delivery_name(code: str) -> Text:
    """The one name of a proof-of-delivery state ("Connected but not delivering" / "Подключён, но не доставляет")."""
    return DELIVERY_NAMES[code]


def delivery_proven(time: str) -> Text:
    """"Delivery proven 09:12" (``time`` already formatted for the reader)."""
    return N_("Delivery proven {time}", time=time)


def not_delivering(since: str) -> Text:
    """"Not delivering since 09:12" (``since`` already formatted for the reader)."""
    return N_("Not delivering since {time}", time=since)


__all__ = ["CHECKING_DELIVERY", "DELIVERY_NAMES", "DELIVERY_PROVEN", "NOT_DELIVERING", "NOT_DELIVERING_TODO",
           "delivery_name", "delivery_proven", "not_delivering"]
