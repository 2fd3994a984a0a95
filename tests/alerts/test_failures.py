"""Alerts that cannot be delivered break nothing: a mail server that refuses, does not answer or rejects the password,
a webhook answering 500 with an HTML page or not at all — each is logged (masked), written to the diary for the
school's people, tried again later with a growing delay, given up in the end; no pass ever raises. The SMTP
password and the webhook's address never appear in logs, the diary, the store or a repr."""
from __future__ import annotations

import json
import logging

import pytest

from wpp.errors import StoreError
from wpp.masking import Secret

from .helpers import HOOK_TOKEN, ORG, SMTP_PASSWORD, SMTP_USER, smtp_config
from .sinks import HookSink, SmtpSink

MINUTE = 60.0


def _drop(world, desk):
    """Connected, then offline for three minutes (seen by the engine; no desk pass meanwhile), then one pass of
    ``desk``: with after_s = 60 s it notifies and makes the first try at once. Returns that pass's counters."""
    world.play(2 * MINUTE, desks=[])
    world.platform.set(world.number.id, "offline")
    world.play(3 * MINUTE, desks=[])
    return desk.run_once()


def _tries(store) -> list[tuple[str, int]]:
    return [(a.status, a.attempts) for a in store.list_alerts()]


def test_a_refusing_mail_server_is_recorded_and_tried_again_later(world, clock):
    sink = SmtpSink(mode="refuse", user=SMTP_USER, password=SMTP_PASSWORD)
    try:
        desk = world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(sink), after_s=60.0)
        stats = _drop(world, desk)
        assert stats["notified"] == 1 and stats["failed"] == 1 and sink.messages == []
        assert _tries(world.store) == [("retry", 1)]
        [alert] = world.store.list_alerts()
        assert "refused the address" in json.loads(alert.error)["english"]
        failed = [e for e in world.store.list_activity() if e.action == "alert_failed"]
        assert len(failed) == 1 and failed[0].organization_id == ORG and failed[0].outcome == "error"
        assert "tries again later" in failed[0].detail

        connections = sink.connections
        clock.advance(30)
        assert desk.run_once()["failed"] == 0 and sink.connections == connections  # not due yet
        clock.advance(31)
        assert desk.run_once()["failed"] == 1  # after a minute: tried again, refused again
        assert _tries(world.store) == [("retry", 2)]
        clock.advance(61)
        assert desk.run_once().get("failed", 0) == 0  # the second delay is longer (two minutes)
        sink.mode = "ok"
        clock.advance(60)
        assert desk.run_once()["sent"] == 1
        assert _tries(world.store) == [("sent", 3)] and sink.to() == ["support@wpp.example"]
        assert [e.action for e in world.store.list_activity() if e.action.startswith("alert_")] == [
            "alert_sent", "alert_failed"]  # one diary line for the first failure, one for the delivery
    finally:
        sink.close()


def test_a_silent_mail_server_times_out_and_nothing_raises(world, clock):
    sink = SmtpSink(mode="silent")
    try:
        desk = world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(sink, user=None, timeout_s=0.5),
                          after_s=60.0)
        _drop(world, desk)
        [alert] = world.store.list_alerts()
        assert alert.status == "retry" and "did not answer in time" in json.loads(alert.error)["english"]
        assert desk.run_once().get("failed", 0) == 0
    finally:
        sink.close()


def test_a_wrong_smtp_password_is_said_without_the_password(world, caplog):
    sink = SmtpSink(user=SMTP_USER, password="the-right-one-000000")
    caplog.set_level(logging.DEBUG)
    try:
        desk = world.desk({"*": ["support@wpp.example"]}, smtp=smtp_config(sink), after_s=60.0)
        _drop(world, desk)
        [alert] = world.store.list_alerts()
        assert "did not accept the user name or password (code 535)" in json.loads(alert.error)["english"]
        assert set(sink.logins) == {SMTP_USER} and sink.messages == []  # (smtplib tries PLAIN, then LOGIN)
        assert SMTP_PASSWORD not in caplog.text
    finally:
        sink.close()


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_a_failing_webhook_is_retried_with_a_growing_delay_then_given_up(world, clock, mode):
    sink = HookSink(mode=mode, delay=2.0)
    try:
        desk = world.desk({"*": [sink.url(HOOK_TOKEN)]}, after_s=60.0, max_attempts=3)
        _drop(world, desk)
        [alert] = world.store.list_alerts()
        expected = "answered HTTP 500" if mode == "error" else "did not answer in time"
        assert alert.status == "retry" and expected in json.loads(alert.error)["english"]
        first_retry = alert.next_try_at
        clock.advance(first_retry - clock.time())
        desk.run_once()
        [alert] = world.store.list_alerts()
        assert alert.attempts == 2 and alert.next_try_at - clock.time() == pytest.approx(120)  # 60 s, then 120 s
        clock.advance(120)
        desk.run_once()
        [alert] = world.store.list_alerts()
        assert (alert.status, alert.attempts) == ("failed", 3)  # given up
        gave_up = [e for e in world.store.list_activity() if "stopped trying" in e.detail]
        assert len(gave_up) == 1 and gave_up[0].organization_id == ORG
        clock.advance(3600)
        desk.run_once()
        assert len(sink.requests) == 3
    finally:
        sink.close()


def test_a_webhook_that_recovers_gets_the_alert(world, clock):
    sink = HookSink(mode="error")
    try:
        desk = world.desk({"*": [sink.url(HOOK_TOKEN)]}, after_s=60.0)
        _drop(world, desk)
        sink.mode = "ok"
        clock.advance(61)
        assert desk.run_once()["sent"] == 1
        assert [r[2]["event"] for r in sink.requests] == ["number.down", "number.down"]
        assert sink.requests[-1][1] == "application/json"
    finally:
        sink.close()


class _BrokenStore:
    """A store whose alert tables (or everything) fail."""

    def __init__(self, inner, *, everything: bool = False):
        self._inner, self._everything = inner, everything

    def __getattr__(self, name):
        if name in ("try_lease", "release_lease"):
            return getattr(self._inner, name)
        if self._everything or name in ("queue_alerts", "due_alerts", "load_incidents", "save_incident"):
            def fail(*a, **kw):
                if self._everything and name == "load_statuses":
                    raise RuntimeError("a bug somewhere")
                raise StoreError(detail=f"{name} failed")
            return fail
        return getattr(self._inner, name)


@pytest.mark.parametrize("everything", [False, True])
def test_a_broken_store_or_channel_never_raises_from_a_pass(world, clock, everything):
    desk = world.desk({"*": ["support@wpp.example"]}, store=_BrokenStore(world.store, everything=everything),
                      channels={"email": _Exploding()}, after_s=60.0)
    world.play(2 * MINUTE)
    world.platform.set(world.number.id, "offline")
    world.play(5 * MINUTE)  # every pass failed inside; none raised, and the engine kept going
    assert desk.run_once()["leader"] == 1
    assert world.engine.entry(world.number.id).state == "offline"


class _Exploding:
    def send(self, alert, recipient):
        raise RuntimeError(f"boom {recipient.address}")


def test_a_channel_that_explodes_fails_its_alert_only(world, caplog):
    caplog.set_level(logging.DEBUG)
    desk = world.desk({"*": [f"https://chat.example/hook/{HOOK_TOKEN}"]}, channels={"webhook": _Exploding()},
                      after_s=60.0)
    _drop(world, desk)
    [alert] = world.store.list_alerts()
    assert alert.status == "retry" and "an unexpected error" in json.loads(alert.error)["english"]
    assert HOOK_TOKEN not in caplog.text


def test_secrets_never_show_in_logs_diary_store_or_reprs(world, clock, smtp, caplog, tmp_path):
    from wpp.config import load_settings

    hook = HookSink(mode="error")
    url = hook.url(HOOK_TOKEN)
    caplog.set_level(logging.DEBUG)
    try:
        desk = world.desk({"*": ["support@wpp.example", url]}, smtp=smtp_config(smtp), after_s=60.0)
        _drop(world, desk)
        hook.mode = "ok"
        clock.advance(61)
        desk.run_once()
        world.platform.set(world.number.id, "connected")
        world.play(3 * MINUTE)
        assert len(smtp.messages) == 2 and len(hook.requests) == 3  # down (failed once, then sent), recovered

        settings = load_settings(env={
            "WPP_BASE_URL": "https://wpp.example.org", "WPP_SMTP_HOST": "smtp.example.org",
            "WPP_SMTP_USER": SMTP_USER, "WPP_SMTP_PASSWORD": SMTP_PASSWORD, "WPP_SMTP_FROM": SMTP_USER,
            "WPP_ALERT_RECIPIENTS": json.dumps({"*": ["support@wpp.example", url]}),
            "WPP_DATA_DIR": str(tmp_path / "data")}, secrets_files=[])
        from wpp.alerts.desk import AlertConfig

        config = AlertConfig.from_settings(settings)
        assert isinstance(config.smtp.password, Secret)
        texts = [caplog.text, repr(desk), str(desk), repr(desk.config), repr(config), repr(settings), str(settings),
                 repr(settings.alert_recipients), str(settings.alert_recipients),
                 " ".join(f"{label} {value}" for label, value in settings.describe())]
        for e in world.store.list_activity():
            texts += [e.detail, json.dumps(e.message, ensure_ascii=False)]
        for a in world.store.list_alerts():
            texts += [repr(a), json.dumps(a.payload or {}), a.error or ""]
        for text in texts:
            assert SMTP_PASSWORD not in text
            assert HOOK_TOKEN not in text
        shown = {a.shown_to for a in world.store.list_alerts()}
        assert shown == {"support@wpp.example", f"http://127.0.0.1:{hook.port}/…#" + url_tail(url)}
        # the webhook's address is nowhere in the database file either
        raw = b"".join(p.read_bytes() for p in world.store.path.parent.glob("wpp.db*"))
        assert HOOK_TOKEN.encode() not in raw and SMTP_PASSWORD.encode() not in raw
    finally:
        hook.close()


def url_tail(url: str) -> str:
    import hashlib

    return hashlib.sha256(url.encode()).hexdigest()[:4]
