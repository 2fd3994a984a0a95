"""The use-cases the pages call: organisations, numbers, pairing, status, access keys, test messages, the diary.

Pages never build a URL nor touch a ``settings`` key: they call these and render what comes back (see
``wpp.service.views``). Every method either returns a typed result or raises a ``WppError`` whose message a staff
member can act on, in their language.

Data flows one way: page -> service -> client/store -> platform/database. The status engine (``wpp.status``)
polls the platform through :meth:`WppService.poll_check`; pages read its shared board.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Iterable

from .. import keys
from ..clock import SYSTEM_CLOCK
from ..errors import InvalidInput, WppError
from ..i18n import N_, _
from ..masking import reveal
from ..models import ConnState, Integration
from .access_report import AccessMixin
from .alerts import AlertsMixin, IncidentLine, Incidents, OutboxLine, RecipientLine, UndeliveredLine
from .core import ServiceCore, from_epoch
from .diary import DiaryMixin
from .numbers import NumbersMixin
from .pairing import PairingMixin
from .proof import CheckLine, ProofConfig, ProofMixin, ProofView, WitnessLine
from .webhooks import DeliveryView, WebhookLine, WebhookOverview, WebhooksMixin
from .views import (
    AccessReport,
    AccessTest,
    ActivityLine,
    BoardView,
    Check,
    CreateOutcome,
    HistoryLine,
    NumberView,
    PairingView,
    Problem,
    SendOutcome,
)

log = logging.getLogger("wpp.service")

#: old records are deleted this often (seconds; the poller's leaseholder, a few batches each time)
RETENTION_EVERY_S = 600.0


class WppService(NumbersMixin, PairingMixin, AccessMixin, DiaryMixin, AlertsMixin, WebhooksMixin, ProofMixin,
                 ServiceCore):
    """See the module docstring; ``for_session()`` gives the per-browser-session view pages use."""

    #: old records deleted in the background (``wpp.status.retention.Retention``), set by build_service
    retention = None

    # --- the status engine's side -------------------------------------------------------------------------
    def poll_check(self, row: Integration):
        """What the status engine calls for one number: ask the platform (the number's access key is reused or
        renewed by the TokenManager). Returns ``wpp.status.CheckResult``; never raises."""
        from ..status import CheckResult

        try:
            status = self.client.get_status(self._session_id(row), self.tokens.auth(row))
        except WppError as err:
            return CheckResult(None, err)
        if status.phone and row.settings.get(keys.PHONE) != status.phone:
            try:
                self.store.merge_settings(row.id, {keys.PHONE: status.phone})
            except WppError:
                pass
        return CheckResult(status, None)

    def engine_record(self, integration_id: str, status, err) -> None:
        from ..status import CheckResult

        self.engine.record(integration_id, CheckResult(status, err))

    def engine_views(self, ids: Iterable[str] | None = None) -> dict[str, BoardView]:
        board = self.engine.board(list(ids) if ids is not None else None)
        out: dict[str, BoardView] = {}
        for iid, entry in board.items():
            problem = Problem.from_json(entry.problem) if entry.problem else None
            out[iid] = BoardView(
                state=entry.conn_state,
                label=str(entry.label),
                since=from_epoch(entry.since),
                checked_at=from_epoch(entry.checked_at),
                problem=problem,
                attention=entry.attention.text if entry.attention else None,
                attention_code=entry.attention.code if entry.attention else None,
                phone=entry.phone,
                code=entry.code,
            )
        return out

    def status_version(self, integration_id: str) -> str:
        """Changes when what a page shows of this number's state changes (its shown state, since when, its problem,
        its phone) — and so when its connection history gets a line. Cheap: the process's copy of the board."""
        if self.engine is None:
            return ""
        try:
            entry = self.engine.entry(integration_id)
        except WppError:
            return ""
        return "" if entry is None else format(entry.signature & 0xFFFFFFFFFFFF, "x")

    def board_version(self) -> str:
        """Changes only when something a viewer of the Numbers page sees changed (pages cache their table by it)."""
        return self.engine.version if self.engine is not None else ""

    def check_now(self, ids: Iterable[str] | None = None) -> None:
        """"Check now" for some numbers or the whole list: the poller asks at once (on whichever replica polls).
        Needs the operator's role for every number named in ``ids``; the whole list is the numbers of the schools
        where the person is an operator (or more)."""
        if ids is None:
            from ..access.roles import ALL

            rows = [r for r in self.store.list_integrations() if self._visible(r)]
            mine = [r for r in rows if self._access.may("check", r.organization_id)]
            if rows and not mine:
                self._permit("check", rows[0].organization_id)  # refused in words (and in the diary)
            # the whole list only for someone who may check every school's numbers; else theirs, one by one
            wanted = None if self._access.may("check", ALL) else [r.id for r in mine]
        else:
            wanted = [self._row(i, "check").id for i in ids]
        if self.engine is not None and (wanted is None or wanted):
            self.engine.check_now(wanted)

    def history(self, integration_id: str, limit: int = 50) -> list[HistoryLine]:
        """The number's connection history, newest first, in words."""
        self._row(integration_id)
        if self.engine is None:
            return []
        lines = []
        for ch in self.engine.history(integration_id, limit=limit):
            problem = Problem.from_json(ch.error) if ch.error else None
            lines.append(HistoryLine(
                at=from_epoch(ch.at),
                state=self._state_words(ch.state, problem),
                previous=self._state_words(ch.previous, None) if ch.previous is not None else "—",
                problem=str(problem.message) if problem else "",  # what happened; what to do is the page's
            ))
        return lines

    @staticmethod
    def _state_words(state: str | None, problem: Problem | None) -> str:
        """A history line's state by its one name (:mod:`wpp.glossary`)."""
        from .. import glossary

        if state is None and problem is not None:
            state = glossary.CANNOT_CHECK
        return str(glossary.state_name(glossary.shown_code(state, problem.kind if problem else None)))

    def close(self) -> None:
        try:
            self.close_webhooks()
        except Exception:  # noqa: BLE001
            log.exception("stopping the webhook registrations failed")
        if self.alerts is not None:
            try:
                self.alerts.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping the alert desk failed")
        if self.engine is not None:
            try:
                self.engine.stop()
            except Exception:  # noqa: BLE001
                log.exception("stopping the status engine failed")


def build_service(settings, *, store=None, simulator=None, clock=SYSTEM_CLOCK, start_engine: bool = True,
                  hook_base: str | None = None) -> WppService:
    """Wire client, store, token manager and status engine from Settings (used by the app, the CLI, benches).

    ``hook_base``: the console's address as the platform reaches it, for the numbers' webhooks (the demo's own
    loopback address); default ``WPP_PUBLIC_URL`` outside the demo. None and no ``WPP_PUBLIC_URL``: no webhooks."""
    from ..client import WppClient
    from ..status import PollPolicy, StatusEngine
    from ..store import open_store
    from ..store.base import OrgTable
    from ..tokens import TokenManager

    base_url = settings.wpp_base_url or (simulator.base_url if simulator else None)
    if not base_url:
        raise InvalidInput(N_("No platform address is configured."),
                           action=N_("Set WPP_BASE_URL, or start the console with nothing configured for the demo."))
    secret = reveal(settings.wpp_secret) or (simulator.secret if simulator else None)
    client = WppClient(base_url, timeout=settings.http_timeout, secret=secret,
                       max_connections=max(64, settings.fleet_concurrency), clock=clock)
    if store is None:
        store = open_store(
            supabase_url=settings.supabase_url,
            supabase_key=reveal(settings.supabase_key),
            database_url=reveal(settings.database_url),
            sqlite_path=settings.sqlite_path,
            org_table=OrgTable(settings.org_table, settings.org_id_column, settings.org_name_column),
            member_table=getattr(settings, "member_table_spec", None),
        )
    tokens = TokenManager(client, store, clock=clock, activation_wait_s=settings.activation_wait_s)
    describe = getattr(settings, "describe", None)
    svc = WppService(
        client,
        store,
        tokens=tokens,
        secret=secret,
        clock=clock,
        activation_wait_s=settings.activation_wait_s,
        qr_lifetime_s=(settings.sim_qr_rotate_s if simulator else 20.0),
        jwt_verify_key=reveal(settings.jwt_verify_key),
        demo=simulator is not None,
        settings_rows=describe if callable(describe) else None,
        settings_sections=getattr(settings, "describe_sections", None)
        if callable(getattr(settings, "describe_sections", None)) else None,
    )
    policy = PollPolicy(
        starting_s=settings.poll_pairing_seconds,
        qr_s=settings.poll_pairing_seconds,
        connected_s=settings.poll_connected_seconds,
        offline_s=settings.poll_offline_seconds,
        sanity_s=float(getattr(settings, "webhook_sanity_minutes", 10.0)) * 60.0,
        push_fresh_s=max(900.0, 1.5 * float(getattr(settings, "webhook_sanity_minutes", 10.0)) * 60.0),
    )
    svc.engine = StatusEngine(store, svc.poll_check, clock=clock, policy=policy,
                              concurrency=settings.fleet_concurrency, hooked=svc.webhook_works,
                              on_missed_push=svc.webhooks_missed)
    # proof of delivery (wpp.service.proof): the witness's check messages, followed through the same inbox
    if hasattr(settings, "witness_max_per_day"):
        svc.configure_proof(ProofConfig.from_settings(settings))
    # status pushed by the platform (wpp.service.webhooks): the inbox behind /_wpp/hook/<secret>, and the poller's
    # leaseholder registers the webhooks still missing (and each again hourly); every replica saves its counts
    _configure_webhooks(svc, settings, hook_base=hook_base, demo=simulator is not None)
    # old records go in small batches, in the poller's leaseholder (wpp.status.retention): other parts add their
    # tables with svc.retention.add(Rule(name, keep_s))
    from ..status.retention import Retention, rules_from_settings

    svc.retention = Retention(store, rules_from_settings(settings), clock=clock)
    svc.engine.every("retention", RETENTION_EVERY_S, svc.retention.run)
    if start_engine:
        svc.engine.start()
    # alerts when a number drops (wpp.alerts): one sender per deployment (the "alert-sender" lease), every ~30 s
    from ..alerts import AlertConfig, AlertDesk

    alert_config = AlertConfig.from_settings(settings) if hasattr(settings, "alert_after_s") else None
    if alert_config is not None and alert_config.enabled:
        svc.alerts = AlertDesk(store, alert_config, clock=clock, policy=policy)
        if start_engine:
            svc.alerts.start()
    return svc


def _configure_webhooks(svc: WppService, settings, *, hook_base: str | None, demo: bool) -> None:
    from ..status.webhooks import WebhookInbox
    from .webhooks import PASS_EVERY_S

    public = getattr(settings, "public_url", None)
    base = hook_base or (None if demo else public)
    reason = None
    if not base:
        reason = (N_("Status is not pushed in this demo (the console's own address is not known), so every number is "
                     "checked by polling.") if demo else None)
    keep_s = float(getattr(settings, "keep_event_ids_hours", 25.0) or 25.0) * 3600.0
    inbox = WebhookInbox(svc.store, svc.engine, clock=svc.clock, replay_window_s=keep_s)
    svc.configure_webhooks(base, inbox=inbox, reason=reason)
    svc.engine.every("webhook-counts", 10.0, lambda: inbox.flush(force=True), leader_only=False)
    inbox.listen(svc.proof_event)  # check messages delivered, dead, or received by a fleet witness
    if base:
        from .proof import PASS_EVERY_S as PROOF_EVERY_S

        svc.engine.every("webhooks", PASS_EVERY_S, svc.webhook_pass)
        svc.engine.every("delivery-proof", PROOF_EVERY_S, svc.proof_pass)


__all__ = [
    "AccessReport",
    "AccessTest",
    "ActivityLine",
    "BoardView",
    "Check",
    "CheckLine",
    "CreateOutcome",
    "DeliveryView",
    "HistoryLine",
    "NumberView",
    "OutboxLine",
    "PairingView",
    "Problem",
    "ProofConfig",
    "ProofView",
    "RecipientLine",
    "SendOutcome",
    "UndeliveredLine",
    "WebhookLine",
    "WebhookOverview",
    "WitnessLine",
    "WppService",
    "build_service",
]
