"""Telegram as a channel (issue 26): chat ids per school in WPP_ALERT_RECIPIENTS, the bot token a secret, messages
through the Bot API's sendMessage (Telegram's HTML, everything escaped) to a fake Bot API on 127.0.0.1; a 429's
``retry_after`` is obeyed; a refused chat is given up at once; the token never shows in logs, the store or a repr."""
from __future__ import annotations

import json
import logging

import pytest

from wpp.alerts.channels import TelegramChannel
from wpp.masking import Secret

from .helpers import ORG, ORG_B, recipients
from .sinks import FakeBotApi

MINUTE = 60.0
TOKEN = "123456789:AAFtestTOKENabcdefghijklmnopqrstuv"
SUPPORT_CHAT = "-1001111111111"
SCHOOL5_CHAT = "-1002222222222"
GYM_CHAT = "@gym1_alerts"
TABLE = {"*": [{"telegram": SUPPORT_CHAT}], ORG: [{"telegram": SCHOOL5_CHAT, "lang": "en"}],
         ORG_B: [{"telegram": GYM_CHAT}]}


@pytest.fixture
def bot():
    api = FakeBotApi(TOKEN)
    yield api
    api.close()


def _desk(world, bot, **kw):
    from wpp.alerts.channels import OutboxChannel

    channel = TelegramChannel(Secret(TOKEN), api_url=bot.url, timeout_s=2.0)
    return world.desk(TABLE, channels={"telegram": channel, "outbox": OutboxChannel()}, **kw)


def test_telegram_chats_per_school_get_the_alert_in_their_language(world, bot, caplog):
    caplog.set_level(logging.DEBUG)
    world.store.add_organization("Гимназия № 1", ORG_B)
    world.add("Вахта", org=ORG_B)
    tricky = world.add("Ресепшн <b>&</b>")  # a name is data: escaped, never Telegram markup
    _desk(world, bot, public_url="https://console.school.example")
    world.play(2 * MINUTE)
    world.platform.set(tricky.id, "offline")
    world.play(15 * MINUTE)
    assert sorted(bot.chats()) == sorted([SUPPORT_CHAT, SCHOOL5_CHAT]), "the gymnasium's chat hears nothing"
    by_chat = {m["chat_id"]: m for m in bot.sent}
    ru, en = by_chat[SUPPORT_CHAT], by_chat[SCHOOL5_CHAT]
    assert ru["parse_mode"] == "HTML" and ru["link_preview_options"] == {"is_disabled": True}
    assert ru["text"].startswith("<b>«Ресепшн &lt;b&gt;&amp;&lt;/b&gt;» (Школа № 5): не в сети</b>\n\n")
    assert "<b>&" not in ru["text"].split("</b>", 1)[1]
    assert "The number “Ресепшн &lt;b&gt;&amp;&lt;/b&gt;” of “Школа № 5” has been offline since" in en["text"]
    assert f"https://console.school.example/number?n={tricky.id}" in en["text"]
    assert all(r["token"] == TOKEN for r in bot.requests)
    [alert] = [a for a in world.store.list_alerts() if a.recipient == f"telegram:{SUPPORT_CHAT}"]
    assert alert.status == "sent" and alert.shown_to == f"Telegram {SUPPORT_CHAT}"
    texts = [caplog.text, repr(alert)] + [json.dumps(a.payload or {}) + (a.error or "") for a in world.store.list_alerts()]
    assert all(TOKEN not in t for t in texts), "the bot token leaked"

    world.platform.set(tricky.id, "connected")
    world.play(3 * MINUTE)
    assert len(bot.sent) == 4 and "снова подключён" in bot.sent[-1]["text"] + bot.sent[-2]["text"]


def test_a_429_retry_after_is_obeyed(world, bot, clock):
    """Telegram says "retry after 150" — longer than the desk's own first delay (60 s): the next try waits for it."""
    bot.limit, bot.retry_after = 1, 150  # the first request is refused
    desk = _desk(world, bot, after_s=60.0)
    world.play(2 * MINUTE, desks=[])
    world.platform.set(world.number.id, "offline")
    world.play(3 * MINUTE, desks=[])
    stats = desk.run_once()
    assert stats["failed"] == 1 and stats["sent"] == 1 and len(bot.requests) == 2 and len(bot.sent) == 1
    [limited] = [a for a in world.store.list_alerts() if a.status == "retry"]
    assert "asked to wait 150 s" in json.loads(limited.error)["english"]
    assert limited.next_try_at >= clock.time() + 150
    clock.advance(120)
    desk.run_once()
    assert len(bot.requests) == 2, "tried again before Telegram's retry_after"
    clock.advance(35)
    assert desk.run_once()["sent"] == 1
    assert len(bot.requests) == 3 and sorted(bot.chats()) == sorted([SUPPORT_CHAT, SCHOOL5_CHAT])


def test_a_chat_telegram_refuses_is_given_up_at_once(world, clock):
    bot = FakeBotApi("987654321:BBFotherTOKENabcdefghijklmnopqrstu")  # the console's token is not this bot's
    try:
        desk = _desk(world, bot, after_s=60.0)
        world.play(2 * MINUTE, desks=[])
        world.platform.set(world.number.id, "offline")
        world.play(3 * MINUTE, desks=[])
        desk.run_once()
        assert len(bot.requests) == 2
        assert {a.status for a in world.store.list_alerts()} == {"failed"}
        assert all("did not accept the bot token" in json.loads(a.error)["english"]
                   for a in world.store.list_alerts())
        clock.advance(90)  # (after that chat's own back-off)
        desk.run_once()  # the "*" chat is told of the failures (through the same bot: it fails too, once)
        assert len(bot.requests) == 3 and bot.requests[2]["body"]["chat_id"] == SUPPORT_CHAT
        for _ in range(3):
            clock.advance(3600)
            desk.run_once()
        assert len(bot.requests) == 3  # never tried again
    finally:
        bot.close()


def test_telegram_recipients_are_read_and_need_a_bot_token():
    from wpp.config import InvalidSettings, load_settings

    found = recipients({"*": [{"telegram": "-1001234567890"}, {"telegram": "@school_alerts", "lang": "en"}],
                        ORG: [{"telegram": -1009876543210}]})  # a number in TOML is fine too
    keys = sorted(r.key for _s, r in found.all())
    assert keys == ["telegram:-1001234567890", "telegram:-1009876543210", "telegram:@school_alerts"]
    assert [r.shown for r in found.for_school(ORG)][-1] == "Telegram -1009876543210"

    from wpp.alerts.recipients import parse_recipients

    _found, problems = parse_recipients({"*": [{"telegram": "my group"}]})
    assert len(problems) == 1 and "is not a Telegram chat" in str(problems[0])

    env = {"WPP_BASE_URL": "https://wpp.example.org",
           "WPP_ALERT_RECIPIENTS": json.dumps({"*": [{"telegram": "-1001234567890"}]})}
    with pytest.raises(InvalidSettings) as info:
        load_settings(env=env, secrets_files=[])
    assert any("set WPP_TELEGRAM_BOT_TOKEN" in str(p) for p in info.value.problems)
    with pytest.raises(InvalidSettings) as info:
        load_settings(env={**env, "WPP_TELEGRAM_BOT_TOKEN": "not-a-token"}, secrets_files=[])
    assert not any("not-a-token" in str(p) for p in info.value.problems)
    s = load_settings(env={**env, "WPP_TELEGRAM_BOT_TOKEN": TOKEN}, secrets_files=[])
    assert TOKEN not in repr(s) and all(TOKEN not in str(v) for _k, v in s.describe())
    from wpp.alerts.desk import AlertConfig, AlertDesk

    config = AlertConfig.from_settings(s)
    desk = AlertDesk(None, config)
    assert isinstance(desk.channels["telegram"], TelegramChannel) and TOKEN not in repr(desk.channels)
    assert TOKEN in config.secrets
