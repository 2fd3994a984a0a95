"""Live connection status of every number, cheap for the platform on one process or several replicas.

* :class:`StatusEngine` — one poller per deployment (a lease in the store), adaptive jittered polling, the shared
  board viewers read (:meth:`~StatusEngine.board`, :attr:`~StatusEngine.version`), "check now", reports from the
  pairing panel (:meth:`~StatusEngine.record`), history.
* :class:`PollPolicy` — every interval and limit in one place.
* :class:`CheckResult` — what the service's ``check(integration)`` returns.
* :func:`triage` / :func:`sort_key` — which numbers need attention and why, most urgent first.
* :func:`error_to_dict` / :func:`error_from_dict` — errors as stored on the board, and back.
* :class:`WebhookInbox` — the platform's pushes to the console's webhook (``wpp.status.webhooks``).

Replaces ``wpp/fleet.py``. Streamlit-free.
"""
from __future__ import annotations

from .board import Board, BoardEntry, version_of
from .engine import POLLER_LEASE, CheckFn, StatusEngine, default_holder
from .policy import DEFAULT_POLICY, PollPolicy
from .record import CANNOT_CHECK, CheckResult, Step, advance, error_from_dict, error_to_dict, shown_state
from .triage import (
    CANNOT_BE_CHECKED,
    KEY_REJECTED,
    KEY_REJECTED_KINDS,
    OFFLINE,
    REASONS,
    SCAN_OVERDUE,
    STARTING_TOO_LONG,
    Attention,
    sort_key,
    triage,
)
from .webhooks import HookAnswer, WebhookInbox

__all__ = [
    "Attention",
    "Board",
    "BoardEntry",
    "CANNOT_BE_CHECKED",
    "CANNOT_CHECK",
    "CheckFn",
    "CheckResult",
    "DEFAULT_POLICY",
    "KEY_REJECTED",
    "KEY_REJECTED_KINDS",
    "OFFLINE",
    "POLLER_LEASE",
    "PollPolicy",
    "REASONS",
    "SCAN_OVERDUE",
    "STARTING_TOO_LONG",
    "StatusEngine",
    "Step",
    "HookAnswer",
    "WebhookInbox",
    "advance",
    "default_holder",
    "error_from_dict",
    "error_to_dict",
    "shown_state",
    "sort_key",
    "triage",
    "version_of",
]
