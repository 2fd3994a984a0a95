"""What viewers read: a shared board read once per second however many ask, a version that moves only when
something shown moved, and no platform call caused by a viewer."""
from __future__ import annotations

from wpp.errors import PlatformUnreachable
from wpp.models import Status
from wpp.status import CheckResult

from tests.harness import run_together

from .helpers import CountingStore, add_number, run_for


def test_twenty_concurrent_viewers_share_one_store_read(store, make_engine, platform, clock):
    rows = [add_number(store, f"N{i}", n=i + 1) for i in range(30)]
    for r in rows:
        platform.set(r.id, "connected")
    make_engine(store, platform.check).tick()  # another process polls and fills the board
    asked = platform.count()

    counting = CountingStore(store)
    viewer_side = make_engine(counting, platform.check)
    boards, errors = run_together(lambda: viewer_side.board([r.id for r in rows]), 20)
    assert not errors, errors
    assert counting.board_reads == 1
    assert all(len(b) == 30 and b.version == boards[0].version for b in boards)

    clock.advance(1.0)
    for _ in range(5):  # the next second: one more read, whoever asks and how often
        run_together(lambda: viewer_side.board(), 20)
    assert counting.board_reads == 2
    assert platform.count() == asked  # viewers never made the platform be asked


def test_viewers_never_cause_platform_calls(store, make_engine, platform, clock):
    row = add_number(store)
    platform.set(row.id, "connected")
    poller = make_engine(store, platform.check, holder="poller")
    poller.tick()
    viewer = make_engine(store, platform.check, holder="viewer")
    viewer.tick()  # not the poller: asks nobody
    for _ in range(100):
        clock.advance(0.5)
        viewer.board()
        viewer.version
        viewer.attention_count()
    assert platform.count() == 1
    assert viewer.entry(row.id).connected


def test_the_version_changes_only_when_something_shown_changes(store, engine, platform, clock):
    a, b = add_number(store, "A", n=1), add_number(store, "B", n=2)
    platform.set(a.id, "connected")
    platform.set(b.id, "connected")
    engine.tick()
    v0, va0 = engine.version, engine.board([a.id]).version
    checked = engine.entry(a.id).checked_at

    run_for(engine, clock, 70)  # checked again, nothing new
    assert engine.entry(a.id).checked_at > checked
    assert engine.version == v0 and engine.board([a.id]).version == va0

    platform.fail(a.id, PlatformUnreachable())  # one failed poll: nothing shown changes
    run_for(engine, clock, 65)
    assert engine.version == v0

    platform.set(b.id, "offline")  # a visible change of B
    run_for(engine, clock, 70)
    v1 = engine.version
    assert v1 != v0
    assert engine.board([a.id]).version == va0  # A's own view did not change

    platform.fail(a.id, PlatformUnreachable(), times=100)  # A cannot be checked: visible
    run_for(engine, clock, 75)
    assert engine.entry(a.id).cannot_check
    assert engine.version != v1 and engine.board([a.id]).version != va0


def test_the_version_moves_when_a_number_starts_needing_attention(store, engine, platform, clock):
    row = add_number(store)
    engine.record(row.id, CheckResult(status=Status.parse("qr_required")))
    v0 = engine.version
    assert engine.attention_count() == 0
    clock.advance(200)  # nobody scanned: the QR codes ran out long ago
    assert engine.entry(row.id).attention.code == "scan_overdue"
    assert engine.version != v0
    assert engine.attention_count() == 1 and engine.attention_count([]) == 0


def test_the_board_is_immutable_and_absent_numbers_are_absent(store, engine, platform):
    row = add_number(store)
    platform.set(row.id, "connected")
    board = engine.board([row.id, "0b9a3b8e-0000-4000-8000-000000000000"])
    assert len(board) == 0  # nothing checked yet
    engine.tick()
    board = engine.board([row.id])
    entry = board[row.id]
    try:
        entry.state = "offline"  # type: ignore[misc]
    except AttributeError:
        pass
    else:  # pragma: no cover
        raise AssertionError("a board entry must be read-only")
    assert str(entry.label) == "Connected"


def test_when_the_database_stops_answering_viewers_keep_the_last_board(store, make_engine, platform, clock):
    from wpp.errors import StoreError

    row = add_number(store)
    platform.set(row.id, "connected")
    counting = CountingStore(store)
    eng = make_engine(counting, platform.check)
    eng.tick()
    shown = eng.board()

    def broken(*a, **k):
        raise StoreError()

    counting.load_statuses = broken
    counting.save_status = broken
    clock.advance(5)
    assert eng.board() == shown and eng.version == shown.version  # the last board, no error page
    entry = eng.record(row.id, CheckResult(status=Status.parse("offline")))  # the pairing panel still reports
    assert entry.state == "offline" and eng.entry(row.id).state == "offline"
