"""Issue 27: the console judges a number's keys by the platform's own answers, newest evidence first.

The seeds' stale-key incident, played by the simulator exactly: the number's permanent key (apiKey) still mints access
keys, but the platform refuses every call made with them (``401 {"error": "Invalid token"}``). The Access report is
never "fine" then and names the refusal; "Get a new access key" mints AND tries the new key and says which of three it
is; the background refusal and the automatic renewals are diary lines, one per episode; the evidence is in the store,
so another replica says the same.
"""
from __future__ import annotations

import pytest

from wpp.access.roles import Access, Grant, Role
from wpp.clock import ManualClock
from wpp.errors import InvalidApiKey
from wpp.i18n import use_language
from wpp.tokens import RENEWAL_LINE_EVERY_S

from .conftest import ORG


@pytest.fixture
def number(svc, sim, store):
    """A connected number made by the console, checked once by the background poll (the platform accepted)."""
    out = svc.create_number(ORG, name="Reception", actor="setup")
    row = store.get(out.integration.id)
    sim.set_status(row.session, "connected")
    assert svc.poll_check(store.get(row.id)).status.connected
    return row


def key_lines(store, iid):
    """The diary's lines about the number's keys that the console wrote by itself, oldest first."""
    return [(e.action, e.outcome) for e in reversed(store.list_activity(integration_id=iid, limit=100))
            if e.actor == "WPP Console"]


def test_the_simulator_plays_the_stale_key_incident_exactly(sim, svc, number):
    sim.make_key_stale(number.session)
    minted = svc.client.mint_token(number.api_key)  # the permanent key still gives out access keys ...
    with pytest.raises(Exception) as ei:
        svc.client.get_status(number.session, minted.token)  # ... but every call made with them is refused
    assert ei.value.status == 401 and ei.value.said == "Invalid token"
    sim.make_key_stale(number.session, False)
    assert svc.client.get_status(number.session, minted.token).connected


def test_a_key_the_platform_accepts_is_fine_and_says_when_it_was_accepted(svc, number):
    report = svc.access_report(number.id)
    assert report.ok and report.verdict.code == "accepted" and report.verdict.at is not None
    assert str(report.summary).startswith("Access is fine: the platform accepted this number's access key at")


def test_the_stale_key_incident_is_never_fine_and_names_the_refusal(svc, sim, store, number):
    sim.make_key_stale(number.session)
    for _ in range(3):  # the background poll, again and again: 401, a new key by itself, 401 again
        assert svc.poll_check(store.get(number.id)).error.kind == "invalid_token"
    report = svc.access_report(number.id)
    assert not report.ok and report.fix == "reconnect"  # a brand-new key was refused too: another will not help
    assert report.verdict.code == "refused" and report.verdict.fresh
    assert report.verdict.status == 401 and report.verdict.said == "Invalid token"  # for support's details
    summary = str(report.summary)
    assert "refuses this number's access keys, new ones too" in summary and "fine" not in summary
    with use_language("ru"):
        assert "не принимает ключи доступа этого номера, даже новые" in str(report.summary)
        assert "Invalid token" not in str(report.summary)
    # the background refusal is in the diary once for the whole episode, not once per poll
    assert key_lines(store, number.id) == [("key_refused", "error")]


def test_get_a_new_access_key_mints_and_tries_it_and_says_the_new_one_is_refused_too(svc, sim, store, number):
    sim.make_key_stale(number.session)
    sim.reset_counters()
    result = svc.refresh_token(number.id, actor="Support")
    assert sim.count("POST /auth/token") == 1  # the permanent key still gives out access keys
    assert sim.count("GET /api/accounts/{session}/status") == 1  # and the new one was tried once, no loop
    assert not result.ok and result.code == "refresh_refused"
    assert str(result.title) == "The platform refuses the new access key too"
    assert "permanent key still gives out access keys" in str(result.explanation)
    assert number.session in str(result.next_step) and str(result.next_step).startswith("Support can ask the platform")
    assert not svc.access_report(number.id).ok
    lines = [e for e in store.list_activity(integration_id=number.id, limit=20) if e.action == "refresh"]
    assert lines[0].outcome == "error" and "refuses it too" in lines[0].detail


def test_when_the_platform_accepts_again_the_episode_ends_with_one_line(svc, sim, store, number):
    sim.make_key_stale(number.session)
    svc.poll_check(store.get(number.id))
    sim.make_key_stale(number.session, False)
    for _ in range(3):
        assert svc.poll_check(store.get(number.id)).status.connected
    assert svc.access_report(number.id).ok
    assert key_lines(store, number.id) == [("key_refused", "error"), ("key_accepted", "ok")]


def test_a_new_key_the_platform_accepts_is_said_so(svc, sim, number):
    sim.expire_tokens(number.session)  # the key in use stops working; a new one works
    result = svc.refresh_token(number.id, actor="Support")
    assert result.ok and result.code == "refresh_accepted"
    assert str(result.title) == "A new access key was saved, and the platform accepts it"


def test_a_refused_permanent_key_is_the_third_answer(svc, sim, store, number):
    sim.revoke_api_key(number.session)
    with pytest.raises(InvalidApiKey) as ei:
        svc.refresh_token(number.id, actor="Support")
    assert "refuses this number's permanent key" in ei.value.message
    assert "connect it again" in ei.value.action
    report = svc.access_report(number.id)
    assert not report.ok and report.verdict.code == "api_key_refused"
    assert "refuses this number's permanent key" in str(report.summary)
    assert ("key_refused", "error") in key_lines(store, number.id)


def test_another_replica_reads_the_same_evidence_from_the_store(make_service, svc, sim, store, number):
    sim.make_key_stale(number.session)
    svc.poll_check(store.get(number.id))
    other = make_service()  # its own client, TokenManager and caches: only the store is shared
    assert other.access_report(number.id).verdict.code == "refused"
    sim.make_key_stale(number.session, False)
    other.poll_check(store.get(number.id))  # the other replica sees the platform accept it again
    assert svc.access_report(number.id).ok


def test_a_viewer_is_told_whom_to_ask_never_a_button_she_lacks(svc, sim, store, number):
    sim.make_key_stale(number.session)
    svc.poll_check(store.get(number.id))
    viewer = svc.for_session({}, access=Access.of([Grant(Role.VIEWER, frozenset({ORG}))], source="test"))
    report = viewer.access_report(number.id)
    assert report.fix is None and not report.ok
    assert "Get a new access key" not in str(report.summary)
    assert "Tell an operator or an administrator of this school" in str(report.summary)
    view = viewer.number(number.id)
    assert view.status.attention is None or "Get a new access key" not in str(view.status.attention)


def test_the_pasted_key_tool_says_which_number_the_key_belongs_to(svc, store, number):
    token = store.get(number.id).jwt
    report = svc.access_report_pasted(token)
    assert str(report.belongs_to) == f"The key belongs to “Unnamed school …4000 · Reception” (platform account {number.session})."
    stranger = svc.for_session({}, access=Access.of([Grant(Role.ADMINISTRATOR, frozenset({"9a1b2c3d-0000-4000-8000-00000000abcd"}))],
                                                     source="test"))
    assert "not one of your numbers" in str(stranger.access_report_pasted(token).belongs_to)


def test_routine_renewals_are_one_diary_line_a_day(sim, make_service, store):
    clock = ManualClock()
    with type(sim)(clock=clock) as timed:
        from wpp.client import WppClient
        from wpp.service import WppService

        client = WppClient(timed.base_url, secret=timed.secret, timeout=2, clock=clock)
        svc = WppService(client, store, secret=timed.secret, clock=clock)
        try:
            row = store.get(svc.create_number(ORG, name="Reception", actor="setup").integration.id)
            timed.set_status(row.session, "connected")
            for _ in range(8):  # two hours of polls: the key (15 minutes) runs out and is renewed ~8 times
                clock.advance(15 * 60)
                assert svc.poll_check(store.get(row.id)).status.connected
            assert key_lines(store, row.id) == [("key_renewed", "ok")]
            clock.advance(RENEWAL_LINE_EVERY_S)
            svc.poll_check(store.get(row.id))
            assert key_lines(store, row.id) == [("key_renewed", "ok")] * 2
        finally:
            svc.close()
            client.close()


# --- "why is there no QR code?" is titled by the actual problem, and no line contradicts another ------------------
def _said(checks):
    """What the checklist reads, line by line: ``(mark, words)``."""
    return [("✅" if c.ok else "❌" if c.ok is False else "▫️", str(c.problem or c.title) if c.ok is False
             else str(c.title)) for c in checks]


def test_the_checklist_of_a_refused_access_key_names_the_two_keys_apart(svc, sim, number):
    sim.make_key_stale(number.session)
    checks = svc.pairing_checklist(number.id)
    said = _said(checks)
    # the permanent key still gives out access keys (✅), the access key is refused (❌): two keys, two names
    assert ("✅", "The platform accepts the number's permanent key") in said, said
    [failed] = [c for c in checks if c.ok is False]
    assert failed.code == "token" and str(failed.problem) == "The platform refuses the number's access key"
    assert failed.action == "refresh_token"
    # nothing after the problem is ticked, and no tick says the access key is accepted
    after = said[said.index(("❌", str(failed.problem))) + 1:]
    assert all(mark == "▫️" for mark, _ in after), said
    assert not [w for m, w in said if m == "✅" and "access key" in w], said


def test_the_checklist_of_a_dropped_number_says_the_problem_as_a_fact(svc, sim, number):
    sim.set_status(number.session, "offline")
    checks = svc.pairing_checklist(number.id)
    [failed] = [c for c in checks if c.ok is False]
    assert failed.code == "session"
    with use_language("ru"):
        # the state's one name, then what is wrong as a fact: never "❌ Номер запущен на платформе"
        assert str(failed.problem) == "Не в сети: номер остановлен на платформе", str(failed.problem)
    assert str(failed.fix).startswith("First check that the school's phone is on and online"), failed.fix  # phone first


def test_an_operator_of_two_schools_has_both_also_the_one_without_a_number(svc, store, number):
    from .conftest import ORG2

    if ORG not in {o.id for o in svc.organizations()}:
        svc.add_organization("Школа Альфа", ORG, actor="setup")
    svc.add_organization("Школа Бета", ORG2, actor="setup")  # no number yet
    op = svc.for_session({}, access=Access.of([Grant(Role.OPERATOR, frozenset({ORG, ORG2}))], source="test"),
                         actor="Olga")
    assert [v.org_id for v in op.numbers()] == [ORG]
    assert {o.id for o in op.organizations()} == {ORG, ORG2}
