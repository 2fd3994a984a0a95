"""One state, one name (issue 27): every page, the diary, the history and the alerts say a number's state with the
glossary's one name (``wpp.glossary``), in both languages; the two kinds of key are named apart; the console has one
name. Checked over the whole message catalogue (what any page can say) and over the code that names states."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from wpp import glossary
from wpp.i18n import use_language
from wpp.models import ConnState, StatusRecord
from wpp.status.board import BoardEntry

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "wpp" / "locale" / "ru" / "LC_MESSAGES" / "wpp.po"

#: the other names one state had before (issue 27: "не на связи", "Телефон не подключён", "Телефон больше не
#: привязан", "Номер не работает") and their English twins: no message may say a state that way
OTHER_NAMES_RU = ("не на связи", "не подключён", "не подключен", "больше не привязан", "номер не работает",
                  "номер не работал", "ключ платформы", "ключа платформы", "ключом платформы")
OTHER_NAMES_EN = ("not connected", "no longer linked", "number down", "platform key")


@pytest.fixture(scope="module")
def catalogue():
    with PO.open("rb") as fh:
        return [m for m in read_po(fh, locale="ru") if m.id]


def _texts(value) -> tuple[str, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value or "",)


def test_every_state_has_one_name_in_each_language_and_no_two_states_share_one():
    with use_language("ru"):
        ru = {code: str(name) for code, name in glossary.STATE_NAMES.items()}
    en = {code: name.english for code, name in glossary.STATE_NAMES.items()}
    assert len(set(ru.values())) == len(ru) and len(set(en.values())) == len(en), (ru, en)
    assert all(re.search(r"[а-яё]", name, re.I) for name in ru.values()), ru
    assert ru[glossary.OFFLINE] == "Не в сети" and ru[glossary.ACCESS_REFUSED] == "Доступ отклонён"


@pytest.mark.parametrize("state", [s for s in ConnState])
def test_the_board_the_list_and_the_platforms_states_use_the_glossarys_names(state):
    record = StatusRecord("n1", state=state.value, raw=state.value, since=0.0, checked_at=0.0, ok_at=0.0)
    entry = BoardEntry.build(record, now=1.0)
    for lang in ("en", "ru"):
        with use_language(lang):
            if state is ConnState.UNKNOWN:
                assert str(glossary.state_name(glossary.UNKNOWN)) in str(entry.label)
            else:
                assert str(entry.label) == str(glossary.state_name(state.value)) == state.label


def test_a_refused_key_is_access_refused_everywhere_not_cannot_be_checked():
    record = StatusRecord("n1", state="connected", since=0.0, checked_at=0.0, failures=3,
                          error={"kind": "invalid_token", "status": 401, "message": "x", "action": ""})
    entry = BoardEntry.build(record, now=1.0)
    with use_language("ru"):
        assert str(entry.label) == "Доступ отклонён"


def test_no_message_names_a_state_or_a_key_another_way(catalogue):
    found = []
    for msg in catalogue:
        for text in _texts(msg.string):  # whole words ("не подключённому телефону" is no state's name)
            found += [(w, text) for w in OTHER_NAMES_RU if re.search(re.escape(w) + r"(?![а-яё])", text.lower())]
        for text in _texts(msg.id):
            found += [(w, text) for w in OTHER_NAMES_EN if w in text.lower()]
    assert not found, "\n".join(f"{w!r}: {t[:160]}" for w, t in found)


def test_the_two_keys_are_named_alike_in_every_message(catalogue):
    wrong = []
    for msg in catalogue:
        for mid, text in zip(_texts(msg.id), _texts(msg.string)):
            low = text.lower()
            if "permanent key" in mid and "постоянн" not in low:
                wrong.append(("permanent key", text))
            if "access key" in mid and not re.search(r"ключ\w* доступа", low):
                wrong.append(("access key", text))
    assert not wrong, "\n".join(f"{k}: {t[:160]}" for k, t in wrong)


def test_the_console_has_one_name(catalogue):
    latin = [text for msg in catalogue for text in _texts(msg.string) if "WPP Console" in text]
    assert not latin, latin
    with use_language("ru"):
        assert str(glossary.CONSOLE_NAME) == "Консоль WPP"


def test_the_advice_for_a_dropped_number_starts_with_the_phone():
    for may_fix in (True, False):
        with use_language("en"):
            assert str(glossary.advice(glossary.OFFLINE, may_fix=may_fix)).startswith(
                "Check that the school's phone is on and connected to the internet")
            assert str(glossary.short_advice(glossary.OFFLINE, may_fix=may_fix)).startswith(
                "Check that the phone is on and online")
        with use_language("ru"):
            assert str(glossary.advice(glossary.OFFLINE, may_fix=may_fix)).startswith("Проверьте, что телефон школы")


def test_a_problem_is_said_in_one_set_of_words_kept_by_the_glossary(catalogue):
    """The alerts ("“Reception”: offline since 09:12"), the Number page and the diary ("… is taking care of it: the
    number is offline since …") say a problem with the same words: the glossary's, written down once."""
    from wpp.alerts import message

    by_id = {m.id: m for m in catalogue}
    for kind, words in glossary.PROBLEM_WORDS.items():
        files = {loc[0] for loc in by_id[words.msgid].locations}
        assert files == {"wpp/glossary.py"}, (kind, files)  # nobody keeps a second copy of these words
        assert message._STATE_WORDS[kind] is words and glossary.problem_words(kind) is words
        with use_language("ru"):
            assert re.search(r"[а-яё]", str(words), re.I), kind
    assert set(glossary.PROBLEM_WORDS) == set(message.KINDS)  # every kind of problem an alert can be about
