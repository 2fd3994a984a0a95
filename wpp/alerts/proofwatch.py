"""The alert desk's side of proof of delivery: which witness a number's checks go to, and what happens to a "connected
but not delivering" incident when no witness applies any more.

A number is "not delivering" only while its checks have a witness to go to (``wpp_console_witnesses``: its school's,
else the one for every school). When an administrator removes the witness while a number is not delivering, the
proof can no longer be run either way: the office would not want an incident that stays open for ever, nor a false
"it delivers again" message. So the incident closes *without a recovery* (no message to anyone) and the diary says
why, in words for the school (:func:`close_unprovable`). Naming a witness again starts afresh: a failure from before
counts only once a check to the new witness fails too (:meth:`wpp.models.DeliveryState.judged`).

Used by :class:`wpp.alerts.desk.AlertDesk` and by the pages' list (``wpp.service.proof``), so both say the same.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Mapping

from ..access.roles import base_org
from ..errors import WppError
from ..i18n import N_
from ..models import ActivityEntry, Incident, Witness

log = logging.getLogger("wpp.alerts")

#: who closes it, in the diary
ACTOR = "WPP Console"
#: the diary's line when the proof can no longer be run
NO_WITNESS_LINE = N_("Delivery of this number can no longer be checked: no witness is named for its school any more. "
                     "The problem “connected but not delivering” is closed without saying the number delivers again; "
                     "nobody is sent a message about it.")


def read_witnesses(store) -> dict[str, Witness] | None:
    """Every witness by scope; None when they cannot be read now (then nothing is decided from them)."""
    read = getattr(store, "witnesses", None)
    if read is None:
        return None
    try:
        return {w.scope: w for w in read()}
    except WppError as err:
        log.warning("could not read the delivery checks' witnesses: %s", err.english)
        return None


def witness_for(org_id: str | None, witnesses: Mapping[str, Witness]) -> Witness | None:
    """The witness a number of this school sends its checks to: the school's own, else the one for every school."""
    return witnesses.get(base_org(org_id)) or witnesses.get("*")


def close_unprovable(store, inc: Incident, now: float) -> None:
    """Close a "not delivering" incident whose proof can no longer be run: closed, not recovered (so no recovery
    message goes out), and one diary line for the number."""
    store.save_incident(replace(inc, closed_at=now))
    try:
        store.log_activity(ActivityEntry(action="delivery_unprovable", outcome="ok", actor=ACTOR,
                                         integration_id=inc.integration_id, organization_id=inc.organization_id,
                                         detail=NO_WITNESS_LINE.english, message=NO_WITNESS_LINE.to_json()))
    except WppError as err:
        log.warning("could not write the diary line for %s: %s", inc.id, err.english)


__all__ = ["NO_WITNESS_LINE", "close_unprovable", "read_witnesses", "witness_for"]
