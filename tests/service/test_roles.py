"""Who may do what, for which school (issue 19), proven on the service itself — no page in between.

Every use-case × every role × the person's own school and another school: allowed ones work, refused ones raise a
sentence (NotAllowed) or "not in the list" (IntegrationNotFound, exactly like an unknown number), change nothing,
and a refusal is in the diary.
"""
from __future__ import annotations

import uuid

import pytest

from wpp import keys
from wpp.access.roles import PERMISSIONS, Access, Grant, NotAllowed, Role
from wpp.errors import IntegrationNotFound, InvalidInput, WppError

from .conftest import ORG, ORG2

ROLES = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "administrator": Role.ADMINISTRATOR}


def person(role: str, *schools: str) -> Access:
    return Access.of([Grant(ROLES[role], frozenset(schools))], source="test")


@pytest.fixture
def two_schools(svc, sim, store):
    """A connected number at ORG (school A) and one at ORG2 (school B), made by the console itself."""
    made = {}
    for org, name in ((ORG, "Reception A"), (ORG2, "Reception B")):
        out = svc.create_number(org, name=name, actor="setup")
        row = store.get(out.integration.id)
        sim.set_status(row.session, "connected")  # the phone was linked
        made[org] = row.id
    return made


def test_a_viewer_is_refused_create_send_remove_and_reveal_by_the_service_itself(svc, store, sim, two_schools):
    viewer = svc.for_session({}, access=person("viewer", ORG), actor="Vera")
    number = two_schools[ORG]
    sent_before = len(sim.messages())
    for call in (lambda: viewer.create_number(ORG, name="X", actor="Vera"),
                 lambda: viewer.send_test(number, "+79001234567", "hello", actor="Vera"),
                 lambda: viewer.remove(number, actor="Vera"),
                 lambda: viewer.reveal_token(number, actor="Vera")):
        with pytest.raises(NotAllowed):
            call()
    assert len(sim.messages()) == sent_before, "a viewer's message reached the platform"
    assert store.get(number).is_active
    assert len(store.list_integrations(ORG)) == 1
    # the report a viewer gets has no key in it (only the masked form)
    report = viewer.access_report(number)
    assert report.token is None and report.token_masked
    assert svc.for_session({}, access=person("administrator", ORG)).access_report(number).token


def test_an_operator_of_a_sees_only_a_in_every_list(svc, store, two_schools):
    op = svc.for_session({}, access=person("operator", ORG), actor="Olga")
    assert [v.org_id for v in op.numbers()] == [ORG]
    assert {o.id for o in op.organizations()} <= {ORG}
    assert all(r.organization_id == ORG for r in op.list_numbers())
    # the diary: lines about A only; nothing about B's number, nor lines about no school
    svc.rename(two_schools[ORG2], "Secret B", actor="admin")
    lines = op.activity()
    assert lines and all(line.number != "Secret B" and "Secret B" not in line.what for line in lines)
    assert {line.school for line in lines} == {op.organization_name(ORG)}
    # a made-up id and B's id give the same answer
    with pytest.raises(IntegrationNotFound) as unknown:
        op.number(str(uuid.uuid4()))
    with pytest.raises(IntegrationNotFound) as other:
        op.number(two_schools[ORG2])
    assert unknown.value.message == other.value.message


def test_attention_count_is_per_scope(svc, store, sim, two_schools):
    svc.engine = None  # no board: only "unusual" rows count; make B's row unusual
    store.merge_settings(two_schools[ORG2], {keys.PRELINKED: True})
    op_a = svc.for_session({}, access=person("operator", ORG))
    op_b = svc.for_session({}, access=person("operator", ORG2))
    assert op_b.attention_count() == 1
    assert op_a.attention_count() == 0, "A's sidebar counted B's number"


def test_operator_cannot_add_a_school_but_someone_with_every_school_can(svc):
    op = svc.for_session({}, access=person("operator", ORG), actor="Olga")
    assert not op.can_add_organizations
    with pytest.raises(NotAllowed):
        op.add_organization("Школа № 99", actor="Olga")
    everyone = svc.for_session({}, access=Access.of([Grant(Role.OPERATOR)]), actor="Support")
    assert everyone.add_organization("Школа № 99", actor="Support").name == "Школа № 99"


def test_a_view_without_access_may_do_nothing(svc, two_schools):
    nobody = svc.for_session({})
    assert nobody.numbers() == [] and nobody.organizations() == []
    with pytest.raises(IntegrationNotFound):
        nobody.number(two_schools[ORG])


def test_settings_and_the_whole_diary_are_for_administrators(svc, two_schools):
    svc.log_sign_in("success", username="someone")
    admin_all = svc.for_session({}, access=Access.full())
    admin_a = svc.for_session({}, access=person("administrator", ORG))
    op_a = svc.for_session({}, access=person("operator", ORG))
    assert admin_all.settings_rows()
    with pytest.raises(NotAllowed):
        op_a.settings_rows()
    assert any(line.action == "sign_in" for line in admin_all.activity())
    assert not any(line.action == "sign_in" for line in admin_a.activity()), "sign-ins belong to no school"
    assert not any(line.action == "sign_in" for line in op_a.activity())


def test_the_alerts_page_shows_an_administrator_of_one_school_only_that_schools_alerts(svc, store, two_schools):
    from wpp.models import AlertRecord

    for org, subject in ((ORG, "A is offline"), (ORG2, "B is offline")):
        store.queue_alerts([AlertRecord(incident_id=f"{two_schools[org]}@1", event="down", recipient="outbox",
                                        channel="outbox", shown_to="outbox", lang="en", subject=subject, body=subject,
                                        created_at=1.0, next_try_at=1.0, integration_id=two_schools[org],
                                        organization_id=org)])
    admin_a = svc.for_session({}, access=person("administrator", ORG))
    assert [line.subject for line in admin_a.outbox()] == ["A is offline"]
    assert {line.subject for line in svc.for_session({}, access=Access.full()).outbox()} == {"A is offline",
                                                                                             "B is offline"}
    with pytest.raises(NotAllowed):
        svc.for_session({}, access=person("operator", ORG)).outbox()
