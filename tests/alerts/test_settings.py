"""The alert settings (issue 20): WPP_ALERT_RECIPIENTS read strictly (every bad entry is a problem naming it, a
webhook's address never quoted whole), quiet hours, time zone, language, the mail server's settings that only make
sense together, the demo's short threshold, and what the Settings page shows (masked)."""
from __future__ import annotations

import json

import pytest

from wpp.alerts.recipients import EMAIL, WEBHOOK, parse_recipients
from wpp.alerts.schedule import in_quiet_hours, parse_quiet_hours
from wpp.config import InvalidSettings, load_settings
from wpp.i18n import use_language

from .helpers import MSK, ORG, SMTP_PASSWORD, msk

BASE = {"WPP_BASE_URL": "https://wpp.example.org"}
SMTP = {"WPP_SMTP_HOST": "smtp.example.org", "WPP_SMTP_FROM": "console@school.example"}
TOKEN = "tok-9f8e7d6c5b4a3210"


def load(env=None, files=(), **kw):
    return load_settings(env=dict(env or {}), secrets_files=list(files), **kw)


def problems_of(env=None, files=()) -> list[str]:
    with pytest.raises(InvalidSettings) as info:
        load(env, files)
    return [str(p) for p in info.value.problems]


def test_recipients_from_a_secrets_file_table(tmp_path):
    f = tmp_path / "secrets.toml"
    f.write_text('WPP_BASE_URL = "https://wpp.example.org"\nWPP_SMTP_HOST = "smtp.example.org"\n'
                 'WPP_SMTP_FROM = "console@school.example"\n'
                 '[WPP_ALERT_RECIPIENTS]\n'
                 f'"*" = ["support@wpp.example", "https://chat.example/hook/{TOKEN}"]\n'
                 f'"{ORG.upper()}" = [{{ email = "director@school5.ru", lang = "EN" }}, '
                 f'{{ url = "https://hooks.school5.ru/x/{TOKEN}" }}]\n', encoding="utf-8")
    s = load(files=[f])
    r = s.alert_recipients
    assert [x.kind for x in r["*"]] == [EMAIL, WEBHOOK]
    assert [(x.kind, x.lang) for x in r[ORG]] == [(EMAIL, "en"), (WEBHOOK, None)]  # the id in canonical form
    assert [x.address for x in r.for_school(ORG)] == ["support@wpp.example", f"https://chat.example/hook/{TOKEN}",
                                                      "director@school5.ru", f"https://hooks.school5.ru/x/{TOKEN}"]
    assert [x.address for x in r.for_school("0b0b0b0b-0000-4000-8000-00000000000b")] == [
        "support@wpp.example", f"https://chat.example/hook/{TOKEN}"]
    for text in (repr(s), str(s), repr(r), str(r), json.dumps([str(v) for _l, v in s.describe()])):
        assert TOKEN not in text
    assert "https://chat.example/…#" in str(r)


def test_recipients_as_json_or_a_plain_list_in_the_environment():
    s = load({**BASE, **SMTP, "WPP_ALERT_RECIPIENTS": json.dumps({"*": ["a@school.ru"], ORG: "b@school.ru"})})
    assert [x.address for x in s.alert_recipients.for_school(ORG)] == ["a@school.ru", "b@school.ru"]
    s = load({**BASE, **SMTP, "WPP_ALERT_RECIPIENTS": f"a@school.ru, https://chat.example/{TOKEN}"})
    assert [x.kind for x in s.alert_recipients["*"]] == [EMAIL, WEBHOOK]


@pytest.mark.parametrize("entries, words", [
    (["not-an-address"], "“not-an-address” is neither an e-mail address nor a web address starting with https://"),
    ([f"http://chat.example/hook/{TOKEN}"], "is not a webhook address the console can use"),
    ([f"ftp://chat.example/{TOKEN}"], "is not a webhook address the console can use"),
    ([{"email": "x@school.ru", "lang": "de"}], "the language “de” is not one the alerts are written in"),
    ([{"email": "x@school.ru", "url": "https://a.example"}], "needs exactly one of email, url or telegram"),
    ([{"mail": "x@school.ru"}], "“mail” is not something the console reads in an entry"),
    ([{"email": "https://a.example/x"}], "is not an e-mail address"),
    ([42], "“42” is neither an e-mail address, nor a web address, nor a table with email, url or telegram"),
    ([], "the list is empty"),
])
def test_a_bad_entry_is_a_problem_naming_it(entries, words):
    lines = problems_of({**BASE, **SMTP, "WPP_ALERT_RECIPIENTS": json.dumps({"*": entries})})
    assert len(lines) == 1, lines
    assert lines[0].startswith("WPP_ALERT_RECIPIENTS “*” (every school, in the environment)")
    assert words in lines[0]
    assert TOKEN not in lines[0]  # a web address is quoted by its host only


def test_a_bad_school_key_and_several_bad_entries_each_get_a_line():
    lines = problems_of({**BASE, **SMTP, "WPP_ALERT_RECIPIENTS": json.dumps(
        {"school-5": ["a@school.ru"], ORG: ["ok@school.ru", "nope", f"http://x.example/{TOKEN}"]})})
    assert len(lines) == 3
    assert "“school-5” is neither \"*\" (every school) nor a school's organisation id" in lines[0]
    assert all(ORG in line for line in lines[1:])
    assert not any(TOKEN in line for line in lines)


def test_recipients_that_are_no_table_at_all():
    lines = problems_of({**BASE, "WPP_ALERT_RECIPIENTS": '{"*": [oops'})
    assert len(lines) == 1 and lines[0].startswith("WPP_ALERT_RECIPIENTS is ")


def test_russian_problems():
    with use_language("ru"):
        lines = problems_of({**BASE, **SMTP, "WPP_ALERT_RECIPIENTS": json.dumps({"*": ["nope"]})})
    assert "не адрес электронной почты" in lines[0] and "источник: переменные окружения" in lines[0]


@pytest.mark.parametrize("name, value, rule", [
    ("WPP_ALERT_QUIET_HOURS", "22-7", "two different times of day, from-to, such as 22:00-07:00"),
    ("WPP_ALERT_QUIET_HOURS", "25:00-07:00", "two different times of day"),
    ("WPP_ALERT_QUIET_HOURS", "07:00-07:00", "two different times of day"),
    ("WPP_ALERT_TIMEZONE", "Mars/Olympus", "a time zone name such as Europe/Moscow"),
    ("WPP_ALERT_LANGUAGE", "de", "one of ru, en"),
    ("WPP_ALERT_AFTER_MINUTES", "0", "a number of minutes greater than 0, at most 1440"),
    ("WPP_ALERT_AFTER_MINUTES", "2000", "a number of minutes greater than 0, at most 1440"),
    ("WPP_PUBLIC_URL", "console.school.example", "a web address that starts with http:// or https://"),
    ("WPP_SMTP_PORT", "0", "a whole number from 1 to 65535"),
    ("WPP_SMTP_TLS", "tls", "one of starttls, ssl, none"),
    ("WPP_SMTP_FROM", "console", "an e-mail address such as console@school.example"),
    ("WPP_SMTP_HOST", "smtp://x", "a host name such as smtp.example.org"),
])
def test_bad_values_are_named_with_their_rule(name, value, rule):
    lines = problems_of({**BASE, name: value})
    assert any(line.startswith(f"{name} is “{value}”") and rule in line for line in lines), lines


def test_quiet_hours_are_read_in_the_alerts_time_zone():
    q = parse_quiet_hours("22:00-07:00")
    assert in_quiet_hours(msk(2027, 3, 10, 23, 30), q, MSK)
    assert in_quiet_hours(msk(2027, 3, 11, 6, 59), q, MSK)
    assert not in_quiet_hours(msk(2027, 3, 11, 7, 0), q, MSK)
    assert not in_quiet_hours(msk(2027, 3, 10, 21, 59), q, MSK)
    day = parse_quiet_hours("13:00 - 14:30")
    assert in_quiet_hours(msk(2027, 3, 10, 14, 0), day, MSK) and not in_quiet_hours(msk(2027, 3, 10, 14, 30), day, MSK)
    s = load({**BASE, "WPP_ALERT_QUIET_HOURS": "22:00 – 7:00"})
    assert s.alert_quiet_hours == "22:00-07:00"


def test_the_mail_server_settings_that_only_make_sense_together():
    emails = json.dumps({"*": ["a@school.ru"]})
    lines = problems_of({**BASE, "WPP_ALERT_RECIPIENTS": emails})
    assert any("lists e-mail addresses, but no mail server is set" in line for line in lines)
    lines = problems_of({**BASE, "WPP_SMTP_HOST": "smtp.example.org"})
    assert any("WPP_SMTP_FROM is missing" in line for line in lines)
    lines = problems_of({**BASE, **SMTP, "WPP_SMTP_PASSWORD": SMTP_PASSWORD})
    assert any(line.startswith("WPP_SMTP_PASSWORD is set but WPP_SMTP_USER is missing") for line in lines)
    assert not any(SMTP_PASSWORD in line for line in lines)
    # the user name as the sender; a webhook alone needs no mail server
    s = load({**BASE, "WPP_SMTP_HOST": "smtp.example.org", "WPP_SMTP_USER": "console@school.example",
              "WPP_SMTP_PASSWORD": SMTP_PASSWORD, "WPP_ALERT_RECIPIENTS": emails})
    assert s.smtp_sender == "console@school.example" and s.warnings == []
    load({**BASE, "WPP_ALERT_RECIPIENTS": json.dumps({"*": ["https://chat.example/h"]})})
    s = load({**BASE, **SMTP, "WPP_SMTP_USER": "u", "WPP_SMTP_PASSWORD": SMTP_PASSWORD, "WPP_SMTP_TLS": "none"})
    assert any("travel unencrypted" in str(w) for w in s.warnings)


def test_a_bad_password_value_is_masked_and_the_settings_page_masks_it():
    s = load({**BASE, **SMTP, "WPP_SMTP_USER": "u", "WPP_SMTP_PASSWORD": SMTP_PASSWORD})
    rows = {str(label): value for label, value in s.describe()}
    assert rows["Password at the mail server"] != SMTP_PASSWORD and SMTP_PASSWORD not in repr(s)
    assert rows["How long a number may be down before people are told"] == "10 minutes"
    assert rows["Mail server (SMTP) for alerts"] == "smtp.example.org"
    assert rows["Language of the alerts"] == "ru" and rows["Time zone of the alerts and the quiet hours"] == "Europe/Moscow"


def test_the_demo_tells_after_one_minute_unless_set(tmp_path):
    s = load({"WPP_DATA_DIR": str(tmp_path)})
    assert s.demo and s.alert_after_s == 60.0
    rows = {str(label): value for label, value in s.describe()}
    assert rows["How long a number may be down before people are told"] == "1 minute (demo)"
    assert load({"WPP_DATA_DIR": str(tmp_path), "WPP_ALERT_AFTER_MINUTES": "5"}).alert_after_s == 300.0
    assert load(BASE).alert_after_s == 600.0
    s = load({"WPP_DATA_DIR": str(tmp_path), **SMTP})  # demo: the mail server is not used, and it says so
    assert any("demo outbox only" in str(w) for w in s.warnings)


def test_parse_recipients_dedupes_and_keeps_webhook_addresses_out_of_keys():
    found, problems = parse_recipients({"*": ["A@School.ru", "a@school.ru", f"https://x.example/{TOKEN}"]})
    assert problems == [] and len(found["*"]) == 2
    keys = [r.key for r in found["*"]]
    assert keys[0] == "email:a@school.ru" and keys[1].startswith("webhook:") and TOKEN not in keys[1]
