"""What staff live through, at the service level: schools by name, a removed number never hands its phone to a new
one, an already-linked platform client is never shown as "connected", remove/undo, the "why no QR?" checklist,
access-key sentences and the diary."""
from __future__ import annotations

import httpx
import pytest

from wpp import keys
from wpp.access.roles import Access
from wpp.errors import InvalidInput
from wpp.i18n import use_language
from wpp.models import ConnState

from .conftest import ORG, ORG2


def platform_create(sim, org: str) -> dict:
    r = httpx.post(f"{sim.base_url}/api/integrations/wpp/create", json={"organizationId": org},
                   headers={"Authorization": f"Bearer {sim.secret}"})
    r.raise_for_status()
    return r.json()


# --- schools by name ------------------------------------------------------------------------------------------
def test_a_school_is_named_once_and_shown_by_name_never_by_uuid(svc, store):
    school = svc.add_organization("Школа № 5", actor="alice")
    out = svc.create_number(school.id, name="Ресепшн", actor="alice")
    view = svc.number(out.integration.id)
    assert view.org_name == "Школа № 5"
    assert view.label == "Школа № 5 · Ресепшн"
    assert school.id not in view.label
    assert [o.name for o in svc.organizations()] == ["Школа № 5"]


def test_a_school_without_a_name_is_not_shown_as_its_uuid(svc):
    out = svc.create_number(ORG, name="Front desk", actor="alice")
    view = svc.number(out.integration.id)
    assert ORG not in view.label and ORG[:8] not in view.label
    assert view.label.endswith("· Front desk")


def test_two_numbers_of_one_school_with_one_name_are_told_apart(svc):
    school = svc.add_organization("Гимназия № 1", actor="alice")
    a = svc.create_number(school.id, name="Ресепшн", actor="alice")
    b = svc.create_number(school.id, name="Ресепшн", actor="alice")
    la, lb = svc.number(a.integration.id).label, svc.number(b.integration.id).label
    assert la != lb and la.startswith("Гимназия № 1 · Ресепшн · ") and lb.startswith("Гимназия № 1 · Ресепшн · ")


def test_a_number_gets_a_sensible_default_name(svc):
    school = svc.add_organization("Лицей", actor="alice")
    first = svc.create_number(school.id, name="", actor="alice")
    second = svc.create_number(school.id, name=None, actor="alice")
    assert first.integration.name == "Main number"
    assert second.integration.name == "Number 2"
    with use_language("ru"):
        assert svc.default_number_name(school.id)  # translated when a catalogue entry exists; never empty


def test_a_school_name_full_of_markdown_is_kept_as_typed(svc):
    name = "![x](http://127.0.0.1:9/t.png) :green-background[✅ Connected]"
    school = svc.add_organization(name, actor="alice")
    assert svc.organization_name(school.id) == name


def test_blank_school_name_is_refused_and_nothing_saved(svc, store):
    with pytest.raises(InvalidInput):
        svc.add_organization("   ", actor="alice")
    assert store.list_organizations() == []


# --- never a removed number's phone ---------------------------------------------------------------------------
def test_remove_then_new_number_for_the_same_school_gets_a_fresh_client_and_no_connected(svc, sim, store):
    first = svc.create_number(ORG, name="Reception", actor="alice")
    sim.set_status(first.integration.session, "connected")  # the phone was linked
    svc.remove(first.integration.id, actor="alice")
    second = svc.create_number(ORG, name="Reception", actor="alice")
    assert second.ok, second.error
    row = store.get(second.integration.id)
    assert row.session != first.integration.session
    assert row.api_key != first.integration.api_key
    assert row.sub_org_id and row.sub_org_id.startswith(ORG + "__wpp__")
    assert not second.prelinked
    pairing = svc.pairing_state(row.id)
    assert not pairing.connected
    assert pairing.status.state is not ConnState.CONNECTED


def test_a_platform_client_linked_before_the_console_is_never_called_connected(svc, sim, store):
    # the school's client was created (and its phone linked) outside the console, e.g. by the old edge functions
    existing = platform_create(sim, ORG2)
    sim.set_status(existing["session"], "connected")
    out = svc.create_number(ORG2, name="Reception", actor="alice")
    assert out.ok and out.prelinked
    view = svc.number(out.integration.id)
    assert view.prelinked and view.status.state is not ConnState.CONNECTED
    assert view.status.needs_attention
    assert not svc.pairing_state(out.integration.id).connected

    fresh = svc.make_new_instead(out.integration.id, actor="alice")
    assert fresh.ok and not fresh.prelinked
    new_row = store.get(fresh.integration.id)
    assert new_row.session != existing["session"] and new_row.sub_org_id
    assert not store.get(out.integration.id).is_active  # put aside, not lost
    assert store.get(out.integration.id).api_key == existing["apiKey"]
    assert not svc.pairing_state(new_row.id).connected


def test_taking_over_an_already_linked_number_keeps_it(svc, sim, store):
    existing = platform_create(sim, ORG2)
    sim.set_status(existing["session"], "connected")
    out = svc.create_number(ORG2, name="Reception", actor="alice")
    view = svc.take_over(out.integration.id, actor="alice")
    assert not view.prelinked
    assert svc.pairing_state(out.integration.id).connected


# --- remove / undo --------------------------------------------------------------------------------------------
def test_remove_keeps_the_phone_linked_unless_asked_and_can_be_undone(svc, sim, store):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    session = out.integration.session
    sim.set_status(session, "connected")
    svc.remove(out.integration.id, actor="alice")
    assert [v.id for v in svc.numbers(removed=True)] == [out.integration.id]
    assert svc.numbers() == []
    assert svc.poll_check(store.get(out.integration.id)).status.state is ConnState.CONNECTED  # still linked
    svc.restore(out.integration.id, actor="alice")
    assert [v.id for v in svc.numbers()] == [out.integration.id]
    assert store.get(out.integration.id).api_key  # nothing lost


def test_disconnect_and_remove_unlinks_the_phone(svc, sim, store):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    sim.set_status(out.integration.session, "connected")
    svc.remove(out.integration.id, actor="alice", disconnect=True)
    assert svc.poll_check(store.get(out.integration.id)).status.state is ConnState.OFFLINE
    assert [e.action for e in store.list_activity(limit=3)][:2] == ["remove", "stop"]


# --- F5 during create -----------------------------------------------------------------------------------------
def test_the_number_a_create_request_made_is_found_again(svc):
    out = svc.create_number(ORG, name="Reception", actor="alice", request_id="req-1")
    assert svc.find_created("req-1").id == out.integration.id
    assert svc.find_created("req-2") is None
    again = svc.create_number(ORG, name="Reception", actor="alice", request_id="req-1")
    assert again.integration.id == out.integration.id


# --- why is there no QR code? ---------------------------------------------------------------------------------
def test_checklist_all_ticks_when_a_qr_is_offered(svc, sim):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    sim.rotate_qr(out.integration.session)  # past "starting"
    checks = svc.pairing_checklist(out.integration.id)
    assert [c.code for c in checks] == ["reachable", "key", "token", "session", "qr", "codes"]
    assert all(c.ok for c in checks), [(c.code, c.ok, str(c.fix)) for c in checks]


def test_checklist_says_the_codes_ran_out_and_offers_a_new_qr(svc, sim):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    sim.set_status(out.integration.session, "offline")
    checks = {c.code: c for c in svc.pairing_checklist(out.integration.id)}
    assert checks["session"].ok is False and checks["session"].action == "start"
    assert checks["qr"].ok is None
    svc.run_check_action(out.integration.id, "start", actor="alice")
    assert sim.accounts()[0]["status"] in ("starting", "qr_required")


def test_checklist_says_the_platform_cannot_be_reached(make_service, sim, store):
    svc = make_service(timeout=0.5)
    out = svc.create_number(ORG, name="Reception", actor="alice")
    store.merge_settings(out.integration.id, {keys.JWT_EXPIRES_AT: 1})  # the next call needs a new key
    svc.tokens.forget(out.integration.id)
    sim.stop()
    checks = svc.pairing_checklist(out.integration.id)
    assert checks[0].code == "reachable" and checks[0].ok is False and checks[0].action == "retry"
    assert all(c.ok is None for c in checks[1:])


def test_checklist_for_an_unfinished_number_offers_to_finish(svc, store):
    row = store.create(ORG, name="half-done")
    checks = svc.pairing_checklist(row.id)
    assert checks[0].ok is False and checks[0].action == "finish_creating"


# --- access key in plain words --------------------------------------------------------------------------------
def test_access_report_says_access_is_fine_and_when_it_renews(svc):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    rep = svc.access_report(out.integration.id)
    assert rep.ok and rep.fix is None and rep.usable
    assert "renews itself at" in str(rep.summary)
    assert rep.renews_at < rep.expires_at
    assert rep.token and rep.token not in rep.token_masked


def test_testing_access_of_an_offline_number_says_what_to_do(svc, sim):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    sim.set_status(out.integration.session, "offline")
    res = svc.test_access(out.integration.id, actor="alice")
    assert res.ok and res.next_action == "show_qr"
    assert "state: Offline" in str(res.title)  # the state by its one name
    assert str(res.next_step).startswith("Check that the school's phone is on")  # the phone first
    assert "Nothing to do" not in str(res.next_step)


# --- sending and the diary ------------------------------------------------------------------------------------
def test_send_confirms_in_a_sentence_with_the_number_in_international_format(svc, sim):
    out = svc.create_number(ORG, name="Reception", actor="alice")
    sim.set_status(out.integration.session, "connected")
    assert svc.preview_recipient("8 900 123 45 67").startswith("+7 900 123")
    res = svc.send_test(out.integration.id, "8 900 123 45 67", "hello", actor="alice")
    assert "accepted the message for +7 900 123" in str(res.sentence)
    assert "Task" not in str(res.sentence)


def test_the_diary_reads_like_sentences_with_school_and_number(svc):
    school = svc.add_organization("Школа № 5", actor="alice")
    out = svc.create_number(school.id, name="Ресепшн", actor="alice")
    svc.rename(out.integration.id, "Бухгалтерия", actor="bob")
    lines = svc.activity()
    top = lines[0]
    assert top.who == "bob" and top.school == "Школа № 5" and top.number == "Бухгалтерия"
    assert "Renamed" in top.what and "Ресепшн" in top.what and top.ok
    assert all(line.what and line.what != line.action for line in lines), [ln.what for ln in lines]  # words, not codes
    assert any("Created the number on the platform" in line.what for line in lines)


def test_a_name_copied_from_the_screen_loses_its_invisible_characters(svc):
    """The pages put a word joiner into "http://…" (never a link); a name copied from there comes back clean."""
    school = svc.add_organization("Школа\u2060 № 5", actor="alice")
    assert school.name == "Школа № 5"
    out = svc.create_number(school.id, name="Ресепшн", actor="alice")
    view = svc.rename(out.integration.id, "http\u2060://example.com  \u200bвахта", actor="alice")
    assert view.name == "http://example.com вахта"
    with pytest.raises(InvalidInput):
        svc.rename(out.integration.id, "\u2060\u200b", actor="alice")


def test_sign_in_events_go_to_the_diary(svc, store):
    svc.log_sign_in("failure", username="alice", client="c1")
    svc.log_sign_in("throttled", username="alice", client="c1")
    svc.log_sign_in("success", username="alice", client="c2")
    assert [e.action for e in store.list_activity()] == ["sign_in", "sign_in_throttled", "sign_in_failed"]


def test_every_browser_sessions_view_shares_the_service_caches(svc, store, monkeypatch):
    """Each tab works on ``svc.for_session(...)``, a shallow copy: a cache kept on the copy would be thrown away
    after every page run, and every tab's sidebar would count again."""
    counted, listed = [], []
    count, list_orgs = type(svc)._count_attention, store.list_organizations
    monkeypatch.setattr(type(svc), "_count_attention", lambda self: counted.append(1) or count(self))
    monkeypatch.setattr(store, "list_organizations", lambda: listed.append(1) or list_orgs())
    tabs = [svc.for_session({}, access=Access.full()) for _ in range(5)]
    assert {tab.attention_count() for tab in tabs} == {0}
    assert len(counted) == 1, "every tab counted again"
    for tab in tabs:
        tab.organization_name("no-such-school")
    assert len(listed) == 1, "every tab read the schools again"
    tabs[0].add_organization("Школа № 7", actor="alice")  # an action of this process: counted again at once
    tabs[1].attention_count()
    assert len(counted) == 2
