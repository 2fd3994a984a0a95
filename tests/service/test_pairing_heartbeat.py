"""The pairing panel's heartbeat, at the service level: it marks the number watched on the shared board (so the
status poller asks fast while someone has the QR code on screen) and never raises to the page."""
from __future__ import annotations

from wpp.clock import ManualClock
from wpp.errors import StoreError
from wpp.status import StatusEngine

from .conftest import ORG


def _with_engine(svc, store, clock):
    svc.engine = StatusEngine(store, svc.poll_check, clock=clock)
    return svc.engine


def test_the_panel_reports_then_beats_and_the_number_is_watched(svc, store):
    clock = ManualClock(start=1_800_000_000.0)
    engine = _with_engine(svc, store, clock)
    try:
        iid = svc.create_number(ORG, name="Front desk", actor="alice").integration.id
        svc.pairing_state(iid)  # the panel's run: it asks the platform itself and reports to the board
        assert svc.pairing_heartbeat(iid) is None
        assert engine.watched(iid)
        assert store.load_statuses([iid])[iid].watched_until == clock.time() + engine.policy.watch_s
        clock.advance(engine.policy.watch_s + 1)  # the tab was closed: no heartbeat since
        assert not engine.watched(iid)
    finally:
        engine.stop()


def test_a_heartbeat_never_raises_to_the_page(svc, store):
    iid = svc.create_number(ORG, name="Front desk", actor="alice").integration.id
    assert svc.engine is None
    svc.pairing_heartbeat(iid)  # no status engine (scripts, some tests): nothing to do

    class Broken:
        def pairing_heartbeat(self, integration_id, **kw):
            raise RuntimeError("a bug in the engine")

    svc.engine = Broken()
    svc.pairing_heartbeat(iid)

    class BrokenStore:
        def __getattr__(self, name):
            return getattr(store, name)

        def watch_status(self, *a, **kw):
            raise StoreError("the database is away")

    svc.engine = StatusEngine(BrokenStore(), svc.poll_check, clock=ManualClock(start=1_800_000_000.0))
    try:
        svc.pairing_state(iid)
        svc.pairing_heartbeat(iid)
        assert not svc.engine.watched(iid)
    finally:
        svc.engine.stop()
        svc.engine = None


def test_a_viewer_never_makes_a_number_fast_nor_keeps_an_operator_from_doing_so(svc, store):
    from wpp.access.roles import Access, Grant, Role

    clock = ManualClock(start=1_800_000_000.0)
    engine = _with_engine(svc, store, clock)
    try:
        iid = svc.create_number(ORG, name="Front desk", actor="alice").integration.id
        svc.pairing_state(iid)
        viewer = svc.for_session({}, access=Access.of([Grant(Role.VIEWER, frozenset({ORG}))]))
        operator = svc.for_session({}, access=Access.of([Grant(Role.OPERATOR, frozenset({ORG}))]))
        viewer.pairing_heartbeat(iid)
        assert not engine.watched(iid), "a viewer (who sees no QR code) made the number polled fast"
        operator.pairing_heartbeat(iid)  # in the same second: the viewer's try holds no slot
        assert engine.watched(iid)
    finally:
        engine.stop()
