"""Who may do what (issue 19), every use-case × every role × the person's own school and another school, on the
service itself (no page in between: a deep link, a second tab, a fragment, a dialog, a stale button or a future API
all end here). Recorded in docs/trust.md.

* allowed (own school, role high enough): it works (or fails for a reason that is not the role);
* own school, role too low: a sentence ("Only an administrator can remove a number.") with what to do, written to
  the diary, nothing else changed;
* another school: answered exactly like an unknown number, nothing about that number in the words, nothing changed.
"""
from __future__ import annotations

import pytest

from wpp.access.roles import PERMISSIONS, Access, Grant, NotAllowed, Role
from wpp.errors import IntegrationNotFound, InvalidInput, WppError

from .conftest import ORG, ORG2, unreadable_reasons

ROLES = {"viewer": Role.VIEWER, "operator": Role.OPERATOR, "administrator": Role.ADMINISTRATOR}
OTHER_NAME = "Reception of the other school"

#: use-case -> (permission, call(view, number id, organisation id))
USE_CASES = {
    "see the number": ("view", lambda s, n, org: s.number(n)),
    "connection history": ("view", lambda s, n, org: s.history(n)),
    "access report": ("view", lambda s, n, org: s.access_report(n)),
    "check now": ("check", lambda s, n, org: s.check_now([n])),
    "check delivery now": ("check_delivery", lambda s, n, org: s.check_delivery_now(n, actor="x")),
    "connect a new number": ("create", lambda s, n, org: s.create_number(org, name="New", actor="x")),
    "finish creating": ("create", lambda s, n, org: s.resume(n, actor="x")),
    "show the QR code": ("pair", lambda s, n, org: s.start_pairing(n, actor="x")),
    "pairing state (the QR)": ("pair", lambda s, n, org: s.pairing_state(n)),
    "why is there no QR code": ("pair", lambda s, n, org: s.pairing_checklist(n)),
    "send a test message": ("send", lambda s, n, org: s.send_test(n, "+79001234567", "hi", actor="x")),
    "rename": ("rename", lambda s, n, org: s.rename(n, "Renamed", actor="x")),
    "get a new access key": ("refresh_key", lambda s, n, org: s.refresh_token(n, actor="x")),
    "test access": ("test_access", lambda s, n, org: s.test_access(n, actor="x")),
    "take over a prelinked number": ("take_over", lambda s, n, org: s.take_over(n, actor="x")),
    "reveal the key": ("reveal", lambda s, n, org: s.reveal_token(n, actor="x")),
    "disconnect the phone": ("disconnect", lambda s, n, org: s.stop(n, actor="x")),
    "remove": ("remove", lambda s, n, org: s.remove(n, actor="x")),
    "restore": ("restore", lambda s, n, org: s.restore(n, actor="x")),
}
MATRIX = [(case, role, where) for case in USE_CASES for role in ROLES for where in ("own", "other")]


@pytest.fixture
def two_schools(svc, sim, store):
    """A connected number at ORG (the person's school) and one at ORG2 (another school)."""
    made = {}
    for org, name in ((ORG, "Reception A"), (ORG2, OTHER_NAME)):
        row = svc.create_number(org, name=name, actor="setup").integration
        sim.set_status(store.get(row.id).session, "connected")
        made[org] = row.id
    return made


def _rows(store) -> list:
    return sorted((r.id, r.name, r.is_active, r.organization_id, r.jwt, tuple(sorted(r.settings.items(), key=str)))
                  for r in store.list_integrations(include_inactive=True))


@pytest.mark.parametrize("case,role,where", MATRIX, ids=[f"{c}-{r}-{w}" for c, r, w in MATRIX])
def test_every_use_case_for_every_role_at_own_and_other_school(svc, store, two_schools, trust, case, role, where):
    action, call = USE_CASES[case]
    person = Access.of([Grant(ROLES[role], frozenset({ORG}))], source="test")
    s = svc.for_session({}, access=person, actor=f"{role} of the first school")
    org = ORG if where == "own" else ORG2
    number = two_schools[org]
    if case == "restore":
        store.deactivate(number)
    before_rows, before_diary = _rows(store), store.list_activity(limit=10_000)
    allowed = where == "own" and ROLES[role] >= PERMISSIONS[action].role
    if allowed:
        try:
            call(s, number, org)
        except NotAllowed as err:  # pragma: no cover - the failure says which
            pytest.fail(f"a {role} was refused “{case}” at their own school: {err.message}")
        except WppError:
            pass  # allowed; the platform or the input had its own say, not the role
        trust.authz(case, role, where, "allowed", "")
        return
    expected = (InvalidInput if case == "connect a new number" else IntegrationNotFound) if where == "other" \
        else NotAllowed
    with pytest.raises(expected) as info:
        call(s, number, org)
    err = info.value
    assert not unreadable_reasons(err.message), err.message
    assert err.action, "a refusal says what to do next"
    assert _rows(store) == before_rows, "a refused call changed a number"
    after_diary = store.list_activity(limit=10_000)
    added = [e for e in after_diary if e not in before_diary]
    if where == "other":
        assert OTHER_NAME not in err.text and ORG2 not in err.text and number not in err.text
        if expected is IntegrationNotFound:
            assert err.message == IntegrationNotFound().message, "another school's number must read as unknown"
        outcome = "unknown number" if expected is IntegrationNotFound else "not one of your schools"
    else:
        assert err.message.startswith("Only ")
        assert [e.action for e in added] == ["refused"], "the refusal is in the diary"
        outcome = "refused in words"
    assert all(e.action == "refused" for e in added), [e.action for e in added]
    trust.authz(case, role, where, outcome, err.message)
