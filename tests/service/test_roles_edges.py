"""Roles hold at the edges (issue 24), on the service itself: people with different roles at different schools, every
path that takes a number off the list, adding and renaming schools, and one answer for "unknown" and "not yours".

The people are the normal case once a school platform's membership table feeds the roles: the owner of school A who
is a viewer of school B, a viewer of every school who administers A, an operator of A only.
"""
from __future__ import annotations

import random
import uuid

import pytest

from wpp import keys
from wpp.access.roles import ALL, Access, Grant, NotAllowed, Role
from wpp.alerts.channels import OutboxChannel
from wpp.alerts.desk import AlertConfig, AlertDesk
from wpp.alerts.recipients import parse_recipients
from wpp.errors import IntegrationNotFound, InvalidInput
from wpp.models import AlertRecord
from wpp.status import PollPolicy, StatusEngine, WebhookInbox

from .conftest import ORG, ORG2

SUPPORT = "support@wpp.example"  # told about every school
DIRECTOR_A = "director@school-a.ru"
DIRECTOR_B = "director@school-b.ru"
HOOK_BASE = "http://127.0.0.1:9/console-base"  # (nothing listens: a push there fails at once)

ADMIN_A_VIEWER_B = Access.of([Grant(Role.ADMINISTRATOR, frozenset({ORG})), Grant(Role.VIEWER, frozenset({ORG2}))],
                             source="test")
VIEWER_ALL_ADMIN_A = Access.of([Grant(Role.VIEWER), Grant(Role.ADMINISTRATOR, frozenset({ORG}))], source="test")
OPERATOR_A = Access.of([Grant(Role.OPERATOR, frozenset({ORG}))], source="test")
MIXED = {"administrator of A, viewer of B": ADMIN_A_VIEWER_B, "viewer of all, administrator of A": VIEWER_ALL_ADMIN_A}


@pytest.fixture
def district(svc, sim, store):
    """Schools A and B, a connected number each, alert recipients for A, B and every school, alerts sent about both
    numbers (the diary says to whom), refusals and renames at both schools, a sign-in, webhooks on."""
    svc.add_organization("Школа Альфа", ORG, actor="setup")
    svc.add_organization("Школа Бета", ORG2, actor="setup")
    made = {}
    for org, name in ((ORG, "Reception A"), (ORG2, "Secret B")):
        row = svc.create_number(org, name=name, actor="setup").integration
        sim.set_status(store.get(row.id).session, "connected")
        made[org] = row.id
    found, problems = parse_recipients({"*": [SUPPORT], ORG: [DIRECTOR_A], ORG2: [DIRECTOR_B]})
    assert not problems
    svc.alerts = AlertDesk(store, AlertConfig(recipients=found), clock=svc.clock,
                           channels={"email": OutboxChannel(), "webhook": OutboxChannel()})
    now = svc.clock.time()
    for org, number in made.items():
        for r in found.for_school(org):
            store.queue_alerts([AlertRecord(
                incident_id=f"{number}@1", event="down", recipient=r.key, channel=r.kind, shown_to=r.shown,
                lang="en", subject=f"{'A' if org == ORG else 'B'} is down (to {r.shown})", body="down", created_at=now,
                next_try_at=now, integration_id=number, organization_id=org)])
    svc.alerts.run_once(now + 1)  # delivered: "The alert ... was sent to <address>" in the diary
    svc.engine = StatusEngine(store, svc.poll_check, clock=svc.clock, policy=PollPolicy(), rng=random.Random(5))
    svc.configure_webhooks(HOOK_BASE, inbox=WebhookInbox(store, svc.engine, clock=svc.clock))
    svc.inbox.receive("x" * 43, b"{}")  # a push to an address nobody was given: no school's
    svc.rename(made[ORG2], "Secret B2", actor="anna")
    for org in (ORG, ORG2):  # a refusal at each school (an operator pressing an administrator's button)
        with pytest.raises(NotAllowed):
            svc.for_session({}, access=Access.of([Grant(Role.OPERATOR, frozenset({org}))]),
                            actor=f"op-{org[:4]}").remove(made[org], actor=f"op-{org[:4]}")
    svc.log_sign_in("success", username="someone")
    return made


def everything_said(s) -> str:
    """Every text a page could draw from what the service gives this person (Settings, Activity, Alerts)."""
    parts: list[str] = []
    for call in (s.settings_rows, s.alert_recipients, s.outbox, s.activity, s.webhook_overview):
        try:
            parts.append(repr(call()))
        except NotAllowed:
            pass
    return "\n".join(parts)


@pytest.mark.parametrize("who", list(MIXED))
def test_an_administrator_of_one_school_gets_no_console_wide_settings(svc, district, who):
    """Issue 24.1: an administrator of one school saw every school's recipients, staff, allow-list, SMTP user and
    the webhook overview of all schools."""
    s = svc.for_session({}, access=MIXED[who], actor="p")
    with pytest.raises(NotAllowed) as refused:
        s.settings_rows()
    assert refused.value.message == "Only an administrator of every school can see the console's settings."
    assert [r.to for r in s.alert_recipients()] == [DIRECTOR_A]  # their school's own people, nobody else
    said = everything_said(s)  # (B's numbers' names are theirs to read: they see B)
    for other in (SUPPORT, DIRECTOR_B, HOOK_BASE, "console-base", "someone"):
        assert other not in said, f"{who} read {other!r}"
    # the administrator of every school reads all of it
    admin = svc.for_session({}, access=Access.full(), actor="anna")
    assert admin.settings_rows()
    assert {r.to for r in admin.alert_recipients()} == {SUPPORT, DIRECTOR_A, DIRECTOR_B}


@pytest.mark.parametrize("who", list(MIXED))
def test_lists_are_filtered_by_the_role_each_line_needs_at_its_own_school(svc, district, who):
    """Issue 24.2: administrator of A and viewer of B read B's outbox, B's webhook lines and B's administrator-only
    diary lines; a viewer of every school who administers A read every sign-in."""
    s = svc.for_session({}, access=MIXED[who], actor="p")
    outbox = s.outbox()
    assert [(ln.school, ln.to) for ln in outbox] == [("Школа Альфа", DIRECTOR_A)]
    over = s.webhook_overview()
    assert [ln.label for ln in over.lines] == ["Школа Альфа · Reception A"]
    assert not over.every_number and over.refused == 0, "the pushes to no number are the console's, not A's"
    diary = s.activity()
    b_lines = [ln for ln in diary if ln.school == "Школа Бета"]
    assert b_lines and {ln.action for ln in b_lines} <= {"create", "rename", "organization_added"}, \
        "B's ordinary lines (a viewer of B) but no refusal or alert of B"
    assert "refused" in {ln.action for ln in diary if ln.school == "Школа Альфа"}, "A's refusals are A's business"
    assert "alert_sent" in {ln.action for ln in diary if ln.school == "Школа Альфа"}
    assert not [ln for ln in diary if ln.action.startswith("sign_in")], "sign-ins belong to every school"
    assert all(SUPPORT not in ln.what for ln in diary)
    # the administrator of every school: everything
    admin = svc.for_session({}, access=Access.full())
    assert len(admin.outbox()) == 4
    assert {ln.action for ln in admin.activity()} >= {"sign_in", "refused", "alert_sent"}
    full = admin.webhook_overview()
    assert full.every_number and full.refused == 1 and HOOK_BASE in full.summary
    # an operator: none of it
    op = svc.for_session({}, access=OPERATOR_A)
    for call in (op.outbox, op.alert_recipients, op.webhook_overview, op.settings_rows):
        with pytest.raises(NotAllowed):
            call()


def test_check_now_for_the_whole_list_checks_only_where_the_person_is_an_operator(svc, district, monkeypatch):
    asked = []
    monkeypatch.setattr(svc.engine, "check_now", lambda ids=None: asked.append(ids))
    svc.for_session({}, access=VIEWER_ALL_ADMIN_A).check_now()
    assert asked == [[district[ORG]]], "B's number was checked by its viewer"
    with pytest.raises(NotAllowed):
        svc.for_session({}, access=Access.of([Grant(Role.VIEWER)])).check_now()
    svc.for_session({}, access=Access.of([Grant(Role.OPERATOR)])).check_now()
    assert asked[-1] is None  # every school: the whole board


# --- every path that takes a number off the list ---------------------------------------------------------------
def prelinked(svc, sim, store, org=ORG, name="Prelinked"):
    """A number the platform answered as already linked to a phone the console never paired (its old client)."""
    row = svc.create_number(org, name=name, actor="setup").integration
    sim.set_status(store.get(row.id).session, "connected")
    store.merge_settings(row.id, {keys.PRELINKED: True})
    return row.id


def test_an_operator_cannot_remove_a_working_number_with_make_new_instead(svc, sim, store, district):
    """Issue 24.3: "Make a new number instead" deactivated any number for an operator (a stale button)."""
    op = svc.for_session({}, access=OPERATOR_A, actor="Olga")
    working = district[ORG]  # connected, paired by the console: not "linked elsewhere"
    before = store.get(working)
    for call in (lambda: op.make_new_instead(working, actor="Olga"),
                 lambda: op.run_check_action(working, "make_new", actor="Olga")):
        with pytest.raises(NotAllowed) as refused:
            call()
        assert refused.value.message == "Only an administrator can remove a number."
    assert store.get(working) == before and store.get(working).is_active
    assert len(store.list_integrations(ORG)) == 1, "a new number was made anyway"
    # a prelinked number that someone took over since (the flag is gone): a stale button is refused too
    taken = prelinked(svc, sim, store, name="Taken over")
    svc.take_over(taken, actor="anna")
    with pytest.raises(NotAllowed):
        op.make_new_instead(taken, actor="Olga")
    assert store.get(taken).is_active


def test_an_operator_may_put_aside_a_number_the_service_finds_linked_elsewhere(svc, sim, store, district):
    op = svc.for_session({}, access=OPERATOR_A, actor="Olga")
    other = prelinked(svc, sim, store)
    assert op.linked_elsewhere(other)
    out = op.make_new_instead(other, actor="Olga")
    assert out.integration.id != other and store.get(out.integration.id).is_active
    kept = store.get(other)
    assert not kept.is_active and kept.api_key and kept.session, "the row is kept, restorable"
    assert svc.restore(other, actor="anna").integration.is_active


@pytest.mark.parametrize("why", ["the platform says it is not linked now", "the console showed its QR code",
                                 "the board saw it waiting for a scan", "the platform cannot be asked"])
def test_linked_elsewhere_is_established_by_the_service_not_by_the_button(svc, sim, store, district, why):
    op = svc.for_session({}, access=OPERATOR_A, actor="Olga")
    number = prelinked(svc, sim, store)
    session = store.get(number).session
    if why == "the platform says it is not linked now":
        sim.set_status(session, "offline")
    elif why == "the console showed its QR code":
        svc.start_pairing(number, actor="anna")
        sim.set_status(session, "connected")
    elif why == "the board saw it waiting for a scan":
        from wpp.models import StatusChange, StatusRecord

        at = svc.clock.time()
        store.save_status(StatusRecord(number, state="qr_required", since=at, checked_at=at, ok_at=at),
                          StatusChange(number, "qr_required", at, previous="connected"))
    else:
        sim.add_fault("500", "/status")
    assert not op.linked_elsewhere(number)
    with pytest.raises(NotAllowed):
        op.make_new_instead(number, actor="Olga")
    assert store.get(number).is_active
    # an administrator may: it is a remove (kept, restorable)
    sim.clear_faults()
    out = svc.for_session({}, access=Access.of([Grant(Role.ADMINISTRATOR, frozenset({ORG}))])).make_new_instead(
        number, actor="anna")
    assert not store.get(number).is_active and store.get(number).api_key and out.integration.id != number


def test_another_schools_prelinked_number_is_unknown_to_make_new_instead(svc, sim, store, district):
    theirs = prelinked(svc, sim, store, org=ORG2)
    op = svc.for_session({}, access=OPERATOR_A, actor="Olga")
    with pytest.raises(IntegrationNotFound):
        op.make_new_instead(theirs, actor="Olga")
    assert not op.linked_elsewhere(theirs)
    assert store.get(theirs).is_active


# --- schools: adding never renames; renaming is its own action ---------------------------------------------------
def test_adding_a_school_with_a_known_id_renames_nothing(svc, district, store):
    """Issue 24.5: an id typed in Connect's "advanced" field renamed an existing school."""
    support = svc.for_session({}, access=Access.of([Grant(Role.OPERATOR)]), actor="Support")
    before = store.list_activity(limit=1000)
    with pytest.raises(InvalidInput) as refused:
        support.add_organization("Школа Гамма", ORG2, actor="Support")
    assert "Школа Бета" in refused.value.message and "was not changed" in refused.value.message
    assert {o.id: o.name for o in store.list_organizations()}[ORG2] == "Школа Бета"
    assert store.list_activity(limit=1000) == before
    assert support.add_organization("Школа Гамма", actor="Support").name == "Школа Гамма"


def test_adding_a_school_needs_the_operator_role_for_every_school(svc, district):
    """Issue 24.5: "add a school" needed every school with any role, and the operator's role anywhere."""
    for access in (VIEWER_ALL_ADMIN_A, Access.of([Grant(Role.VIEWER), Grant(Role.OPERATOR, frozenset({ORG}))]),
                   ADMIN_A_VIEWER_B):
        s = svc.for_session({}, access=access, actor="p")
        assert not s.can_add_organizations
        with pytest.raises(NotAllowed) as refused:
            s.add_organization("Школа Дельта", actor="p")
        assert refused.value.message == "Only an operator or an administrator of every school can add a school."
    assert "Школа Дельта" not in {o.name for o in svc.organizations()}


def test_renaming_a_school_is_an_administrators_of_every_school(svc, district, store):
    with pytest.raises(NotAllowed):
        svc.for_session({}, access=Access.of([Grant(Role.OPERATOR)])).rename_organization(ORG, "X", actor="p")
    with pytest.raises(NotAllowed):
        svc.for_session({}, access=VIEWER_ALL_ADMIN_A).rename_organization(ORG, "X", actor="p")
    assert {o.id: o.name for o in store.list_organizations()}[ORG] == "Школа Альфа"
    renamed = svc.for_session({}, access=Access.full(), actor="anna").rename_organization(ORG, "Школа Альфа-2",
                                                                                          actor="anna")
    assert renamed.name == "Школа Альфа-2" and svc.organization_name(ORG) == "Школа Альфа-2"
    with pytest.raises(InvalidInput):
        svc.rename_organization(str(uuid.uuid4()), "Nobody", actor="anna")


# --- one answer for "unknown" and "another school's" --------------------------------------------------------------
def _all_of(err) -> tuple:
    return (type(err), err.kind, err.message, err.action, err.detail, err.status, str(err), repr(err), err.english,
            err.as_dict())


def test_an_unknown_number_and_another_schools_number_raise_the_very_same_error(svc, district):
    """Issue 24.8: the detail differed ("no WhatsApp/WPP integration with id …" vs empty)."""
    s = svc.for_session({}, access=OPERATOR_A, actor="Olga")
    calls = {"see": lambda n: s.number(n), "history": lambda n: s.history(n), "remove": lambda n: s.remove(n, actor="x"),
             "send": lambda n: s.send_test(n, "+79001234567", "hi", actor="x"), "pair": lambda n: s.pairing_state(n)}
    for name, call in calls.items():
        errors = []
        for number in (district[ORG2], str(uuid.uuid4())):
            with pytest.raises(IntegrationNotFound) as info:
                call(number)
            errors.append(_all_of(info.value))
        assert errors[0] == errors[1], name
        assert district[ORG2] not in repr(errors[0])
