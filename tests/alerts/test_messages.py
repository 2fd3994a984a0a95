"""What an alert says, in Russian and English: the school and the number by name (never a UUID), what happened and
since when in the alerts' time zone, the one thing to do, the link; names are data (escaped in HTML)."""
from __future__ import annotations

import pytest

from wpp.alerts.message import (CANNOT_CHECK, DOWN, KEY_REJECTED, LOGGED_OUT, OFFLINE, RECOVERED, Subject, compose,
                                html_part)
from wpp.i18n import N_

from .helpers import MSK, ORG, UUID_RE, msk

NUMBER = "11111111-2222-4333-8444-555555555555"
ABOUT = Subject(school_id=ORG, school_name="Школа № 5", number_id=NUMBER, number_name="Ресепшн",
                phone="+7 900 123-45-67")
NOW = msk(2027, 3, 11, 8, 0)
SINCE = msk(2027, 3, 11, 2, 14)


def _down(kind, lang, **kw):
    return compose(kw.pop("about", ABOUT), event=DOWN, kind=kind, started_at=SINCE, recovered_at=None, lang=lang,
                   tz=MSK, now=NOW, public_url=kw.pop("public_url", None))


@pytest.mark.parametrize("kind, ru, en", [
    (OFFLINE, "Номер «Ресепшн» школы «Школа № 5» не в сети с 02:14.",
     "The number “Ресепшн” of “Школа № 5” has been offline since 02:14."),
    (LOGGED_OUT, "Номер «Ресепшн» школы «Школа № 5» отвязан от телефона с 02:14: нужно заново отсканировать QR-код.",
     "has not been linked to its phone since 02:14: it needs a new QR scan."),
    (CANNOT_CHECK, "Консоль не может проверить номер «Ресепшн» школы «Школа № 5» с 02:14.",
     "The console has not been able to check the number “Ресепшн” of “Школа № 5” since 02:14."),
    (KEY_REJECTED, "С 02:14 платформа не принимает ключ доступа номера «Ресепшн» школы «Школа № 5».",
     "Since 02:14, the platform refuses the access key of the number “Ресепшн” of “Школа № 5”."),
])
def test_every_kind_in_russian_and_english(kind, ru, en):
    r, e = _down(kind, "ru"), _down(kind, "en")
    assert r.body.startswith(ru) and en in e.body
    assert "Что сделать: " in r.body and "What to do: " in e.body
    assert "Телефон: +7 900 123-45-67" in r.body
    for c in (r, e):
        assert "Ресепшн" in c.subject and "Школа № 5" in c.subject
        assert UUID_RE.findall(c.subject + c.body) == []  # no link configured: no id anywhere in the words
        assert c.payload["state"] == kind and c.payload["url"] is None
    if kind == KEY_REJECTED:
        assert "«Доступ»" in r.body and "«Получить новый ключ доступа»" in r.body
        assert "open the number in the console, go to “Access” and press “Get a new access key”." in e.body
    if kind in (OFFLINE, LOGGED_OUT):
        assert "отсканируйте новый QR-код телефоном школы" in r.body
    if kind == OFFLINE:  # phone first, as on every page (issue 27)
        assert "Что сделать: проверьте, что телефон школы включён и подключён к интернету" in r.body


def test_recovered_and_the_link():
    c = compose(ABOUT, event=RECOVERED, kind=OFFLINE, started_at=SINCE, recovered_at=msk(2027, 3, 11, 7, 40),
                lang="ru", tz=MSK, now=NOW, public_url="https://console.school.example/")
    assert c.subject == "«Ресепшн» (Школа № 5): снова подключён"
    assert "снова подключён с 07:40 (сбой длился с 02:14)" in c.body
    link = f"https://console.school.example/number?n={NUMBER}"
    assert f"Открыть номер: {link}" in c.body
    assert UUID_RE.findall(c.body.replace(link, "")) == []
    assert c.payload["event"] == "number.recovered" and c.payload["state"] == "connected"
    assert c.payload["url"] == link and c.payload["since"] == "2027-03-10T23:14:00+00:00"


def test_times_are_in_the_alerts_time_zone_and_a_date_when_not_today():
    from zoneinfo import ZoneInfo

    c = compose(ABOUT, event=DOWN, kind=OFFLINE, started_at=SINCE, recovered_at=None, lang="en",
                tz=ZoneInfo("Asia/Yekaterinburg"), now=NOW, public_url=None)
    assert "since 04:14." in c.body
    c = compose(ABOUT, event=DOWN, kind=OFFLINE, started_at=msk(2027, 3, 9, 23, 5), recovered_at=None, lang="ru",
                tz=MSK, now=NOW, public_url=None)
    assert "с 9 мар., 23:05." in c.body


def test_an_unnamed_school_and_number_are_still_words():
    about = Subject(school_id=ORG, school_name=N_("Unnamed school …{tail}", tail="000a"), number_id=NUMBER,
                    number_name=N_("Unnamed number"))
    r, e = _down(OFFLINE, "ru", about=about), _down(OFFLINE, "en", about=about)
    assert "«Номер без названия» школы «Школа без названия …000a»" in r.body
    assert "“Unnamed number” of “Unnamed school …000a”" in e.body
    assert UUID_RE.findall(r.body + e.body) == []


def test_names_are_data():
    about = Subject(school_id=ORG, school_name="<b>School</b> & {since}", number_id=NUMBER,
                    number_name="Front\r\nBcc: evil@example.com")
    c = _down(OFFLINE, "en", about=about, public_url="https://console.school.example")
    assert "\n" not in c.subject and "\r" not in c.subject  # no header can be injected
    assert "“<b>School</b> & {since}”" in c.body  # placeholders in a name are not filled
    page = html_part(c.body)
    assert "<b>School</b>" not in page and "&lt;b&gt;School&lt;/b&gt; &amp; {since}" in page
    assert f'<a href="https://console.school.example/number?n={NUMBER}">' in page


def test_a_long_russian_subject_survives_the_mail_headers():
    import email
    import email.policy

    from wpp.alerts.channels import EmailChannel, SmtpConfig
    from wpp.alerts.recipients import EMAIL, Recipient
    from wpp.masking import Secret
    from wpp.models import AlertRecord

    about = Subject(school_id=ORG, school_name="Языковая школа «Полиглот»", number_id=NUMBER,
                    number_name="Номер без названия")
    c = _down(LOGGED_OUT, "ru", about=about)
    alert = AlertRecord(incident_id="x", event=DOWN, recipient="email:d@school.ru", channel=EMAIL, shown_to="d@school.ru",
                        lang="ru", subject=c.subject, body=c.body, created_at=NOW, next_try_at=NOW)
    channel = EmailChannel(SmtpConfig(host="smtp.example.org", sender="console@school.example", user="u",
                                      password=Secret("smtp-Pa55word-very-secret-42")))
    msg = email.message_from_bytes(channel.data(alert, Recipient(EMAIL, "d@school.ru")), policy=email.policy.default)
    assert msg["Subject"] == c.subject == "«Номер без названия» (Языковая школа «Полиглот»): нужно заново отсканировать QR-код"
    assert msg["To"] == "d@school.ru" and msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == c.body
    assert "smtp-Pa55word" not in repr(channel)
