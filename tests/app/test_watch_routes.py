"""Issue 23, for whoever runs the console: the watch starts with the real server (``streamlit run``) and nobody has
to open a page for a drop to be polled and alerted; ``/_wpp/health`` says whether this replica's watch runs (503 when
its poller stopped); ``/_wpp/metrics`` speaks Prometheus' text format behind a bearer key."""
from __future__ import annotations

import secrets
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.testclient import TestClient

from wpp.masking import Secret
from wpp.service import ops
from wpp.store.sqlite import SqliteStore

TOKEN = "metrics-" + "k" * 24


@pytest.fixture
def running(tmp_path, sim):
    """A process-wide service as the server builds it (its engine and alert desk running), on the simulator."""
    from wpp.config import Settings
    from wpp.service import build_service

    svc = build_service(Settings(wpp_base_url=sim.base_url, wpp_secret=sim.secret, data_dir=str(tmp_path),
                                 alert_recipients={"*": ["ops@school.example"]}, smtp_host="smtp.school.example"))
    yield svc
    svc.close()
    svc.client.close()
    svc.store.close()


def _client(svc, token=TOKEN):
    from wppui.routes import routes

    return TestClient(Starlette(routes=routes(service_of=lambda: svc,
                                              metrics_token_of=lambda: Secret(token) if token else None)))


def _wait(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_health_is_200_while_the_watch_runs_and_503_with_the_reason_when_the_poller_stops(running, monkeypatch):
    monkeypatch.setattr(ops, "HEALTH_CACHE_S", 0.0)
    _wait(lambda: running.engine.is_leader and running.alerts._lease_until is not None)
    with _client(running) as client:
        r = client.get("/_wpp/health")
        body = r.json()
        assert r.status_code == 200 and body["status"] == "ok", body
        assert body["watch"]["poller_running"] and body["watch"]["alerts_running"]
        assert body["leases"]["status-poller"] == running.engine.holder
        assert body["leases"]["alert-sender"] == running.alerts.holder
        assert r.headers["cache-control"] == "no-store"
        assert "ops@school.example" not in r.text and running.secret not in r.text  # no secret, no recipient

        running.engine.stop()  # the poller died (or was stopped): nothing is watched on this replica
        r = client.get("/_wpp/health")
        assert r.status_code == 503
        assert r.json()["status"] == "fail"
        problems = " ".join(r.json()["problems"])
        assert "poller of this replica is not running" in problems
        assert "nobody holds the status poller's lease" not in problems  # it just gave the lease up: not yet


def test_health_is_503_when_nobody_polls_or_checks_are_far_overdue(running, monkeypatch):
    from wpp.models import StatusRecord

    monkeypatch.setattr(ops, "HEALTH_CACHE_S", 0.0)
    _wait(lambda: running.engine.is_leader)
    running.engine.stop()  # a poller stuck somewhere: checks come due and nobody asks
    now = running.clock.time()
    row = running.store.create("123e4567-e89b-12d3-a456-426614174000", "Front desk",
                               {"wppApiKey": "k" * 30, "wppAccountNumber": "0000000000042"})
    running.store.save_status(StatusRecord(integration_id=row.id, state="connected", next_check_at=now - 3600,
                                           ok_at=now - 3600, observed_at=now - 3600))
    time.sleep(running.engine.policy.board_ttl_s + 0.1)  # the board is read again
    report = ops.health(running)
    assert not report.ok and any("3600 s overdue" in p or "overdue" in p for p in report.problems), report.problems
    assert report.detail["checks"]["oldest_due_s"] >= 3600
    report = ops.health(running, now=time.time() + 3600)  # an hour on: the lease ran out long ago
    assert any("nobody holds the status poller's lease" in p for p in report.problems)


def test_health_says_so_when_the_configuration_cannot_be_used():
    from wppui.routes import routes

    def broken():
        raise RuntimeError("no configuration")

    with TestClient(Starlette(routes=routes(service_of=broken))) as client:
        r = client.get("/_wpp/health")
        assert r.status_code == 503 and r.json()["status"] == "fail"


def test_metrics_parse_with_prometheus_and_refuse_a_missing_or_wrong_key(running):
    _wait(lambda: running.engine.stats()["checks"] >= 0 and running.engine.is_leader)
    with _client(running) as client:
        assert client.get("/_wpp/metrics").status_code == 401
        assert client.get("/_wpp/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/_wpp/metrics", headers={"Authorization": TOKEN}).status_code == 401  # no scheme
        r = client.get("/_wpp/metrics", headers={"Authorization": "Basic " + TOKEN}).status_code
        assert r == 401
        r = client.get("/_wpp/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert TOKEN not in r.text
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name in ("wpp_watch_up", "wpp_poller_leader", "wpp_status_requests", "wpp_pushes", "wpp_token_mints",
                 "wpp_numbers", "wpp_alerts", "wpp_oldest_due_check_age_seconds", "wpp_records_pruned"):
        assert name in families, sorted(families)
    up = {s.labels["part"]: s.value for s in families["wpp_watch_up"].samples}
    assert up == {"poller": 1.0, "alerts": 1.0}
    assert families["wpp_status_requests"].type == "counter"
    assert {s.labels["state"] for s in families["wpp_numbers"].samples} >= {"connected", "offline", "cannot_check"}


def test_metrics_do_not_exist_without_a_key_and_every_request_has_its_own_registry(running):
    from prometheus_client import REGISTRY

    with _client(running, token=None) as client:
        assert client.get("/_wpp/metrics").status_code == 404
    before = set(REGISTRY._names_to_collectors)  # the process-wide default registry
    body, _ = ops.metrics_text(running)
    assert b"wpp_status_requests_total" in body
    assert set(REGISTRY._names_to_collectors) == before and not any(n.startswith("wpp_") for n in before)


# --- the real server: nobody opens a page ------------------------------------------------------------------------
def test_the_real_server_watches_from_its_start_with_nobody_connecting(tmp_path):
    """``streamlit run`` in demo mode; no browser, no page view, no request but the tests' own: the simulator and the
    watch start with the server, a number's drop is polled, and its alert reaches the demo outbox. Stopping the
    server gives the poller's and the alert sender's leases up."""
    from tests.harness import AppProcess, seed_numbers
    from wpp.alerts.desk import ALERT_LEASE
    from wpp.status import POLLER_LEASE

    app = AppProcess("watch", tmp_path / "data", log_dir=tmp_path, WPP_POLL_CONNECTED_SECONDS=2,
                     WPP_POLL_OFFLINE_SECONDS=2, WPP_ALERT_AFTER_MINUTES=0.05)
    http = httpx.Client(timeout=10)
    try:
        app.start()
        app.wait_simulator(30)  # started by the server itself: nobody asked for a page
        http.post(f"{app.sim_url}/_sim/knobs", json={"push_events": False}).raise_for_status()  # found by polling
        (number,) = seed_numbers(app.sim_url, app.db_path, 1, name="Ресепшн", connected=1)
        store = SqliteStore(app.db_path)
        try:
            _wait(lambda: (rec := store.load_statuses([number["id"]]).get(number["id"])) is not None
                  and rec.state == "connected", timeout=60)
            http.post(f"{app.sim_url}/_sim/accounts/{number['session']}/status",
                      json={"state": "offline"}).raise_for_status()
            dropped = time.monotonic()
            _wait(lambda: any(a.integration_id == number["id"] and a.event == "down"
                              for a in store.list_alerts()), timeout=90)
            print(f"drop -> alert in the outbox: {time.monotonic() - dropped:.1f} s")
            assert store.load_statuses([number["id"]])[number["id"]].state == "offline"
            assert store.lease_holder(POLLER_LEASE, now=time.time()) is not None
            health = http.get(f"{app.url}/_wpp/health")
            assert health.status_code == 200 and health.json()["checks"]["numbers"] == 1
        finally:
            store.close()
    finally:
        app.stop()
        http.close()
    store = SqliteStore(app.db_path)
    try:
        # a clean shutdown gave the leases up: another replica would take over at once
        assert store.lease_holder(POLLER_LEASE, now=time.time()) is None
        assert store.lease_holder(ALERT_LEASE, now=time.time()) is None
    finally:
        store.close()


def test_the_lifespan_builds_the_one_service_pages_use_and_closes_it_on_shutdown(real_mode, app):
    """In-process: the lifespan (the server's start) builds the process-wide service with its watch running; a page
    run afterwards uses that very object (no second engine in the process); the shutdown stops the poller and the
    alert sender and gives their leases up."""
    import anyio

    from wpp.alerts.desk import ALERT_LEASE
    from wpp.status import POLLER_LEASE
    from wppui import state

    seen = {}

    async def serve():
        async with state.lifespan(None):
            seen["services"] = list(state.STARTED_SERVICES)  # built by the server's start, before anyone asked
            assert len(seen["services"]) == 1, seen
            svc = seen["svc"] = seen["services"][0]
            await anyio.to_thread.run_sync(lambda: _wait(lambda: svc.engine.is_leader, timeout=20))
            seen["running"] = svc.engine.running
            app.run()  # a page view while the server runs
            seen["page_svc"] = state.service()
            seen["after_page"] = list(state.STARTED_SERVICES)

    anyio.run(serve)
    svc = seen["svc"]
    assert seen["running"] and seen["page_svc"] is svc and seen["after_page"] == [svc]  # no second service
    assert not app.exception, app.exception
    assert not svc.engine.running and state.STARTED_SERVICES == []
    now = time.time()
    assert svc.store.lease_holder(POLLER_LEASE, now=now) is None
    assert svc.store.lease_holder(ALERT_LEASE, now=now) is None


def test_a_configuration_that_cannot_be_used_does_not_stop_the_server(tmp_path):
    """``streamlit run`` with a wrong setting: the server starts all the same, its log says the watch did not start
    (and why, naming the setting), the health route says 503 and why, and nothing was started behind it."""
    from tests.harness import AppProcess

    app = AppProcess("broken", tmp_path / "data", log_dir=tmp_path, WPP_KEEP_HISTORY_DAYS="0")
    http = httpx.Client(timeout=10)
    try:
        app.start()
        _wait(lambda: "the watch did not start" in app.log_tail(20_000), timeout=30)
        assert "WPP_KEEP_HISTORY_DAYS" in app.log_tail(20_000)
        r = http.get(f"{app.url}/_wpp/health")
        assert r.status_code == 503 and r.json()["status"] == "fail"
        assert "configuration cannot be used" in " ".join(r.json()["problems"])
        assert http.get(f"{app.url}/_stcore/health").text.strip() == "ok"  # the server itself runs
        with pytest.raises(httpx.TransportError):  # no demo simulator: nothing was built on a broken configuration
            http.get(f"{app.sim_url}/_sim/stats", timeout=2)
    finally:
        app.stop()
        http.close()
