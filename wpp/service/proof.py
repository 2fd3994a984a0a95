"""Proof of delivery ("is it really working?"): a number that shows as connected may still deliver nothing. So each
connected number now and then sends a short check message to a *witness* — a phone an administrator names for a
school, or for every school (Settings page; kept in the store, ``wpp_console_witnesses``) — and the console watches
what becomes of it:

* the platform's delivery update for that message (✓✓ delivered, or read) proves it; so does, when the witness is
  another number of the fleet, that number's own ``message.incoming`` event carrying the check's code (both arrive
  at the console's webhook: :meth:`ProofMixin.proof_event` listens to the inbox);
* ``message.dead`` (or a delivery error) fails it at once; nothing within ``WPP_WITNESS_TIMEOUT_MINUTES`` fails it
  too (``lost``); a check the platform did not take at all (unreachable, a refused key) says nothing either way;
* a number that is connected but whose latest checks failed is **not delivering** (:data:`wpp.glossary.
  NOT_DELIVERING`): it needs attention in the list, on its page and in the sidebar, and the alert desk makes it an
  incident of its own kind (it reads ``store.delivery_states()`` beside the board: ``wpp.alerts.desk``).

**When checks go.** On a schedule (:meth:`ProofMixin.proof_pass`, run by the status poller's leaseholder every
minute): ``WPP_WITNESS_CHECKS_PER_DAY`` per number (default 1), at times spread over ``WPP_WITNESS_HOURS`` (default
09:00-18:00, in the alerts' time zone) by a hash of the number, so a fleet's checks never leave together; a number
connected for the first time is checked at the next pass in those hours. On demand: "Check delivery now" (operator).
Never more than ``WPP_WITNESS_MAX_PER_DAY`` per number per day, both together — the store refuses the next one
atomically, whichever replica asks — and never two at once for one number. Without webhooks nothing can be proven:
nothing is sent, and the pages say why.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass, field

from .. import keys
from .. import phone as _phone
from ..access.roles import ALL, base_org
from ..errors import InvalidInput, MessageFailed, WppError
from ..i18n import N_, Text, use_language
from ..models import ConnState, DeliveryCheck, DeliveryState, Integration, Witness
from ..alerts.proofwatch import read_witnesses, witness_for
from .core import from_epoch

log = logging.getLogger("wpp.service.proof")

#: who acts, in the diary, for the checks the console sends by itself
CONSOLE_ACTOR = "WPP Console"
#: the check's code in its text: "WPP-K7F2Q9" (no 0/O/1/I to misread)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_RE = re.compile(r"\bWPP-([A-HJ-NP-Z2-9]{6})\b")
#: the background pass runs this often (the poller's leaseholder only)
PASS_EVERY_S = 60.0
#: every number's state is read from the store at most this often per process (pages, the sidebar)
STATES_TTL_S = 5.0
#: the check's text when WPP_WITNESS_TEXT is not set (in WPP_ALERT_LANGUAGE)
DEFAULT_TEXT = N_("Delivery check of a school's WhatsApp number. No reply is needed.")


@dataclass(frozen=True)
class ProofConfig:
    """What proof of delivery needs from the settings (:meth:`from_settings`)."""

    checks_per_day: int = 1
    max_per_day: int = 3
    timeout_s: float = 600.0
    hours: tuple[int, int] = (9 * 60, 18 * 60)  # minutes of the day: from, to
    tz: dt.tzinfo = field(default_factory=lambda: dt.timezone(dt.timedelta(hours=3)))
    text: str | None = None
    language: str = "ru"

    @classmethod
    def from_settings(cls, s) -> "ProofConfig":
        from ..alerts.schedule import parse_quiet_hours, zone

        return cls(checks_per_day=int(s.witness_checks_per_day), max_per_day=int(s.witness_max_per_day),
                   timeout_s=float(s.witness_timeout_minutes) * 60.0, hours=parse_quiet_hours(s.witness_hours),
                   tz=zone(s.alert_timezone), text=s.witness_text, language=s.alert_language)

    def day_start(self, now: float) -> float:
        """The start of ``now``'s day in the configured time zone (Unix seconds): the daily limit counts from it."""
        local = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).astimezone(self.tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def window(self, now: float) -> tuple[float, float]:
        """Today's working hours (Unix seconds): from, to."""
        local = dt.datetime.fromtimestamp(now, tz=dt.timezone.utc).astimezone(self.tz)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        start, end = self.hours
        return ((midnight + dt.timedelta(minutes=start)).timestamp(),
                (midnight + dt.timedelta(minutes=end)).timestamp())

    def slots(self, integration_id: str, now: float) -> list[float]:
        """When today's scheduled checks of this number are due: ``checks_per_day`` moments spread evenly over the
        working hours, each number shifted by its own fraction (a hash of its id), so the fleet's checks spread."""
        n = self.checks_per_day
        if n <= 0:
            return []
        start, end = self.window(now)
        shift = int.from_bytes(hashlib.sha256(integration_id.encode()).digest()[:4], "big") / 2 ** 32
        step = (end - start) / n
        return [start + (i + shift) * step for i in range(n)]

    def check_text(self, code: str) -> str:
        with use_language(self.language):
            text = self.text or str(DEFAULT_TEXT)
        return f"{text} WPP-{code}"


@dataclass(frozen=True)
class ProofView:
    """A number's proof of delivery as its page shows it.

    ``state``: proven | failing | checking | none (never checked) | off (cannot be proven: ``why``); times as UTC
    datetimes (the page formats them); ``witness``: the phone in international format; ``recent``: the latest
    checks (``CheckLine``)."""

    state: str
    proven_at: dt.datetime | None = None
    failing_since: dt.datetime | None = None
    witness: str | None = None
    why: str = ""
    recent: tuple = ()
    left_today: int = 0


@dataclass(frozen=True)
class CheckLine:
    """One check on the Number page: when, to whom, what became of it (in words)."""

    sent_at: dt.datetime | None
    to: str
    outcome: str
    ok: bool | None  # None: under way (or said nothing)
    how: str  # by schedule / by hand


@dataclass(frozen=True)
class WitnessLine:
    """A witness on the Settings page: for which school, the phone, which of the console's numbers it is (if one),
    who named it and when."""

    scope: str
    school: str
    phone: str
    fleet_number: str | None
    set_by: str
    set_at: dt.datetime | None


class _ProofState:
    """Shared by the process-wide service and every browser session's view of it."""

    def __init__(self, config: ProofConfig):
        self.config = config
        self.lock = threading.Lock()
        self.states: tuple[float, dict[str, DeliveryState]] | None = None
        self.witnesses: tuple[float, dict[str, Witness]] | None = None


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


class ProofMixin:
    """Mixed into :class:`wpp.service.WppService` (see the module docstring)."""

    _proof: _ProofState | None = None

    def configure_proof(self, config: ProofConfig) -> None:
        """Called once on the process-wide service by ``build_service``."""
        self._proof = _ProofState(config)

    @property
    def proof_config(self) -> ProofConfig:
        if self._proof is None:
            self._proof = _ProofState(ProofConfig())
        return self._proof.config

    def proof_off_reason(self) -> str:
        """Why delivery cannot be proven on this console (in words for the reader), or "" when it can."""
        if getattr(self, "webhooks_on", False):
            return ""
        if self._access.may("settings"):  # type: ignore[attr-defined]
            return str(N_("Delivery cannot be proven on this console: the platform reports deliveries only to a "
                          "console it can reach, and WPP_PUBLIC_URL (the console's address) is not set."))
        return str(N_("Delivery cannot be proven on this console: the platform cannot report to it whether messages "
                      "arrive. Ask the administrator to let the platform reach the console."))

    # --- witnesses -------------------------------------------------------------------------------------------------
    def _witnesses(self) -> dict[str, Witness]:
        return {w.scope: w for w in self.store.witnesses()}  # type: ignore[attr-defined]

    @staticmethod
    def _witness_of(org_id: str | None, witnesses: dict[str, Witness]) -> Witness | None:
        return witness_for(org_id, witnesses)

    def witness_lines(self) -> list[WitnessLine]:
        """The witnesses this person may see (their schools', and the one for every school), for the Settings page."""
        ws = self._witnesses()
        by_phone = {}
        for row in self.store.list_integrations():  # type: ignore[attr-defined]
            digits = row.settings.get(keys.PHONE)
            if digits and self._visible(row):  # type: ignore[attr-defined]
                by_phone.setdefault(str(digits), row)
        views = {v.id: v for v in self._views(list(by_phone.values()))}  # type: ignore[attr-defined]
        out = []
        for scope, w in sorted(ws.items(), key=lambda kv: (kv[0] != "*", kv[0])):
            if scope != "*" and not self._access.sees(scope):  # type: ignore[attr-defined]
                continue
            fleet = by_phone.get(w.phone)
            out.append(WitnessLine(
                scope=scope, school=str(N_("Every school")) if scope == "*" else self.organization_name(scope),  # type: ignore[attr-defined]
                phone=_phone.describe_phone(w.phone), fleet_number=views[fleet.id].label if fleet else None,
                set_by=w.set_by or "—", set_at=from_epoch(w.set_at)))
        return out

    def fleet_phones(self) -> list[tuple[str, str]]:
        """The console's own numbers whose phone is known, as ``(label, phone in international format)``: a witness
        may be one of them (its incoming messages prove delivery too)."""
        rows = [r for r in self.store.list_integrations() if r.settings.get(keys.PHONE) and self._visible(r)]  # type: ignore[attr-defined]
        return [(v.label, _phone.describe_phone(str(v.integration.settings[keys.PHONE])))
                for v in self._views(rows)]  # type: ignore[attr-defined]

    def set_witness(self, scope: str, phone: str | None, *, actor: str) -> str | None:
        """Name (or, with an empty ``phone``, remove) the witness of a school (``scope``: its id) or of every school
        (``"*"``, for someone with every school). Administrator. Returns the phone as it will be used."""
        scope = ALL if scope == ALL else base_org(scope)
        if scope == ALL:
            self._permit("witness_all", ALL)  # type: ignore[attr-defined]
        else:
            if not scope:
                raise InvalidInput(N_("Pick the school first."), action=N_("Pick one of your schools."))
            self._permit("witness", scope)  # type: ignore[attr-defined]
        raw = (phone or "").strip()
        school = str(N_("every school")) if scope == "*" else self.organization_name(scope)  # type: ignore[attr-defined]
        now = self.clock.time()  # type: ignore[attr-defined]
        if not raw:
            self.store.set_witness(scope, None, actor=actor, at=now)  # type: ignore[attr-defined]
            self._log("witness", actor, None, True, N_("The delivery checks' witness of {school} was removed",  # type: ignore[attr-defined]
                                                       school=school), organization_id=None if scope == "*" else scope)
            self._forget_states()
            return None
        digits = _phone.normalize_phone(raw)
        shown = _phone.describe_phone(digits)
        same = self._witnesses().get(scope)
        if same is not None and same.phone == digits:
            return shown  # saved again unchanged: the checks sent to it still count (nothing starts afresh)
        self.store.set_witness(scope, digits, actor=actor, at=now)  # type: ignore[attr-defined]
        self._forget_states()
        self._log("witness", actor, None, True, N_("{phone} was named the delivery checks' witness of {school}",  # type: ignore[attr-defined]
                                                   phone=shown, school=school),
                  organization_id=None if scope == "*" else scope)
        return shown

    # --- sending a check ---------------------------------------------------------------------------------------
    def _connected_entry(self, integration_id: str):
        """The number's board entry when the board says it is connected, else None."""
        engine = getattr(self, "engine", None)
        entry = engine.entry(integration_id) if engine is not None else None
        return entry if entry is not None and entry.state == ConnState.CONNECTED.value else None

    def _is_connected(self, integration_id: str) -> bool:
        return self._connected_entry(integration_id) is not None

    def check_delivery_now(self, integration_id: str, *, actor: str) -> DeliveryCheck:
        """"Check delivery now" (operator): the number sends its witness a check message at once. Refused in words
        when it cannot be proven (no webhooks), no witness is named, the number is not connected, a check is under
        way, or today's limit is reached."""
        row = self._row(integration_id, "check_delivery", actor=actor)  # type: ignore[attr-defined]
        why = self.proof_off_reason()
        if why:
            raise InvalidInput(why)
        witness = self._witness_of(row.organization_id, self._witnesses())
        if witness is None:
            raise InvalidInput(N_("No witness is named for this school, so there is nobody to send the check to."),
                               action=N_("Ask an administrator to name a witness on the Settings page."))
        if not self._is_connected(row.id):
            raise InvalidInput(N_("Delivery can be checked only while the number is connected; right now it is not."),
                               action=N_("Link the phone first; the check can follow once it is connected."))
        return self._send_check(row, witness, trigger="manual", actor=actor)

    def _send_check(self, row: Integration, witness: Witness, *, trigger: str, actor: str) -> DeliveryCheck:
        cfg = self.proof_config
        if str(row.settings.get(keys.PHONE) or "") == witness.phone:
            raise InvalidInput(N_("This number is the witness itself: it cannot check its own delivery."),
                               action=N_("Name another phone as the witness on the Settings page."))
        now = self.clock.time()  # type: ignore[attr-defined]
        check = DeliveryCheck(code=_new_code(), integration_id=row.id, organization_id=row.organization_id,
                              witness=witness.phone, sent_at=now, deadline=now + cfg.timeout_s, actor=actor,
                              trigger=trigger)
        if not self.store.start_delivery_check(check, day_start=cfg.day_start(now), max_per_day=cfg.max_per_day):  # type: ignore[attr-defined]
            pending = [c for c in self.store.delivery_checks(integration_id=row.id, limit=1)  # type: ignore[attr-defined]
                       if c.status == "pending" and c.deadline > now]
            if pending:
                raise InvalidInput(N_("A delivery check of this number is already under way."),
                                   action=N_("Wait for its result: it comes within {minutes} minutes.",
                                             minutes=max(1, round(cfg.timeout_s / 60))))
            raise InvalidInput(N_("This number already sent its {n} delivery checks for today (the most allowed, "
                                  "so that WhatsApp sees nothing like spam).", n=cfg.max_per_day),
                               action=N_("Try again tomorrow."))
        shown = _phone.describe_phone(witness.phone)
        try:
            res = self.client.send_text(witness.phone, cfg.check_text(check.code), self._auth(row))  # type: ignore[attr-defined]
        except MessageFailed as err:
            self._settled(self.store.settle_delivery_check(code=check.code, status="dead", at=self.clock.time(),  # type: ignore[attr-defined]
                                                           detail=err.english), row)
            raise
        except WppError as err:
            self.store.settle_delivery_check(code=check.code, status="not_sent", at=self.clock.time(),  # type: ignore[attr-defined]
                                             detail=err.english)
            self._log("delivery_check", actor, row, False, N_(  # type: ignore[attr-defined]
                "A delivery check to {phone} was not sent: {problem}", phone=shown, problem=err.message_text))
            raise
        if res.task_id:
            self.store.delivery_check_sent(check.code, message_id=str(res.task_id))  # type: ignore[attr-defined]
        self._log("delivery_check", actor, row, True, N_("A delivery check was sent to the witness {phone}",  # type: ignore[attr-defined]
                                                         phone=shown))
        self._forget_states()
        return check

    # --- what became of it (the webhook inbox calls this for every accepted event) -----------------------------
    def proof_event(self, integration_id: str, event, now: float) -> None:
        """A delivery update for a check message proves it (delivered, read) or fails it (dead); an incoming message
        on a fleet number that names a check's code proves that check."""
        settled = None
        if event.what == "delivery" and event.message_id and event.delivery in ("delivered", "read", "failed"):
            failed = event.delivery == "failed"
            settled = self.store.settle_delivery_check(  # type: ignore[attr-defined]
                integration_id=integration_id, message_id=event.message_id, status="dead" if failed else "proven",
                at=now, detail=event.detail if failed else None)
        elif event.what == "message" and event.text:
            found = CODE_RE.search(event.text)
            if found:
                settled = self.store.settle_delivery_check(code=found.group(1), status="proven", at=now,  # type: ignore[attr-defined]
                                                           proven_by=integration_id)
        if settled is not None:
            self._settled(settled)

    def _settled(self, check: DeliveryCheck | None, row: Integration | None = None) -> None:
        """The diary line for a settled check; every process's cached states are read again soon."""
        if check is None:
            return
        self._forget_states()
        try:
            row = row or self.store.get(check.integration_id)  # type: ignore[attr-defined]
        except WppError:
            return
        shown = _phone.describe_phone(check.witness)
        if check.status == "proven":
            text = (N_("Delivery proven: the witness number received the check message")
                    if check.proven_by else N_("Delivery proven: the check message to {phone} was delivered",
                                               phone=shown))
            self._log("delivery_proven", CONSOLE_ACTOR, row, True, text)  # type: ignore[attr-defined]
        elif check.status == "dead":
            self._log("delivery_failed", CONSOLE_ACTOR, row, False, N_(  # type: ignore[attr-defined]
                "The check message to {phone} was not delivered: {reason}. The number is connected but not "
                "delivering.", phone=shown, reason=check.detail or "—"))
        elif check.status == "lost":
            self._log("delivery_failed", CONSOLE_ACTOR, row, False, N_(  # type: ignore[attr-defined]
                "The check message to {phone} was not delivered within {minutes} minutes. The number is connected "
                "but not delivering.", phone=shown,
                minutes=max(1, round((check.deadline - check.sent_at) / 60))))

    # --- the background pass -----------------------------------------------------------------------------------
    def proof_pass(self, now: float | None = None) -> dict:
        """Give up the checks past their time (lost), then send the scheduled checks that are due. Run by the status
        poller's leaseholder every :data:`PASS_EVERY_S` (never from a page). Returns counts (lost, sent, refused)."""
        counts = {"lost": 0, "sent": 0, "refused": 0}
        now = self.clock.time() if now is None else float(now)  # type: ignore[attr-defined]
        for check in self.store.overdue_delivery_checks(now=now):  # type: ignore[attr-defined]
            settled = self.store.settle_delivery_check(code=check.code, status="lost", at=now)  # type: ignore[attr-defined]
            if settled is not None:
                counts["lost"] += 1
                self._settled(settled)
        if self.proof_off_reason():
            return counts
        cfg = self.proof_config
        start, end = cfg.window(now)
        if not (start <= now < end) or cfg.checks_per_day <= 0:
            return counts
        witnesses = self._witnesses()
        if not witnesses:
            return counts
        states = self.store.delivery_states()  # type: ignore[attr-defined]
        for row in self.store.list_integrations():  # type: ignore[attr-defined]
            witness = self._witness_of(row.organization_id, witnesses)
            entry = self._connected_entry(row.id) if witness is not None and row.api_key and row.session else None
            if entry is None:
                continue
            if str(row.settings.get(keys.PHONE) or "") == witness.phone:
                continue  # the witness itself
            st = states.get(row.id)
            last = st.last_sent_at if st is not None else None
            due = [t for t in cfg.slots(row.id, now) if t <= now]
            # not delivering, and connected again since its last check (the phone was relinked), or the witness was
            # named anew since then: check again now
            again = (st is not None and st.failing_since is not None and last is not None
                     and any(t is not None and t > last for t in (entry.since, witness.set_at)))
            if not again and last is not None and (not due or last >= due[-1]):
                continue  # checked since its last slot (by schedule or by hand), or no slot yet today
            if not again and last is not None and last >= start:
                today = self.store.delivery_checks(integration_id=row.id, limit=cfg.max_per_day + 1)  # type: ignore[attr-defined]
                if sum(1 for c in today if c.trigger == "schedule" and c.sent_at >= start) >= cfg.checks_per_day:
                    continue  # today's scheduled checks were sent (the first came early: right after linking)
            try:
                self._send_check(row, witness, trigger="schedule", actor=CONSOLE_ACTOR)
                counts["sent"] += 1
            except InvalidInput:
                counts["refused"] += 1  # the daily limit, or one under way
            except WppError as err:
                log.warning("a scheduled delivery check of %s was not sent: %s", row.id, err.english)
        return counts

    # --- reading the states ------------------------------------------------------------------------------------
    def _forget_states(self) -> None:
        st = self._proof
        if st is not None:
            with st.lock:
                st.states = None
                st.witnesses = None

    def delivery_states(self) -> dict[str, DeliveryState]:
        """Every number's proof of delivery (read from the store at most every :data:`STATES_TTL_S` per process)."""
        if self._proof is None:
            self._proof = _ProofState(ProofConfig())
        st = self._proof
        now = time.monotonic()
        with st.lock:
            if st.states is not None and now - st.states[0] < STATES_TTL_S:
                return st.states[1]
        try:
            states = self.store.delivery_states()  # type: ignore[attr-defined]
        except WppError as err:
            log.warning("the delivery checks could not be read: %s", err.english)
            states = {}
        with st.lock:
            st.states = (now, states)
        return states

    def witnessed_states(self) -> dict[str, DeliveryState]:
        """:meth:`delivery_states` of the numbers whose school has a witness now (the list, the Number page and the
        sidebar's count read these): without a witness nothing can be proven either way, so an old failure no longer
        says "not delivering" (the alert desk closes its problem, ``wpp.alerts.proofwatch``)."""
        states = self.delivery_states()
        if not states:
            return states
        witnesses = self._proof_witnesses()
        if witnesses is None or "*" in witnesses:
            return states  # every school has one (or they cannot be read now: as before)
        if not witnesses:
            return {}
        orgs = {r.id: r.organization_id for r in self.store.list_integrations(include_inactive=True)}  # type: ignore[attr-defined]
        return {i: s for i, s in states.items() if i in orgs and witness_for(orgs[i], witnesses) is not None}

    def not_delivering(self) -> dict[str, float]:
        """The numbers that are connected but not delivering, with since when (Unix seconds), by the same rule as
        the alert desk's incidents of that kind (:meth:`wpp.models.DeliveryState.not_delivering_since`)."""
        out = {}
        states = self.delivery_states()
        failing = {i: s for i, s in states.items() if s.failing_since is not None}
        if not failing:
            return out
        witnesses = self._proof_witnesses()
        orgs = {r.id: r.organization_id for r in self.store.list_integrations()} if witnesses is not None else {}  # type: ignore[attr-defined]
        for i, s in failing.items():
            entry = self._connected_entry(i)
            if entry is None:
                continue
            if witnesses is None:  # not known now: as before
                since = s.not_delivering_since(entry.since)
            else:  # no witness for its school any more: nothing can be said (the desk closes its incident)
                since = s.judged(entry.since, witness_for(orgs.get(i), witnesses)) if i in orgs else None
            if since is not None:
                out[i] = since
        return out

    def _proof_witnesses(self) -> dict[str, Witness] | None:
        """Every witness, read with the states (at most every :data:`STATES_TTL_S` per process)."""
        st = self._proof
        with st.lock:  # type: ignore[union-attr]
            if st.witnesses is not None and time.monotonic() - st.witnesses[0] < STATES_TTL_S:  # type: ignore[union-attr]
                return st.witnesses[1]  # type: ignore[union-attr]
        found = read_witnesses(self.store)  # type: ignore[attr-defined]
        with st.lock:  # type: ignore[union-attr]
            st.witnesses = (time.monotonic(), found) if found is not None else None  # type: ignore[union-attr]
        return found

    def proof_view(self, integration_id: str, *, recent: int = 5) -> ProofView:
        """The Number page's proof of delivery: the state in words, the witness, the latest checks."""
        row = self._row(integration_id)  # type: ignore[attr-defined]
        witness = self._witness_of(row.organization_id, self._witnesses())
        checks = self.store.delivery_checks(integration_id=row.id, limit=max(1, recent))  # type: ignore[attr-defined]
        lines = tuple(CheckLine(
            sent_at=from_epoch(c.sent_at), to=_phone.describe_phone(c.witness),
            outcome=str(_OUTCOME_WORDS.get(c.status, c.status)) + (f": {c.detail}" if c.status == "dead" and c.detail
                                                                     else ""),
            ok=True if c.status == "proven" else False if c.status in ("lost", "dead") else None,
            how=str(N_("by hand") if c.trigger == "manual" else N_("by schedule"))) for c in checks)
        cfg = self.proof_config
        now = self.clock.time()  # type: ignore[attr-defined]
        today = sum(1 for c in self.store.delivery_checks(integration_id=row.id, limit=cfg.max_per_day + 1)  # type: ignore[attr-defined]
                    if c.sent_at >= cfg.day_start(now))
        base = dict(witness=_phone.describe_phone(witness.phone) if witness else None, recent=lines,
                    left_today=max(0, cfg.max_per_day - today))
        why = self.proof_off_reason()
        if why:
            return ProofView("off", why=why, **base)
        if witness is None:
            return ProofView("off", why=str(N_("No witness is named for this school, so delivery is not checked. An "
                                               "administrator names one on the Settings page.")), **base)
        self._forget_states()
        st = self.delivery_states().get(row.id)
        if st is None:
            return ProofView("none", **base)
        if st.pending_since is not None:
            return ProofView("checking", proven_at=from_epoch(st.proven_at),
                             failing_since=from_epoch(st.failing_since), **base)
        if st.failing_since is not None:
            return ProofView("failing", proven_at=from_epoch(st.proven_at), failing_since=from_epoch(st.failing_since),
                             **base)
        if st.proven_at is not None:
            return ProofView("proven", proven_at=from_epoch(st.proven_at), **base)
        return ProofView("none", **base)


_OUTCOME_WORDS: dict[str, Text] = {
    "pending": N_("on its way"),
    "proven": N_("delivered ✓✓"),
    "lost": N_("not delivered in time"),
    "dead": N_("not delivered"),
    "not_sent": N_("not sent: the platform did not take it"),
}

__all__ = ["CODE_RE", "CheckLine", "ProofConfig", "ProofMixin", "ProofView", "WitnessLine"]
