"""The demo's first glance: a small fleet of two named schools whose numbers are in the states the console is for.

On its embedded default (no platform, no database configured: the in-process simulator and ``demo.db``), a console
that starts with an **empty store** opens on four numbers of «Школа № 5» and «Гимназия № 1»:

* «Ресепшн» — connected for hours, its delivery proven by a check message to the demo's witness;
* «Бухгалтерия» — dropped (offline) 40 minutes ago: the alert desk opens its problem and sends its alert to the
  demo outbox at its first pass, as for any drop;
* «Приёмная» — waiting for its QR scan: the simulated platform keeps showing codes (it does not give up after six,
  so a newcomer still finds it waiting);
* «Учительская» — offline since yesterday, its alerts muted until Friday 18:00 because the phone is being repaired.

**Consistent with the simulator.** Every seeded number is an account of the simulated platform (``Simulator.adopt``)
in the state the store shows, before the watch starts: Check now, the QR code, Send and Check delivery now work on
them as on any other number.

**Seeded once.** Only when ``WPP_DEMO_FLEET`` is on (the default), in demo mode on the SQLite store, and when the store
has no number and no diary line at all (a first start): never over what a user created or removed. Each seeded row
carries :data:`wpp.keys.DEMO_FLEET` (which of the fleet it is).

**A restart.** The simulator keeps its accounts in memory only, so a restarted console would find its numbers unknown
to the platform. :func:`open_demo_fleet` therefore re-adopts every seeded row still in the store (removed ones too:
the platform keeps an account the console removed) in the state the board last recorded — a number the user linked
meanwhile stays connected, the waiting one shows a fresh QR code — and seeds nothing again. F5 changes nothing: the
fleet lives in the store and the simulator of the server process, not in the browser.
"""
from __future__ import annotations

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

from . import keys
from .demo import DEMO_SCHOOLS, DEMO_WITNESS
from .errors import WppError
from .i18n import N_
from .phone import describe_phone
from .models import ActivityEntry, DeliveryCheck, Mute, StatusChange, StatusRecord

log = logging.getLogger("wpp.demo")

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
#: who did what the demo seeded, in the diary (the demo's administrator)
SEEDED_BY = "Demo user"
#: the demo's time zone for "until Friday 18:00" (the alerts' default, Moscow)
_MSK = dt.timezone(dt.timedelta(hours=3))


@dataclass(frozen=True)
class FleetNumber:
    """One number of the demo's fleet: ``slot`` (its stable name in :data:`wpp.keys.DEMO_FLEET`), its school, its name
    as staff know it, its platform session, the phone linked to it (None: never linked), and its state now."""

    slot: str
    school: str
    name: str
    session: str
    phone: str | None
    state: str  # connected | offline | qr_required
    #: for how long it has been in that state (seconds before the seeding)
    since_s: float
    #: when it was connected before it dropped (seconds before the seeding); None: never
    connected_s: float | None = None


SCHOOL_5, GYMNASIUM_1 = DEMO_SCHOOLS[0][0], DEMO_SCHOOLS[1][0]

FLEET: tuple[FleetNumber, ...] = (
    FleetNumber("proven", SCHOOL_5, "Ресепшн", "9000000000001", "79161230501", "connected", since_s=3 * HOUR),
    FleetNumber("offline", SCHOOL_5, "Бухгалтерия", "9000000000002", "79161230502", "offline", since_s=40 * MINUTE,
                connected_s=5 * HOUR),
    FleetNumber("waiting", GYMNASIUM_1, "Приёмная", "9000000000003", None, "qr_required", since_s=2 * MINUTE),
    FleetNumber("muted", GYMNASIUM_1, "Учительская", "9000000000004", "79161230504", "offline", since_s=DAY,
                connected_s=3 * DAY),
)
#: the muted number's reason, as the operator wrote it (data, shown as typed)
MUTE_REASON = "Телефон в ремонте до пятницы"


def fleet_enabled(settings) -> bool:
    """The fleet is for the embedded demo default only: demo mode (no platform address), the SQLite store (no
    PostgreSQL, no Supabase) and ``WPP_DEMO_FLEET`` on."""
    return bool(getattr(settings, "demo", False) and getattr(settings, "store_kind", "") == "sqlite"
                and getattr(settings, "demo_fleet", True))


def store_is_empty(store) -> bool:
    """A first start: no number (removed ones included) and no diary line."""
    return not store.list_integrations(include_inactive=True) and not store.list_activity(limit=1)


def fridays_evening(now: float) -> float:
    """The coming Friday, 18:00 Moscow time (a week later when that is less than a day away)."""
    local = dt.datetime.fromtimestamp(now, _MSK)
    days = (4 - local.weekday()) % 7
    friday = (local + dt.timedelta(days=days)).replace(hour=18, minute=0, second=0, microsecond=0)
    if friday.timestamp() - now < DAY:
        friday += dt.timedelta(days=7)
    return friday.timestamp()


def _at(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat()


def _diary(store, row, action: str, text, at: float, actor: str = SEEDED_BY) -> None:
    store.log_activity(ActivityEntry(action=action, outcome="ok", actor=actor, integration_id=row.id,
                                     organization_id=row.organization_id, detail=text.english,
                                     message=text.to_json(), at=_at(at)))


def _platform_org(row) -> str:
    return str(row.settings.get(keys.SUB_ORG) or row.organization_id)


def seed_fleet(store, simulator, *, now: float | None = None) -> list:
    """Seed the fleet (see the module docstring) into an empty store and the simulator; returns the rows made."""
    now = time.time() if now is None else float(now)
    rows = []
    for n, fn in enumerate(FLEET):
        api_key = secrets.token_urlsafe(32)
        settings = {keys.API_KEY: api_key, keys.SESSION: fn.session, keys.DEMO_FLEET: fn.slot}
        if fn.phone:
            settings[keys.PHONE] = fn.phone
        if any(r.organization_id == fn.school for r in rows):  # the school's plain id is its first number's
            settings[keys.SUB_ORG] = f"{fn.school}__wpp__{n:08x}"
        row = store.create(fn.school, name=fn.name, settings=settings)
        # the platform has it too, in the state the console shows, before anything asks about it
        simulator.adopt(_platform_org(row), fn.session, api_key, state=fn.state, phone=fn.phone,
                        patient=fn.state == "qr_required")
        created = now - max(fn.since_s, fn.connected_s or 0.0) - 10 * MINUTE
        _diary(store, row, "create", N_("Started connecting a new number"), created)
        since = now - fn.since_s
        if fn.connected_s is not None:
            store.add_status_history(StatusChange(row.id, "connected", now - fn.connected_s, previous="qr_required",
                                                  raw="connected"))
            store.add_status_history(StatusChange(row.id, fn.state, since, previous="connected", raw=fn.state))
        else:
            store.add_status_history(StatusChange(row.id, fn.state, since, previous="qr_required"
                                                  if fn.state == "connected" else None, raw=fn.state))
        store.save_status(StatusRecord(row.id, state=fn.state, raw=fn.state, since=since, checked_at=now, ok_at=now,
                                       next_check_at=now, phone=fn.phone, observed_at=now))
        rows.append(row)
        if fn.slot == "proven":
            _prove(store, row, now - 47 * MINUTE)
        elif fn.slot == "muted":
            ends = fridays_evening(now)
            start = now - fn.since_s + 20 * MINUTE
            store.add_mute(Mute(scope="number", target=row.id, starts_at=start, ends_at=ends, reason=MUTE_REASON,
                                created_by=SEEDED_BY, created_at=start))
            _diary(store, row, "mute", N_("The number's alerts were muted until {until}{why}",
                                          until=dt.datetime.fromtimestamp(ends, _MSK).strftime("%d.%m %H:%M"),
                                          why=f" ({MUTE_REASON})"), start)
    log.info("the demo opens on its fleet: %d numbers of 2 schools", len(rows))
    return rows


def _prove(store, row, sent: float) -> None:
    """A check message to the demo's witness, delivered 3 seconds later."""
    code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(6))
    store.start_delivery_check(DeliveryCheck(code=code, integration_id=row.id, organization_id=row.organization_id,
                                             witness=DEMO_WITNESS, sent_at=sent, deadline=sent + 600,
                                             actor="WPP Console", trigger="schedule"),
                               day_start=sent - DAY, max_per_day=24)
    store.settle_delivery_check(code=code, status="proven", at=sent + 3)
    _diary(store, row, "delivery_proven", N_("Delivery proven: the check message to {phone} was delivered",
                                             phone=describe_phone(DEMO_WITNESS)), sent + 3, actor="WPP Console")


def revive_fleet(store, simulator) -> int:
    """After a restart: every seeded number still in the store is an account of the (new, empty) simulator again, in
    the state the board last recorded (offline when unknown). Returns how many."""
    rows = [r for r in store.list_integrations(include_inactive=True)
            if r.settings.get(keys.DEMO_FLEET) and r.api_key and r.session]
    if not rows:
        return 0
    board = store.load_statuses([r.id for r in rows])
    for row in rows:
        rec = board.get(row.id)
        state = rec.state if rec is not None and rec.state in ("connected", "offline", "qr_required") else "offline"
        phone = row.settings.get(keys.PHONE) or (rec.phone if rec is not None else None)
        try:
            simulator.adopt(_platform_org(row), row.session, row.api_key, state=state, phone=phone,
                            patient=row.settings.get(keys.DEMO_FLEET) == "waiting")
        except ValueError as err:  # a phone the simulator cannot link: the number stays unknown to it
            log.warning("the demo number %s could not be brought back: %s", row.id, err)
    return len(rows)


def open_demo_fleet(store, simulator, settings) -> str:
    """At the demo's start, before the watch runs: seed the fleet on a first start, else bring the seeded numbers back
    onto the simulator. Never raises (the demo opens all the same). Returns what it did: seeded | revived | none."""
    if simulator is None or not getattr(settings, "demo", False):
        return "none"
    try:
        if fleet_enabled(settings) and store_is_empty(store):
            seed_fleet(store, simulator)
            return "seeded"
        return "revived" if revive_fleet(store, simulator) else "none"
    except WppError as err:
        log.warning("the demo's fleet could not be prepared: %s", err.english)
        return "none"


__all__ = ["FLEET", "FleetNumber", "MUTE_REASON", "fleet_enabled", "fridays_evening", "open_demo_fleet",
           "revive_fleet", "seed_fleet", "store_is_empty"]
