"""Which numbers need attention, why, and in which order."""
from __future__ import annotations

from wpp.errors import InvalidApiKey, PlatformUnreachable, WrongAccount
from wpp.i18n import Text
from wpp.models import StatusRecord
from wpp.status import BoardEntry, PollPolicy, error_to_dict, sort_key, triage

NOW = 1_800_000_000.0


def rec(state, *, ago=0.0, error=None, failures=0, iid="x"):
    return StatusRecord(integration_id=iid, state=state, since=NOW - ago, checked_at=NOW, failures=failures,
                        error=error_to_dict(error) if error else None)


def code(r, policy=PollPolicy()):
    a = triage(r, now=NOW, policy=policy)
    if a is not None:
        assert isinstance(a.text, Text) and a.message  # a translatable sentence
    return a.code if a else None


def test_reasons():
    assert code(rec("connected", ago=9999)) is None
    assert code(rec("qr_required", ago=60)) is None  # the QR codes are still being shown
    assert code(rec("qr_required", ago=240)) == "scan_overdue"  # longer than the QR sequence lasts
    assert code(rec("starting", ago=60)) is None
    assert code(rec("starting", ago=150)) == "starting_too_long"
    assert code(rec("offline", ago=1)) == "offline"
    assert code(rec("connected", error=InvalidApiKey(), failures=2)) == "key_rejected"
    assert code(rec("connected", error=WrongAccount(), failures=2)) == "key_rejected"
    assert code(rec("connected", error=PlatformUnreachable(), failures=2)) == "cannot_check"
    assert code(rec("connected", error=PlatformUnreachable(), failures=1)) is None  # one failure is calm
    assert code(None) is None


def test_the_limits_are_configurable():
    quick = PollPolicy(scan_overdue_s=60, starting_overdue_s=30)
    assert code(rec("qr_required", ago=90), quick) == "scan_overdue"
    assert code(rec("starting", ago=45), quick) == "starting_too_long"
    assert "1 minute" in triage(rec("qr_required", ago=90), now=NOW, policy=quick).message


def test_numbers_that_need_attention_come_first_most_urgent_first():
    records = {
        "fine": rec("connected", ago=10),
        "pairing": rec("qr_required", ago=30),
        "unreachable": rec("connected", error=PlatformUnreachable(), failures=3),
        "starting": rec("starting", ago=300),
        "scan": rec("qr_required", ago=600),
        "offline": rec("offline", ago=5),
        "key": rec("connected", error=InvalidApiKey(), failures=2),
    }
    board = {k: BoardEntry.build(StatusRecord(**{**r.__dict__, "integration_id": k}), now=NOW)
             for k, r in records.items()}
    order = sorted(list(records) + ["never-checked"], key=lambda k: (sort_key(board.get(k)), k))
    assert order[:5] == ["key", "offline", "scan", "starting", "unreachable"]
    assert set(order[5:]) == {"fine", "pairing", "never-checked"}
