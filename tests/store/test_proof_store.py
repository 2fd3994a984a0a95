"""Proof of delivery in every backend (``wpp/store/proof.py``): witnesses, checks that start only within the daily
limit and one at a time (also when many threads race), settle once, and each number's state read from the view
(SQLite and a real PostgreSQL running the migration; Supabase's request format with respx)."""
from __future__ import annotations

import json
import threading

import httpx
import pytest
import respx

from wpp.errors import StoreError
from wpp.models import DeliveryCheck
from wpp.store import SupabaseStore

IID = "11111111-2222-4333-8444-555555555555"
IID2 = "11111111-2222-4333-8444-666666666666"
ORG = "123e4567-e89b-12d3-a456-426614174000"


def check(code: str, at: float, iid: str = IID, timeout: float = 600.0) -> DeliveryCheck:
    return DeliveryCheck(code=code, integration_id=iid, organization_id=ORG, witness="79990001122", sent_at=at,
                         deadline=at + timeout, actor="WPP Console")


def test_witnesses_are_named_replaced_and_removed(store):
    assert store.witnesses() == []
    store.set_witness("*", "79990001122", actor="admin", at=1.0)
    store.set_witness(ORG.upper(), "79001112233", actor="anna", at=2.0)
    store.set_witness(ORG, "79001112244", actor="anna", at=3.0)  # replaced, one per school
    got = {w.scope: (w.phone, w.set_by, w.set_at) for w in store.witnesses()}
    assert got == {"*": ("79990001122", "admin", 1.0), ORG: ("79001112244", "anna", 3.0)}
    store.set_witness(ORG, None, actor="anna", at=4.0)
    assert [w.scope for w in store.witnesses()] == ["*"]
    for bad in ("12", "+79001112233", "7900111223344556"):
        with pytest.raises(StoreError):
            store.set_witness("*", bad, actor="x", at=5.0)


def test_a_check_starts_only_within_the_limit_and_one_at_a_time(store):
    day = 1000.0
    assert store.start_delivery_check(check("AAAAAA", day + 10), day_start=day, max_per_day=2)
    assert not store.start_delivery_check(check("BBBBBB", day + 20), day_start=day, max_per_day=2)  # one pending
    assert store.start_delivery_check(check("CCCCCC", day + 20, iid=IID2), day_start=day, max_per_day=2)  # another
    store.delivery_check_sent("AAAAAA", message_id="task-1")
    proven = store.settle_delivery_check(integration_id=IID, message_id="task-1", status="proven", at=day + 12)
    assert proven.code == "AAAAAA" and proven.status == "proven" and proven.settled_at == day + 12
    assert store.settle_delivery_check(code="AAAAAA", status="lost", at=day + 13) is None  # settled once
    assert store.start_delivery_check(check("DDDDDD", day + 30), day_start=day, max_per_day=2)
    assert store.overdue_delivery_checks(now=day + 100) == []
    overdue = store.overdue_delivery_checks(now=day + 30 + 600)
    assert {c.code for c in overdue} == {"DDDDDD"} or {c.code for c in overdue} == {"CCCCCC", "DDDDDD"}
    assert store.settle_delivery_check(code="DDDDDD", status="lost", at=day + 700).status == "lost"
    assert not store.start_delivery_check(check("EEEEEE", day + 800), day_start=day, max_per_day=2)  # the limit
    assert store.start_delivery_check(check("FFFFFF", day + 90_000), day_start=day + 86_400, max_per_day=2)  # next day
    assert [c.code for c in store.delivery_checks(integration_id=IID)] == ["FFFFFF", "DDDDDD", "AAAAAA"]


def test_each_numbers_state_comes_from_its_checks(store):
    assert store.delivery_states() == {}
    store.start_delivery_check(check("AAAAAA", 100.0), day_start=0, max_per_day=9)
    store.settle_delivery_check(code="AAAAAA", status="proven", at=101.0)
    for code, at, status in (("BBBBBB", 200.0, "lost"), ("CCCCCC", 300.0, "not_sent"), ("DDDDDD", 400.0, "dead")):
        store.start_delivery_check(check(code, at), day_start=0, max_per_day=9)
        store.settle_delivery_check(code=code, status=status, at=at + 1, detail="Recipient is not on WhatsApp")
    store.start_delivery_check(check("EEEEEE", 500.0), day_start=0, max_per_day=9)
    st = store.delivery_states()[IID]
    assert (st.proven_at, st.failing_since, st.pending_since, st.last_sent_at, st.checks) == \
        (101.0, 200.0, 500.0, 500.0, 5)
    assert st.failing
    store.settle_delivery_check(code="EEEEEE", status="proven", at=502.0, proven_by=IID2)
    st = store.delivery_states()[IID]
    assert (st.proven_at, st.failing_since, st.pending_since) == (502.0, None, None)
    (last,) = store.delivery_checks(integration_id=IID, limit=1)
    assert last.proven_by == IID2
    dead = [c for c in store.delivery_checks(integration_id=IID) if c.status == "dead"]
    assert dead[0].detail == "Recipient is not on WhatsApp"


def test_twenty_racers_never_exceed_the_limit(backend):
    stores = [backend.store] + [backend.reopen() for _ in range(3)]
    won: list[str] = []
    lock = threading.Lock()

    def race(i: int) -> None:
        s = stores[i % len(stores)]
        if s.start_delivery_check(check(f"R{i:05d}", 100.0 + i, timeout=0.5), day_start=0, max_per_day=3):
            with lock:
                won.append(f"R{i:05d}")

    threads = [threading.Thread(target=race, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        # every racer's check expired after 0.5 s, so only the limit (3 a day) holds them back
        assert 1 <= len(won) <= 3
        assert len(backend.store.delivery_checks(integration_id=IID, limit=100)) == len(won)
    finally:
        for s in stores[1:]:
            s.close()


# --- Supabase: PostgREST's request format ------------------------------------------------------------------------
URL = "https://abcdefghijklmnop.supabase.co"
REST = f"{URL}/rest/v1"
KEY = "sb_secret_Q1w2E3r4T5y6U7i8O9p0AaSsDdFf"


@pytest.fixture
def api():
    with respx.mock(base_url=REST, assert_all_called=False, assert_all_mocked=True) as router:
        yield router


def test_supabase_starts_settles_and_reads_through_the_api(api):
    sb = SupabaseStore(URL, KEY)
    start = api.post("/rpc/wpp_start_delivery_check").mock(return_value=httpx.Response(200, json=True))
    assert sb.start_delivery_check(check("AAAAAA", 10.0), day_start=0.0, max_per_day=3) is True
    sent = json.loads(start.calls.last.request.content)
    assert sent["p_max"] == 3 and sent["p_check"]["code"] == "AAAAAA" and sent["p_check"]["status"] == "pending"
    settle = api.patch("/wpp_console_delivery_checks").mock(return_value=httpx.Response(200, json=[{
        "code": "AAAAAA", "integration_id": IID, "organization_id": ORG, "witness": "79990001122", "sent_at": 10.0,
        "deadline": 610.0, "status": "proven", "settled_at": 12.0}]))
    done = sb.settle_delivery_check(integration_id=IID, message_id="task-1", status="proven", at=12.0)
    assert done.status == "proven" and done.settled_at == 12.0
    query = str(settle.calls.last.request.url)
    assert "status=eq.pending" in query and "message_id=eq.task-1" in query
    api.get("/wpp_console_delivery_states").mock(return_value=httpx.Response(200, json=[{
        "integration_id": IID, "proven_at": 12.0, "failing_since": None, "pending_since": None,
        "last_sent_at": 10.0, "checks": 1}]))
    assert sb.delivery_states()[IID].proven_at == 12.0
    start.mock(return_value=httpx.Response(404, json={"code": "PGRST202", "details": None, "hint": None,
                                                      "message": "Could not find the function"}))
    with pytest.raises(StoreError) as info:  # part 6 of the migrations is not applied yet
        sb.start_delivery_check(check("BBBBBB", 20.0), day_start=0.0, max_per_day=3)
    assert KEY not in str(info.value.as_dict())


# --- kept in bounds -----------------------------------------------------------------------------------------------
DAY = 86_400.0


def _settled(store, code: str, at: float, status: str, iid: str = IID) -> None:
    assert store.start_delivery_check(check(code, at, iid=iid), day_start=at, max_per_day=9)
    if status != "pending":
        assert store.settle_delivery_check(code=code, status=status, at=at + 5) is not None


def test_old_checks_go_in_small_batches_and_the_ones_a_state_is_read_from_stay(store):
    now = 1_000 * DAY
    # IID: proven every day long ago, then not delivering since 200 days ago (a check a day since), one under way
    for n, days in enumerate((300, 290, 280)):
        _settled(store, f"PRVN{n}A", now - days * DAY, "proven")
    for n, days in enumerate((200, 150, 120, 100)):
        _settled(store, f"FAIL{n}A", now - days * DAY, "lost" if n % 2 else "dead")
    _settled(store, "RECNTA", now - 10 * DAY, "lost")
    _settled(store, "PENDNA", now - 95 * DAY, "pending")  # never settled (its deadline long past): stays
    # IID2: proven long ago, then a check that was not taken, then recent proofs
    _settled(store, "OLDP2A", now - 400 * DAY, "proven", iid=IID2)
    _settled(store, "NOTS2A", now - 399 * DAY, "not_sent", iid=IID2)
    _settled(store, "NEWP2A", now - 5 * DAY, "proven", iid=IID2)
    before = store.delivery_states()

    cutoff = now - 90 * DAY
    assert store.prune("delivery_checks", before=cutoff, limit=3) == 3  # 7 old ones go, 3 at a time
    assert store.prune("delivery_checks", before=cutoff, limit=3) == 3
    assert store.prune("delivery_checks", before=cutoff, limit=3) == 1
    assert store.prune("delivery_checks", before=cutoff, limit=3) == 0
    kept = {c.code for c in store.delivery_checks(limit=100)}
    # the last proof (280 days) and the first failure after it (200 days) say "not delivering since", so they stay
    assert kept == {"PRVN2A", "FAIL0A", "RECNTA", "PENDNA", "NEWP2A"}
    after = store.delivery_states()
    for iid in (IID, IID2):
        b, a = before[iid], after[iid]
        assert (a.proven_at, a.failing_since, a.pending_since, a.last_sent_at) == \
            (b.proven_at, b.failing_since, b.pending_since, b.last_sent_at)


def test_a_numbers_only_old_check_stays_and_recent_checks_are_never_pruned(store):
    now = 1_000 * DAY
    _settled(store, "ONLYOA", now - 500 * DAY, "proven")
    for days in (30, 20, 10):
        _settled(store, f"R{days}AAA", now - days * DAY, "lost", iid=IID2)
    assert store.prune("delivery_checks", before=now - 90 * DAY, limit=500) == 0
    assert len(store.delivery_checks(limit=100)) == 4
    assert store.delivery_states()[IID].proven_at == now - 500 * DAY + 5
