"""The service's core: wiring, the browser-session view, names and labels, and the activity diary.

``WppService`` is process-wide (the app keeps one in ``st.cache_resource``). A page calls
``svc.for_session(token_cache, tz=...)`` once per run: the returned object has the same methods, and carries the
browser session's token cache (handed to the TokenManager, which alone decides which token is current) and the
browser's time zone (for "added 24 Nov, 09:12" in labels).
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import logging
import threading
import time
from typing import Any, Callable, Iterable, MutableMapping

from .. import glossary, keys, validation
from ..client import WppClient
from ..clock import SYSTEM_CLOCK
from ..errors import IntegrationNotFound, InvalidInput, WppError
from ..i18n import N_, Text, _, format_time
from ..access.roles import Access, NotAllowed
from ..models import ActivityEntry, ConnState, Integration, Organization
from ..phone import describe_phone
from ..store.base import IntegrationStore
from ..tokens import TokenManager
from .views import BoardView, NumberView, Problem

log = logging.getLogger("wpp.service")

#: how long organisation names are reused before they are read again (names rarely change)
ORG_NAMES_TTL_S = 30.0


def parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        t = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def from_epoch(seconds: float | None) -> dt.datetime | None:
    if seconds is None:
        return None
    try:
        return dt.datetime.fromtimestamp(float(seconds), tz=dt.timezone.utc)
    except (OverflowError, OSError, ValueError, TypeError):
        return None


class ServiceCore:
    """Shared state and helpers of :class:`wpp.service.WppService` (see the package docstring)."""

    def __init__(
        self,
        client: WppClient,
        store: IntegrationStore,
        *,
        tokens: TokenManager | None = None,
        secret: str | None = None,
        clock=SYSTEM_CLOCK,
        activation_wait_s: float = 15.0,
        qr_lifetime_s: float = 20.0,
        jwt_verify_key: str | None = None,
        engine=None,
        demo: bool = False,
        settings_rows: Callable[[], list[tuple[Any, str]]] | None = None,
        settings_sections: Callable[[], list[tuple[str, Any, Any, list[tuple[Any, str]]]]] | None = None,
    ):
        from ..masking import reveal

        self.client = client
        self.store = store
        self.clock = clock
        self.secret = reveal(secret)
        self.qr_lifetime_s = qr_lifetime_s
        self.jwt_verify_key = reveal(jwt_verify_key)
        self.is_demo = bool(demo)
        self.tokens = tokens or TokenManager(client, store, clock=clock, activation_wait_s=activation_wait_s)
        self.engine = engine  # wpp.status.StatusEngine, attached by build_service (or tests)
        self._settings_rows = settings_rows
        self._settings_sections = settings_sections
        self._org_locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._qr_seen: dict[str, tuple[str, float]] = {}
        self._waiting: dict[str, float] = {}
        # caches every browser session's view shares (for_session makes shallow copies: only a mutable object
        # created here is seen by all of them): "orgs" -> (at, {id: Organization}), "attention" -> (board version,
        # at, count)
        self._caches: dict[str, tuple] = {}
        self._caches_lock = threading.Lock()
        # per browser session (set by for_session on a shallow copy)
        self._session_cache: MutableMapping | None = None
        self._tz: dt.tzinfo = dt.timezone.utc
        #: what the person using this view may do (wpp.access.roles); the process-wide service itself (the status
        #: engine, the console's routes, scripts) acts for the console: every school, every action
        self._access: Access = Access.full("console")
        self._actor: str | None = None

    # --- the browser session's view --------------------------------------------------------------------------
    def for_session(self, token_cache: MutableMapping | None = None, *, tz: dt.tzinfo | None = None,
                    access: Access | None = None, actor: str | None = None):
        """The same service for one person in one browser session: their token cache, time zone, and what they may
        do (``access``, a :class:`wpp.access.roles.Access`; none given: nothing at all). Every use-case of the view
        checks ``access`` itself: a number of another school is "not in the list", an action above the person's
        role is refused in words (:class:`~wpp.access.roles.NotAllowed`) and written to the diary."""
        view = copy.copy(self)
        view._session_cache = token_cache
        view._tz = tz or dt.timezone.utc
        view._access = access if isinstance(access, Access) else Access.none()
        view._actor = actor
        return view

    @property
    def access(self) -> Access:
        """What the person using this view may do."""
        return self._access

    def may(self, action: str, org_id: str | None = None) -> bool:
        """May the person do ``action`` (at the school of ``org_id``)? For pages deciding which buttons to draw; the
        use-cases check again themselves."""
        return self._access.may(action, org_id)

    # --- who may: every use-case goes through these -------------------------------------------------------------
    def _visible(self, row: Integration) -> bool:
        return self._access.sees(row.organization_id)

    def _row(self, integration_id: str | None, action: str = "view", *, actor: str | None = None) -> Integration:
        """The number ``integration_id`` if the person may do ``action`` to it. A number of another school is
        :class:`IntegrationNotFound`, exactly like an unknown one; a role too low is :class:`NotAllowed` (in the
        diary too). Nothing is changed either way."""
        if not integration_id:
            raise IntegrationNotFound()
        try:
            row = self.store.get(integration_id)
        except IntegrationNotFound:
            row = None  # the store's own detail names the id it looked for: never passed on (see below)
        if row is None or not self._visible(row):
            # one error for "no such number" and "another school's number": message, action, detail, status, all
            raise IntegrationNotFound()
        self._permit(action, row.organization_id, row=row, actor=actor)
        return row

    def _permit(self, action: str, org_id: str | None, *, row: Integration | None = None,
                actor: str | None = None) -> None:
        """Raise :class:`NotAllowed` (and write the refusal to the diary) unless the person may ``action``."""
        try:
            self._access.check(action, org_id)
        except NotAllowed as err:
            self._log("refused", actor or self._actor or "", row, False,
                      N_("Refused: {what}", what=err.message_text), organization_id=org_id if row is None else None)
            raise

    @property
    def tz(self) -> dt.tzinfo:
        return self._tz

    # --- small helpers ---------------------------------------------------------------------------------------
    def _org_lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._org_locks.setdefault(key, threading.Lock())

    def _auth(self, row: Integration):
        if not row.api_key:
            raise InvalidInput(
                N_("This number was never created on the platform."),
                action=N_("Open the number and press \u201cFinish creating\u201d."),
            )
        self._session_id(row)
        return self.tokens.auth(row, session=self._session_cache)

    @staticmethod
    def _session_id(row: Integration) -> str:
        if not row.session:
            raise InvalidInput(
                N_("This number has no platform account saved yet."),
                action=N_("Open the number and press \u201cFinish creating\u201d."),
            )
        return validation.validate_session(row.session)

    def _record_error(self, row: Integration, err: WppError) -> None:
        try:
            self.store.update(row.id, last_error=err.english)
        except WppError:
            pass

    def _log(self, action: str, actor: str, row: Integration | None, ok: bool, message: Text,
             *, organization_id: str | None = None) -> None:
        """One line of the diary: who did what (``message``, a lazy Text) to which number, with what outcome."""
        with self._caches_lock:  # an action of this process (create, remove, ...) counts again at once
            self._caches.pop("attention", None)
        try:
            self.store.log_activity(ActivityEntry(
                action=action,
                outcome="ok" if ok else "error",
                actor=actor or self._actor or "unknown",
                integration_id=row.id if row else None,
                organization_id=(row.organization_id if row else organization_id),
                detail=message.english if isinstance(message, Text) else str(message),
                message=message.to_json() if isinstance(message, Text) else None,
            ))
        except WppError:
            log.warning("could not write the activity log for %s", action)

    # --- organisations ----------------------------------------------------------------------------------------
    def _orgs(self, *, fresh: bool = False) -> dict[str, Organization]:
        now = time.monotonic()
        with self._caches_lock:
            cached = self._caches.get("orgs")
            if cached and not fresh and now - cached[0] < ORG_NAMES_TTL_S:
                return cached[1]
        orgs = {o.id: o for o in self.store.list_organizations()}
        with self._caches_lock:
            self._caches["orgs"] = (now, orgs)
        return orgs

    def _forget_orgs(self) -> None:
        with self._caches_lock:
            self._caches.pop("orgs", None)

    def organizations(self) -> list[Organization]:
        """The schools this person may see, by name (every school for someone with all of them)."""
        return [o for o in self._orgs(fresh=True).values() if self._access.sees(o.id)]

    @property
    def can_add_organizations(self) -> bool:
        """Staff name new organisations only where the school platform has no table of them, and only someone who may
        ``add_school`` (an operator of every school: a new school would be outside anybody else's schools)."""
        if not self._access.may("add_school"):
            return False
        try:
            return not any(o.source == "platform" for o in self._orgs().values())
        except WppError:
            return True

    def organization_name(self, org_id: str | None) -> str:
        """The school's name; a short, clearly-labelled stand-in (never a bare UUID) when it has none."""
        if not org_id:
            return _("(no school)")
        base = str(org_id).split("__wpp__", 1)[0]
        try:
            org = self._orgs().get(base)
        except WppError:
            org = None
        if org and org.name:
            return org.name
        return _("Unnamed school …{tail}", tail=base.replace("-", "")[-4:])

    # --- numbers as staff see them -------------------------------------------------------------------------
    def _board(self, ids: Iterable[str] | None = None) -> dict[str, BoardView]:
        if self.engine is None:
            return {}
        try:
            return self.engine_views(ids)
        except WppError as err:
            log.warning("the status board could not be read: %s", err.english)
            return {}

    def engine_views(self, ids: Iterable[str] | None = None) -> dict[str, BoardView]:  # overridden in status glue
        return {}

    def _delivery_for(self) -> dict:
        """Every number's proof of delivery while it can be proven here (``wpp.service.proof``), else nothing."""
        if not getattr(self, "webhooks_on", False) or not hasattr(self, "witnessed_states"):
            return {}
        return self.witnessed_states()

    def _view(self, row: Integration, board: dict[str, BoardView], same_name: set[str],
              delivery: dict | None = None) -> NumberView:
        name = row.name or _("Unnamed number")
        org_name = self.organization_name(row.organization_id)
        status = board.get(row.id) or BoardView(label=_("Not checked yet"))
        phone_digits = row.settings.get(keys.PHONE) or (status.phone and "".join(ch for ch in status.phone if ch.isdigit()))
        phone = None
        if phone_digits:
            try:
                phone = describe_phone(str(phone_digits))
            except WppError:
                phone = None
        created = parse_iso(row.created_at)
        label = f"{org_name} · {name}"
        if row.id in same_name:
            if phone:
                label += f" · {phone}"
            elif created:
                label += " · " + _("added {time}", time=format_time(created, self._tz, now=self.clock.time()))
        unfinished = not (row.api_key and row.session) or row.token_pending
        # a number whose status check just got its first token is finished: the check saved it
        if unfinished and row.api_key and row.session and status.state is not None:
            unfinished = False
        reason = None
        if unfinished:
            reason = (N_("The number was created on the platform, but its first access key is missing.")
                      if row.api_key else N_("The number was not created on the platform yet."))
        prelinked = bool(row.settings.get(keys.PRELINKED))
        if prelinked:
            status = BoardView(label=str(glossary.state_name(glossary.PRELINKED)),
                               attention=N_("It was already linked to a phone before anyone scanned its QR code: "
                                            "decide whether to take it over."),
                               attention_code="prelinked", code=glossary.PRELINKED)
        elif unfinished:
            status = BoardView(label=str(glossary.state_name(glossary.UNFINISHED)), attention=reason,
                               attention_code="unfinished", code=glossary.UNFINISHED)
        elif status.code is None:
            status = dataclasses.replace(status, code=glossary.NOT_CHECKED if status.state is None
                                         else glossary.state_code(status.state))
        proof = (delivery or {}).get(row.id)
        if (proof is not None and proof.failing and status.state is ConnState.CONNECTED and not prelinked
                and not unfinished):
            status = dataclasses.replace(status, attention=glossary.NOT_DELIVERING_TODO,
                                         attention_code=glossary.NOT_DELIVERING)
        status = self._for_reader(status, row.organization_id)
        return NumberView(
            integration=row,
            name=name,
            org_id=row.organization_id,
            org_name=org_name,
            label=label,
            status=status,
            created_at=created,
            unfinished=unfinished,
            unfinished_reason=reason,
            prelinked=prelinked,
            removed=not row.is_active,
            phone=phone,
            delivery=proof,
        )

    #: why a number needs attention (wpp.status.triage codes) -> (its state in wpp.glossary, the right that fixes it)
    _FIXED_BY = {
        "key_rejected": (glossary.ACCESS_REFUSED, "refresh_key"),
        "offline": (glossary.OFFLINE, "pair"),
        "scan_overdue": (glossary.QR_REQUIRED, "pair"),
        "starting_too_long": (glossary.STARTING, "pair"),
        "cannot_check": (glossary.CANNOT_CHECK, "check"),
        "unfinished": (glossary.UNFINISHED, "create"),
        "prelinked": (glossary.PRELINKED, "take_over"),
        "not_delivering": (glossary.NOT_DELIVERING, "check_delivery"),
    }

    def _for_reader(self, status: BoardView, org_id: str) -> BoardView:
        """What to do, worded for this reader: someone who may not fix the number is told whom to ask, never a button
        they do not have."""
        fixed_by = self._FIXED_BY.get(status.attention_code or "")
        if status.attention is None or fixed_by is None:
            return status
        may_fix = self._access.may(fixed_by[1], org_id)
        short = glossary.short_advice(fixed_by[0], may_fix=may_fix)
        if may_fix:
            return dataclasses.replace(status, todo=short)
        return dataclasses.replace(status, attention=glossary.advice(fixed_by[0], may_fix=False) or status.attention,
                                   todo=short)

    def _views(self, rows: list[Integration]) -> list[NumberView]:
        board = self._board([r.id for r in rows])
        seen: dict[tuple[str, str], list[str]] = {}
        for r in rows:
            seen.setdefault((r.organization_id.split("__wpp__", 1)[0], (r.name or "").strip().casefold()), []).append(r.id)
        same = {i for ids in seen.values() if len(ids) > 1 for i in ids}
        delivery = self._delivery_for()
        views = [self._view(r, board, same, delivery) for r in rows]
        muted = self._muted_numbers()
        if muted:
            views = [dataclasses.replace(v, muted_until=muted[v.id]) if v.id in muted else v for v in views]
        # still alike (added in the same minute, no phone known yet): number them in the order they were added
        by_label: dict[str, list[int]] = {}
        for i, v in enumerate(views):
            by_label.setdefault(v.label, []).append(i)
        for indexes in by_label.values():
            if len(indexes) > 1:
                for n, i in enumerate(sorted(indexes, key=lambda i: (views[i].created_at is None, views[i].created_at)), 1):
                    views[i] = dataclasses.replace(views[i], label=f"{views[i].label} ({n})")
        return views

    def _muted_numbers(self) -> dict:
        """Number id -> until when its alerts are muted (the alerts' part fills it in; never fails the list)."""
        read = getattr(self, "muted_numbers", None)
        try:
            return read() if callable(read) else {}
        except WppError:
            return {}

    def numbers(self, *, removed: bool = False) -> list[NumberView]:
        """Active numbers (or the removed ones) of this person's schools, those needing attention first, then by
        school and name."""
        rows = self.store.list_integrations(include_inactive=removed)
        rows = [r for r in rows if (not r.is_active) == removed and self._visible(r)]
        views = self._views(rows)
        views.sort(key=lambda v: (not v.status.needs_attention, v.org_name.casefold(), v.name.casefold()))
        return views

    def number(self, integration_id: str) -> NumberView:
        """One number as staff see it; a number of another school is "not in the list" (IntegrationNotFound)."""
        row = self._row(integration_id)
        siblings = self.store.list_integrations(row.organization_id, include_inactive=True)
        views = self._views(siblings if any(s.id == row.id for s in siblings) else [*siblings, row])
        return next(v for v in views if v.id == row.id)

    def get(self, integration_id: str) -> Integration:
        return self._row(integration_id)

    def list_numbers(self, organization_id: str | None = None, *, include_inactive: bool = False) -> list[Integration]:
        """The raw rows of this person's schools (benchmarks, scripts); pages use :meth:`numbers`."""
        return [r for r in self.store.list_integrations(organization_id, include_inactive=include_inactive)
                if self._visible(r)]

    #: the sidebar of every open tab asks for :meth:`attention_count`; one count serves them all for this long
    #: (seconds) while the board does not change
    attention_reuse_s = 10.0

    def attention_count(self) -> int:
        """How many numbers need attention (the sidebar on every page): cheap — the rows and the shared board,
        no names or labels — and counted once per board version and :attr:`attention_reuse_s` for every tab."""
        version = self.engine.version if self.engine is not None else None
        now = time.monotonic()
        scope = self._access.cache_key()  # people with the same schools share one count
        with self._caches_lock:
            seen = self._caches.get("attention", {}).get(scope)
        if seen is not None and seen[0] == version and now - seen[1] < self.attention_reuse_s:
            return seen[2]
        n = self._count_attention()
        with self._caches_lock:
            counts = self._caches.setdefault("attention", {})
            if len(counts) > 1000:
                counts.clear()
            counts[scope] = (version, now, n)
        return n

    def _count_attention(self) -> int:
        try:
            rows = [r for r in self.store.list_integrations() if self._visible(r)]
            unusual = [r for r in rows if not (r.api_key and r.session) or r.settings.get(keys.PRELINKED)]
            odd = {r.id for r in unusual}
            ready = [r.id for r in rows if r.id not in odd]
            on_board = self.engine.attention_count(ready) if (self.engine is not None and ready) else 0
            failing = [i for i, d in self._delivery_for().items() if d.failing and i in set(ready)]
            if failing and self.engine is not None:  # connected but not delivering: not counted by the board
                board = self.engine.board(failing)
                on_board += sum(1 for i in failing if (e := board.get(i)) is not None
                                and e.state == ConnState.CONNECTED.value and e.attention is None)
            return len(unusual) + on_board
        except WppError:
            return 0

    def require(self, integration_id: str | None) -> Integration:
        return self._row(integration_id)

    # --- the status engine's check ------------------------------------------------------------------------
    def now_dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.clock.time(), tz=dt.timezone.utc)

    @staticmethod
    def problem_of(err: WppError | None) -> Problem | None:
        return Problem.of(err) if err is not None else None

    @staticmethod
    def state_label(state: ConnState | None) -> str:
        from .. import glossary

        return str(glossary.state_name(state if state is not None else glossary.CANNOT_CHECK))


__all__ = ["ServiceCore", "from_epoch", "parse_iso"]
