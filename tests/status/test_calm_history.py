"""Calm status (one failed poll changes nothing on screen), states the platform reports at once, the history."""
from __future__ import annotations

from wpp.errors import InvalidToken, PlatformTimeout, PlatformUnreachable
from wpp.i18n import use_language
from wpp.models import Status
from wpp.status import CANNOT_CHECK, CheckResult, error_from_dict, error_to_dict

from .helpers import add_number, run_for, run_until_asked


def test_one_failed_poll_leaves_a_connected_number_connected_two_show_the_problem(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    connected_since = engine.entry(row.id).since

    platform.fail(row.id, PlatformTimeout())
    run_until_asked(engine, clock, platform, row.id)  # the regular check fails once
    entry = engine.entry(row.id)
    assert entry.state == "connected" and entry.problem is None and entry.since == connected_since
    assert not entry.needs_attention
    run_until_asked(engine, clock, platform, row.id)  # its quick retry works
    assert engine.entry(row.id).since == connected_since

    platform.fail(row.id, PlatformUnreachable(), times=2)
    first_failure = run_until_asked(engine, clock, platform, row.id)
    assert engine.entry(row.id).state == "connected"  # one failure: still calm
    run_until_asked(engine, clock, platform, row.id)  # its retry fails too: now it shows
    entry = engine.entry(row.id)
    assert entry.state == CANNOT_CHECK and entry.cannot_check
    assert entry.problem["kind"] == "unreachable"
    assert entry.error.message == PlatformUnreachable().message  # back as an error the page can show
    assert entry.since == first_failure  # "cannot be checked since" the first failed check
    assert entry.last_state == "connected"  # last known
    assert entry.attention is not None and entry.attention.code == "cannot_check"

    run_until_asked(engine, clock, platform, row.id)  # the platform answers again
    entry = engine.entry(row.id)
    assert entry.state == "connected" and entry.problem is None


def test_a_state_the_platform_reports_shows_at_once(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    platform.set(row.id, "offline")
    run_for(engine, clock, 61)  # one check
    assert engine.entry(row.id).state == "offline"
    assert engine.entry(row.id).attention.code == "offline"


def test_rejected_keys_are_problems_too(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    platform.fail(row.id, InvalidToken(), times=5)
    run_for(engine, clock, 70)
    entry = engine.entry(row.id)
    assert entry.state == CANNOT_CHECK and entry.problem["kind"] == "invalid_token"
    assert entry.attention.code == "key_rejected"


def test_the_history_records_every_change_with_the_state_before(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "starting")
    engine.tick()
    assert engine.pairing_heartbeat(row.id)  # someone has the pairing panel open: asked every 2 s
    run_for(engine, clock, 4)
    platform.set(row.id, "qr_required")
    run_for(engine, clock, 4)
    platform.set(row.id, "connected")
    run_for(engine, clock, 100)
    platform.fail(row.id, PlatformUnreachable(), times=2)
    run_for(engine, clock, 70)
    run_for(engine, clock, 30)

    lines = engine.history(row.id)
    assert [(c.previous, c.state) for c in lines] == [  # newest first
        (CANNOT_CHECK, "connected"),
        ("connected", CANNOT_CHECK),
        ("qr_required", "connected"),
        ("starting", "qr_required"),
        (None, "starting"),
    ]
    assert [c.at for c in lines] == sorted((c.at for c in lines), reverse=True)
    assert lines[1].error["kind"] == "unreachable" and lines[0].error is None
    assert engine.entry(row.id).since == lines[0].at  # "connected since" the last change
    assert len(engine.history(row.id, limit=2)) == 2


def test_a_state_seen_again_after_a_failed_check_is_no_change(store, engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    engine.tick()
    platform.fail(row.id, PlatformUnreachable())
    run_for(engine, clock, 200)
    assert [(c.previous, c.state) for c in engine.history(row.id)] == [(None, "connected")]


def test_errors_are_kept_translatable_and_come_back_as_errors(store, engine, platform, clock):
    err = InvalidToken()
    stored = error_to_dict(err)
    assert stored["kind"] == "invalid_token" and stored["message"]["msgid"] == err.message_text.msgid
    back = error_from_dict(stored)
    assert isinstance(back, InvalidToken) and back.message_text == err.message_text
    assert error_from_dict(None) is None
    plain = error_from_dict({"kind": "something_new", "status": 418, "message": "Teapot", "action": "Wait"})
    assert plain.kind == "something_new" and plain.status == 418 and plain.message == "Teapot"

    # through the store and back, rendered in the reader's language when shown
    row = add_number(store)
    platform.fail(row.id, err, times=2)
    engine.tick()
    clock.advance(10)
    engine.tick()
    shown = engine.board([row.id])[row.id].error
    assert isinstance(shown, InvalidToken)
    with use_language("ru"):
        assert shown.message == str(err.message_text)  # the Russian catalogue's words (English if untranslated)


def test_a_pairing_report_counts_like_a_check(store, engine, clock):
    row = add_number(store)
    engine.record(row.id, CheckResult(status=Status.parse("QRCODE")))
    assert engine.entry(row.id).state == "qr_required"
    clock.advance(30)
    engine.record(row.id, CheckResult(status=Status.parse("CONNECTED")))
    assert [(c.previous, c.state) for c in engine.history(row.id)] == [("qr_required", "connected"),
                                                                        (None, "qr_required")]


def test_the_diary_says_when_a_phone_was_linked_unlinked_or_its_codes_ran_out(store, engine, platform, clock):
    """What the phone did by itself is in the Activity diary once per change; routine steps and the first look at
    a number (already connected when the console started) are not."""
    def diary():
        return [(e.action, e.outcome, e.actor) for e in reversed(store.list_activity(limit=50))]

    known = add_number(store, "Known")
    platform.set(known.id, "connected")
    row = add_number(store, "Front desk")
    platform.set(row.id, "starting")
    engine.tick()
    run_for(engine, clock, 4)
    assert diary() == []  # the first look is not news, nor is starting
    platform.set(row.id, "qr_required")
    run_for(engine, clock, 4)
    platform.set(row.id, "connected")
    run_for(engine, clock, 4)
    run_for(engine, clock, 130)  # checked again and again: still connected, nothing new
    platform.set(row.id, "qr_required")  # unlinked on the phone
    run_for(engine, clock, 70)
    platform.set(row.id, "offline")  # and nobody scanned: the codes ran out (seen within a minute: nobody watched)
    run_for(engine, clock, 70)
    assert diary() == [("linked", "ok", "WhatsApp"), ("unlinked", "error", "WhatsApp"),
                       ("qr_ran_out", "error", "WhatsApp")]
    lines = {e.action: e for e in store.list_activity(limit=50)}
    assert lines["linked"].integration_id == row.id
    with use_language("ru"):
        assert str(lines["linked"].text()) == "Подключён: телефон привязан"
