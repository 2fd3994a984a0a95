"""Who may do what (issues 19 and 24): every action of :data:`PERMISSIONS` and every page's parts, for people with a
role at one school and for people with different roles at different schools, on school A, school B and the console
as a whole — on the service itself (no page in between: a deep link, a second tab, a fragment, a dialog, a stale
button or a future API all end here). Recorded in docs/trust.md.

The expected outcome is computed here from the people's grants and the table's rows (never from ``Access.may``), so
a row added to :data:`PERMISSIONS` without a use-case here fails :func:`test_every_permission_is_in_the_matrix`.

* allowed (the role each permission needs, at the school it is about): it works (or fails for a reason that is not
  the role);
* a school of theirs, role too low: a sentence ("Only an administrator can remove a number.") with what to do,
  written to the diary, nothing else changed;
* a school that is not theirs: answered exactly like an unknown number, nothing about that school in the words;
* whatever the outcome: nothing of the other school changed, and no refusal names it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable

import pytest

from wpp import keys
from wpp.access.roles import ALL, PERMISSIONS, Access, Grant, NotAllowed, Role
from wpp.alerts.channels import OutboxChannel
from wpp.alerts.desk import AlertConfig, AlertDesk
from wpp.alerts.recipients import parse_recipients
from wpp.errors import IntegrationNotFound, InvalidInput, WppError
from wpp.models import PLATFORM_INCIDENT, AlertRecord, Incident
from wpp.status import PollPolicy, StatusEngine, WebhookInbox

from .conftest import ORG, ORG2, unreadable_reasons

A, B = ORG, ORG2
NAMES = {A: ("Школа Альфа", "Reception A"), B: ("Школа Бета", "Reception of the other school")}
SUPPORT, DIRECTOR_A, DIRECTOR_B = "support@wpp.example", "director@school-a.ru", "director@school-b.ru"
HOOK_BASE = "http://127.0.0.1:9/console-base"  # (nothing listens: a push there fails at once)

#: person -> their grants: (role, schools or ALL); the mixed people are issue 24's
PEOPLE: dict[str, list[tuple[Role, Any]]] = {
    "viewer of A": [(Role.VIEWER, {A})],
    "operator of A": [(Role.OPERATOR, {A})],
    "administrator of A": [(Role.ADMINISTRATOR, {A})],
    "administrator of A, viewer of B": [(Role.ADMINISTRATOR, {A}), (Role.VIEWER, {B})],
    "viewer of all, administrator of A": [(Role.VIEWER, ALL), (Role.ADMINISTRATOR, {A})],
    "operator of every school": [(Role.OPERATOR, ALL)],
    "administrator of every school": [(Role.ADMINISTRATOR, ALL)],
}


def access_of(person: str) -> Access:
    return Access.of([Grant(r, ALL if s == ALL else frozenset(s)) for r, s in PEOPLE[person]], source="test")


def role_at(person: str, where: str) -> Role | None:
    """The person's role at school ``where`` (ALL: for every school), from their grants alone."""
    roles = [r for r, schools in PEOPLE[person] if schools == ALL or (where != ALL and where in schools)]
    return max(roles) if roles else None


def permitted(person: str, needs: tuple[tuple[str, str], ...]) -> bool:
    """Every (permission, school) of ``needs`` allowed by the table's rows: the role at that school, or at every
    school for a row that needs every school."""
    for action, where in needs:
        perm = PERMISSIONS[action]
        role = role_at(person, ALL if perm.every_school else where)
        if role is None or role < perm.role:
            return False
    return True


# =================================================================================================================
# Actions: every use-case that does something, at A, at B, or on the console
# =================================================================================================================
@dataclass(frozen=True)
class Case:
    needs: tuple[str, ...]  # the permissions it needs, at the school it is about
    call: Callable[[Any, str, str], Any]  # (the person's view, the number at that school, the school)
    scope: str = "number"  # number: about a number of the school | school: about the school | console
    prepare: str = ""  # "removed" | "prelinked": how the number is before
    #: a list read by a page: refused as a whole only to someone with the role at no school (the diary never is)
    listing: str = ""  # "" | "refusable" | "filtered"


CASES: dict[str, Case] = {
    "see the number": Case(("view",), lambda s, n, org: s.number(n)),
    "connection history": Case(("view",), lambda s, n, org: s.history(n)),
    "access report": Case(("view",), lambda s, n, org: s.access_report(n)),
    "test messages": Case(("view",), lambda s, n, org: s.recent_tests(n)),
    "check now": Case(("check",), lambda s, n, org: s.check_now([n])),
    "check delivery now": Case(("check_delivery",), lambda s, n, org: s.check_delivery_now(n, actor="x")),
    "name the school's witness": Case(("witness",), lambda s, n, org: s.set_witness(org, "+7 999 000-11-22",
                                                                                     actor="x"), scope="school"),
    "name every school's witness": Case(("witness_all",), lambda s, n, org: s.set_witness("*", "+7 999 000-11-22",
                                                                                          actor="x"),
                                        scope="console"),
    "connect a new number": Case(("create",), lambda s, n, org: s.create_number(org, name="New", actor="x"),
                                 scope="school"),
    "finish creating": Case(("create",), lambda s, n, org: s.resume(n, actor="x")),
    "show the QR code": Case(("pair",), lambda s, n, org: s.start_pairing(n, actor="x")),
    "pairing state (the QR)": Case(("pair",), lambda s, n, org: s.pairing_state(n)),
    "why is there no QR code": Case(("pair",), lambda s, n, org: s.pairing_checklist(n)),
    "send a test message": Case(("send",), lambda s, n, org: s.send_test(n, "+79001234567", "hi", actor="x")),
    "rename": Case(("rename",), lambda s, n, org: s.rename(n, "Renamed", actor="x")),
    "get a new access key": Case(("refresh_key",), lambda s, n, org: s.refresh_token(n, actor="x")),
    "test access": Case(("test_access",), lambda s, n, org: s.test_access(n, actor="x")),
    "take over a prelinked number": Case(("take_over",), lambda s, n, org: s.take_over(n, actor="x"),
                                         prepare="prelinked"),
    "make a new number instead of one linked elsewhere": Case(
        ("put_aside", "create"), lambda s, n, org: s.make_new_instead(n, actor="x"), prepare="prelinked"),
    "make a new number instead of a working one": Case(
        ("remove", "create"), lambda s, n, org: s.make_new_instead(n, actor="x")),
    "reveal the key": Case(("reveal",), lambda s, n, org: s.reveal_token(n, actor="x")),
    "disconnect the phone": Case(("disconnect",), lambda s, n, org: s.stop(n, actor="x")),
    "remove": Case(("remove",), lambda s, n, org: s.remove(n, actor="x")),
    "restore": Case(("restore",), lambda s, n, org: s.restore(n, actor="x"), prepare="removed"),
    "the school's alerts (Alerts page)": Case(("alerts",), lambda s, n, org: _must(
        [ln for ln in s.outbox() if ln.school == NAMES[org][0]]), scope="school", listing="refusable"),
    "the school's webhooks (Settings)": Case(("webhooks",), lambda s, n, org: _must(
        [ln for ln in s.webhook_overview().lines if NAMES[org][1] in ln.label]), scope="school", listing="refusable"),
    "the school's refusals (Activity)": Case(("diary_all",), lambda s, n, org: _must(
        [ln for ln in s.activity() if ln.action == "refused" and ln.school == NAMES[org][0]]), scope="school",
        listing="filtered"),
    "add a school": Case(("add_school",), lambda s, n, org: s.add_organization("Школа Гамма", actor="x"),
                         scope="console"),
    "rename a school": Case(("rename_school",), lambda s, n, org: s.rename_organization(A, "Школа А-2", actor="x"),
                            scope="console"),
    "the console's settings": Case(("settings",), lambda s, n, org: s.settings_rows(), scope="console"),
    # issue 26: alerts people act on
    "say I'm on it (acknowledge)": Case(("acknowledge",), lambda s, n, org: s.acknowledge(n, actor="x")),
    "mute a number's alerts": Case(("mute",), lambda s, n, org: s.mute_number(n, s.clock.time() + 3600, actor="x")),
    "set a school's maintenance window": Case(("maintenance",), lambda s, n, org: s.set_maintenance(
        org, None, s.clock.time() + 3600, actor="x"), scope="school"),
    "set the whole platform's maintenance window": Case(("platform_maintenance",), lambda s, n, org: s.set_maintenance(
        None, None, s.clock.time() + 3600, actor="x"), scope="console"),
}


class NotShown(Exception):
    """A list that is not refused as a whole came back without what the person may not see."""


def _must(found: list) -> list:
    if not found:
        raise NotShown()
    return found


def _where_list() -> list[tuple[str, str]]:
    return [(case, where) for case, c in CASES.items() for where in (("console",) if c.scope == "console"
                                                                     else ("A", "B"))]


MATRIX = [(case, person, where) for case, where in _where_list() for person in PEOPLE]


@pytest.fixture
def district(svc, sim, store):
    """Schools A and B by name, a connected number each, recipients for A, B and every school, an alert sent about
    each number, a refusal at each school in the diary, webhooks on."""
    svc.add_organization(NAMES[A][0], A, actor="setup")
    svc.add_organization(NAMES[B][0], B, actor="setup")
    made = {}
    for org in (A, B):
        row = svc.create_number(org, name=NAMES[org][1], actor="setup").integration
        sim.set_status(store.get(row.id).session, "connected")
        made[org] = row.id
    found, problems = parse_recipients({"*": [SUPPORT], A: [DIRECTOR_A], B: [DIRECTOR_B]})
    assert not problems
    svc.alerts = AlertDesk(store, AlertConfig(recipients=found), clock=svc.clock,
                           channels={"email": OutboxChannel(), "webhook": OutboxChannel()})
    now = svc.clock.time()
    for org, number in made.items():
        store.queue_alerts([AlertRecord(incident_id=f"{number}@1", event="down", recipient=r.key, channel=r.kind,
                                        shown_to=r.shown, lang="en", subject=f"down, to {r.shown}", body="down",
                                        created_at=now, next_try_at=now, integration_id=number, organization_id=org)
                            for r in found.for_school(org)])
        with pytest.raises(NotAllowed):  # an operator pressing an administrator's button: a refusal in the diary
            svc.for_session({}, access=Access.of([Grant(Role.OPERATOR, frozenset({org}))]), actor="op").remove(
                number, actor="op")
    svc.alerts.run_once(now + 1)
    # problems the desk followed (the Alerts page leads with them): one open at each school, one ended at B, and the
    # whole platform's
    for org, number in made.items():
        store.save_incident(Incident(id=f"{number}@2", integration_id=number, organization_id=org, kind="offline",
                                     started_at=now - 600, notified_at=now - 60))
    store.save_incident(Incident(id=f"{made[B]}@1", integration_id=made[B], organization_id=B, kind="logged_out",
                                 started_at=now - 7200, notified_at=now - 7000, recovered_at=now - 3600,
                                 closed_at=now - 3500))
    store.save_incident(Incident(id="platform@x", integration_id=PLATFORM_INCIDENT, organization_id=None,
                                 kind="platform_unreachable", started_at=now - 300, notified_at=now - 200))
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock, policy=PollPolicy(), rng=random.Random(5))
    svc.configure_webhooks(HOOK_BASE, inbox=WebhookInbox(store, svc.engine, clock=svc.clock))
    svc.inbox.receive("x" * 43, b"{}")  # a push to an address nobody was given
    svc.log_sign_in("success", username="someone")
    return made


def _school_state(store, org: str) -> tuple:
    """Everything of one school that an action elsewhere must leave alone: its rows and its name."""
    rows = sorted((r.id, r.name, r.is_active, r.jwt, tuple(sorted(r.settings.items(), key=str)))
                  for r in store.list_integrations(include_inactive=True) if r.organization_id.startswith(org))
    names = sorted((o.id, o.name) for o in store.list_organizations() if o.id == org)
    return rows, names


def _all_rows(store) -> list:
    return sorted((r.id, r.name, r.is_active, r.organization_id, r.jwt, tuple(sorted(r.settings.items(), key=str)))
                  for r in store.list_integrations(include_inactive=True))


def test_every_permission_is_in_the_matrix():
    """A row added to PERMISSIONS cannot be left out of the matrix (and of docs/trust.md)."""
    covered = {p for c in CASES.values() for p in c.needs}
    assert covered == set(PERMISSIONS), f"no use-case for {sorted(set(PERMISSIONS) - covered)}"
    assert {name for name, p in PERMISSIONS.items() if p.every_school} <= \
        {p for c in CASES.values() if c.scope == "console" for p in c.needs}


@pytest.mark.parametrize("case,person,where", MATRIX, ids=[f"{c}-{p}-{w}" for c, p, w in MATRIX])
def test_every_action_for_every_person_at_every_school(svc, sim, store, district, trust, case, person, where):
    c = CASES[case]
    org = {"A": A, "B": B, "console": A}[where]
    other = B if org == A else A
    number = district[org]
    if c.prepare == "removed":
        store.deactivate(number)
    elif c.prepare == "prelinked":
        store.merge_settings(number, {keys.PRELINKED: True})
    s = svc.for_session({}, access=access_of(person), actor=person)
    sees = where == "console" or role_at(person, org) is not None
    allowed = permitted(person, tuple((p, org) for p in c.needs))
    before_rows, before_diary = _all_rows(store), store.list_activity(limit=10_000)
    before_other = _school_state(store, other)
    try:
        c.call(s, number, org)
        outcome, message = "allowed", ""
    except NotShown:
        outcome, message = "not shown", ""
    except NotAllowed as err:
        outcome, message, error = "refused in words", err.message, err
    except IntegrationNotFound as err:
        outcome, message, error = "unknown number", err.message, err
    except InvalidInput as err:
        outcome, message, error = ("not one of your schools" if "not one of yours" in err.message
                                   else "allowed"), err.message, err
    except WppError as err:  # allowed; the platform or the input had its own say, not the role
        outcome, message, error = "allowed", "", err
    # what the role table says
    if allowed:
        assert outcome == "allowed", f"{person} was refused “{case}” at {where}: {message}"
    elif c.scope == "number" and not sees:
        assert outcome == "unknown number", (person, case, where, outcome)
        assert message == IntegrationNotFound().message and error.detail == IntegrationNotFound().detail
    elif case == "connect a new number" and not sees:
        assert outcome == "not one of your schools", (person, case, where, outcome)
    elif c.listing == "filtered" or (c.listing == "refusable" and
                                     any(permitted(person, ((c.needs[0], o),)) for o in (A, B))):
        assert outcome == "not shown", (person, case, where, outcome)  # the page, without this school's lines
    else:
        assert outcome == "refused in words", (person, case, where, outcome, message)
        assert message.startswith("Only ") or "no access" in message
    # a refusal changed nothing but the diary's refusal line; nothing of the other school changed, ever
    if outcome != "allowed":
        assert not unreadable_reasons(message) or outcome == "not shown", message
        assert _all_rows(store) == before_rows, "a refused call changed a number"
        added = [e for e in store.list_activity(limit=10_000) if e not in before_diary]
        assert all(e.action == "refused" for e in added), [e.action for e in added]
        if outcome == "refused in words":
            assert error.action, "a refusal says what to do next"
            assert [e.action for e in added] == ["refused"], "the refusal is in the diary"
    assert _school_state(store, other) == before_other, f"“{case}” at {where} changed the other school"
    if outcome in ("unknown number", "not one of your schools", "refused in words"):
        text = error.text
        assert NAMES[other][1] not in text and other not in text and district[other] not in text
        if where == "B" and role_at(person, B) is None:
            assert NAMES[B][1] not in text and NAMES[B][0] not in text
    trust.authz(case, person, where, outcome, message)


# =================================================================================================================
# Pages: what each person reads on Settings, Activity, Alerts and the webhook overview
# =================================================================================================================
@dataclass(frozen=True)
class Part:
    page: str
    needs: tuple[tuple[str, str], ...]  # (permission, school or ALL) — all of them
    shown: Callable[[Any], bool]  # did the person's page get it?


def _safe(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except NotAllowed:
        return None


def _said(s, call: str) -> str:
    return repr(_safe(getattr(s, call)) or "")


PARTS: dict[str, Part] = {
    "the console's settings (staff, allow-list, mail server)": Part(
        "Settings", (("settings", ALL),), lambda s: _safe(s.settings_rows) is not None),
    "who is told about every school": Part("Settings", (("alerts", ALL),),
                                           lambda s: SUPPORT in _said(s, "alert_recipients")),
    "who is told about A": Part("Settings", (("alerts", A),), lambda s: DIRECTOR_A in _said(s, "alert_recipients")),
    "who is told about B": Part("Settings", (("alerts", B),), lambda s: DIRECTOR_B in _said(s, "alert_recipients")),
    "A's numbers' webhooks": Part("webhook overview", (("webhooks", A),),
                                  lambda s: NAMES[A][1] in _said(s, "webhook_overview")),
    "B's numbers' webhooks": Part("webhook overview", (("webhooks", B),),
                                  lambda s: NAMES[B][1] in _said(s, "webhook_overview")),
    "the console's address and every push": Part("webhook overview", (("webhooks", ALL),),
                                                 lambda s: HOOK_BASE in _said(s, "webhook_overview")),
    "what happened to A's numbers": Part("Activity", (("view", A),),
                                         lambda s: any(ln.action == "create" and ln.school == NAMES[A][0]
                                                       for ln in s.activity())),
    "what happened to B's numbers": Part("Activity", (("view", B),),
                                         lambda s: any(ln.action == "create" and ln.school == NAMES[B][0]
                                                       for ln in s.activity())),
    "refusals at A": Part("Activity", (("diary_all", A),),
                          lambda s: any(ln.action == "refused" and ln.school == NAMES[A][0] for ln in s.activity())),
    "refusals at B": Part("Activity", (("diary_all", B),),
                          lambda s: any(ln.action == "refused" and ln.school == NAMES[B][0] for ln in s.activity())),
    "sign-ins": Part("Activity", (("diary_all", ALL),), lambda s: any(ln.action == "sign_in" for ln in s.activity())),
    "A's alert to A's director (diary)": Part("Activity", (("diary_all", A), ("alerts", A)),
                                              lambda s: any(DIRECTOR_A in ln.what for ln in s.activity())),
    "A's alert to support (diary)": Part("Activity", (("diary_all", A), ("alerts", ALL)),
                                         lambda s: any(SUPPORT in ln.what and ln.school == NAMES[A][0]
                                                       for ln in s.activity())),
    "B's alert to B's director (diary)": Part("Activity", (("diary_all", B), ("alerts", B)),
                                              lambda s: any(DIRECTOR_B in ln.what for ln in s.activity())),
    "A's alert to A's director": Part("Alerts", (("alerts", A),), lambda s: DIRECTOR_A in _said(s, "outbox")),
    "A's alert to support": Part("Alerts", (("alerts", A), ("alerts", ALL)),
                                 lambda s: any(ln.to == SUPPORT and ln.school == NAMES[A][0]
                                               for ln in (_safe(s.outbox) or []))),
    "B's alert to B's director": Part("Alerts", (("alerts", B),), lambda s: DIRECTOR_B in _said(s, "outbox")),
    "A's open problem": Part("Alerts", (("alerts", A),), lambda s: any(
        ln.school == NAMES[A][0] for ln in getattr(_safe(s.incidents), "open", []))),
    "B's open problem": Part("Alerts", (("alerts", B),), lambda s: any(
        ln.school == NAMES[B][0] for ln in getattr(_safe(s.incidents), "open", []))),
    "B's ended problem": Part("Alerts", (("alerts", B),), lambda s: any(
        ln.school == NAMES[B][0] for ln in getattr(_safe(s.incidents), "closed", []))),
    "the whole platform's problem": Part("Alerts", (("alerts", ALL),), lambda s: any(
        ln.integration_id is None for ln in getattr(_safe(s.incidents), "open", []))),
}


def test_every_page_permission_is_in_the_pages_matrix():
    pages = {p for part in PARTS.values() for p, _w in part.needs}
    assert {"settings", "alerts", "webhooks", "diary_all", "view"} <= pages


@pytest.mark.parametrize("person", list(PEOPLE))
def test_every_page_shows_each_person_exactly_what_their_roles_allow(svc, district, trust, person):
    """Each part of Settings, Activity, Alerts and the webhook overview: shown exactly when the role each part needs,
    at the school it is about (every school for the console's own), allows it. Reading changes nothing."""
    s = svc.for_session({}, access=access_of(person), actor=person)
    wrong = []
    for part, p in PARTS.items():
        expected = permitted(person, p.needs)
        shown = bool(p.shown(s))
        if shown is not expected:
            wrong.append(f"{p.page} {'showed' if shown else 'hid'} “{part}”")
        trust.sees(p.page, part, person, shown)
    assert not wrong, f"{person}: " + "; ".join(wrong)
