"""Proof of delivery, in each backend: who receives the check messages (``wpp_console_witnesses``), every check and
what became of it (``wpp_console_delivery_checks``), and each number's state read from them
(``wpp_console_delivery_states``, a view: the same SQL in every backend).

Mixed into :class:`~wpp.store.sqlite.SqliteStore`, :class:`~wpp.store.postgres.PostgresStore` and
:class:`~wpp.store.supabase.SupabaseStore`. SQLite makes its tables and the view itself on first use; PostgreSQL and
Supabase get them from ``supabase/migrations/20261130000000_wpp_console_delivery_proof.sql`` (whose function
``wpp_start_delivery_check`` PostgreSQL calls directly and Supabase through ``.rpc()``).

Methods (the same in every backend; every failure is a StoreError in words):

* ``witnesses()`` / ``set_witness(scope, phone, *, actor, at)``: the witness of a school (or ``"*"``: every school
  without its own); ``phone`` None removes it;
* ``start_delivery_check(check, *, day_start, max_per_day)``: keep a new ``pending`` check, atomically refused
  (False) while the number has another one pending (not past its deadline) or already ``max_per_day`` checks sent
  since ``day_start`` — whichever replica, page or job asks;
* ``delivery_check_sent(code, *, message_id)``: the platform took it, under this id;
* ``settle_delivery_check(*, status, at, code=None, integration_id=None, message_id=None, detail=None,
  proven_by=None)``: a pending check (by its code, or by number and message id) becomes ``status``; the check as
  settled, or None when there is no such pending check (a second settlement changes nothing);
* ``overdue_delivery_checks(*, now)``: pending checks past their deadline;
* ``delivery_checks(*, integration_id=None, limit=20)``: newest first;
* ``delivery_states()``: every number's :class:`~wpp.models.DeliveryState` by integration id.
"""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import StoreError
from ..i18n import N_
from ..models import CHECK_STATUSES, DeliveryCheck, DeliveryState, Witness
from ._common import check_limit, ref_id, scrub_stored
from ._common import pg_guard as _pg_guard
from ._common import sb_guard as _sb_guard
from ._common import sqlite_guard as _sqlite_guard
from .retention import Prunable, register

WITNESSES_TABLE = "wpp_console_witnesses"
CHECKS_TABLE = "wpp_console_delivery_checks"
STATES_VIEW = "wpp_console_delivery_states"
CHECK_COLUMNS = ("code", "integration_id", "organization_id", "witness", "sent_at", "deadline", "status",
                 "message_id", "settled_at", "detail", "actor", "trigger", "proven_by")
_BUG = N_("This is a bug in the console; tell the administrator.")


def states_view_sql(prefix: str = "") -> str:
    """The view of every number's state, for SQLite (no prefix) and PostgreSQL (``public.``): when delivery was last
    proven, since when its checks fail (the first lost or dead check after the last proven one), since when one is
    pending."""
    t = f"{prefix}{CHECKS_TABLE}"
    return f"""
    select c.integration_id,
           max(case when c.status = 'proven' then c.settled_at end) as proven_at,
           min(case when c.status in ('lost', 'dead') and c.sent_at > coalesce(p.proven_sent, -1)
                    then c.sent_at end) as failing_since,
           max(case when c.status = 'pending' then c.sent_at end) as pending_since,
           max(c.sent_at) as last_sent_at,
           count(*) as checks
      from {t} c
      left join (select integration_id, max(sent_at) as proven_sent from {t} where status = 'proven'
                  group by integration_id) p on p.integration_id = c.integration_id
     group by c.integration_id"""


# --- values and rows -----------------------------------------------------------------------------------------
def _fail(detail: str, what=N_("A delivery check could not be saved.")) -> StoreError:
    return StoreError(what, action=_BUG, detail=detail)


def _id(value: Any) -> str:
    iid = ref_id(value) if isinstance(value, str) else None
    if not iid:
        raise _fail("no integration id")
    return iid


def _time(value: Any, what: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if t != t:
        raise _fail(f"{what} must be Unix seconds")
    return t


def _scope(value: Any) -> str:
    if value == "*":
        return "*"
    scope = ref_id(value) if isinstance(value, str) else None
    if not scope:
        raise _fail("a witness's scope is a school id or *", N_("The witness could not be saved."))
    return scope


def _phone(value: Any) -> str:
    text = str(value or "")
    if not (text.isascii() and text.isdigit() and 8 <= len(text) <= 15):
        raise _fail("a witness is 8-15 digits", N_("The witness could not be saved."))
    return text


def _code(value: Any) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 40:
        raise _fail("no usable check code")
    return text


def _status(value: Any) -> str:
    if value not in CHECK_STATUSES:
        raise _fail(f"status must be one of {', '.join(CHECK_STATUSES)}")
    return str(value)


def check_values(check: DeliveryCheck, secrets=()) -> dict:
    if not isinstance(check, DeliveryCheck):
        raise _fail(f"got {type(check).__name__}")
    return {
        "code": _code(check.code),
        "integration_id": _id(check.integration_id),
        "organization_id": str(check.organization_id or "")[:200],
        "witness": _phone(check.witness),
        "sent_at": _time(check.sent_at, "sent_at"),
        "deadline": _time(check.deadline, "deadline"),
        "status": _status(check.status),
        "message_id": str(check.message_id)[:200] if check.message_id else None,
        "settled_at": None if check.settled_at is None else _time(check.settled_at, "settled_at"),
        "detail": scrub_stored(str(check.detail)[:500], secrets) if check.detail else None,
        "actor": str(check.actor)[:200] if check.actor else None,
        "trigger": "manual" if check.trigger == "manual" else "schedule",
        "proven_by": ref_id(check.proven_by) if check.proven_by else None,
    }


def _opt(row: Mapping, name: str, kind=float):
    value = row.get(name)
    return None if value is None else kind(value)


def check_from_row(row: Mapping) -> DeliveryCheck:
    return DeliveryCheck(
        code=str(row["code"]), integration_id=str(row["integration_id"]),
        organization_id=str(row.get("organization_id") or ""), witness=str(row.get("witness") or ""),
        sent_at=float(row["sent_at"]), deadline=float(row["deadline"]), status=str(row.get("status") or "pending"),
        message_id=_opt(row, "message_id", str), settled_at=_opt(row, "settled_at"), detail=_opt(row, "detail", str),
        actor=_opt(row, "actor", str), trigger=str(row.get("trigger") or "schedule"),
        proven_by=_opt(row, "proven_by", str))


def state_from_row(row: Mapping) -> DeliveryState:
    return DeliveryState(integration_id=str(row["integration_id"]), proven_at=_opt(row, "proven_at"),
                         failing_since=_opt(row, "failing_since"), pending_since=_opt(row, "pending_since"),
                         last_sent_at=_opt(row, "last_sent_at"), checks=int(row.get("checks") or 0))


def witness_from_row(row: Mapping) -> Witness:
    return Witness(scope=str(row["scope"]), phone=str(row["phone"]), set_by=_opt(row, "set_by", str),
                   set_at=_opt(row, "set_at"))


def _settle_args(status, at, code, integration_id, message_id, detail, proven_by, secrets):
    step = _status(status)
    if step == "pending":
        raise _fail("a check settles as proven, lost, dead or not_sent")
    if code is None and not (integration_id and message_id):
        raise _fail("a check is found by its code, or by its number and message id")
    return {
        "status": step, "settled_at": _time(at, "at"),
        "detail": scrub_stored(str(detail)[:500], secrets) if detail else None,
        "proven_by": ref_id(proven_by) if proven_by else None,
    }, (None if code is None else _code(code)), (None if code is not None else _id(integration_id)), \
        (None if code is not None else str(message_id)[:200])


# --- kept in bounds (wpp.store.retention): old checks go, but never the ones a number's state is read from ----------
def kept_checks_sql(prefix: str = "") -> str:
    """The codes of the checks that say a number's state now (see :func:`states_view_sql`), kept however old: the
    newest check of each number, its newest proven one, and the first not delivered after that. Pruning the rest
    changes no number's "delivery proven 09:12" or "not delivering since …"."""
    t = f"{prefix}{CHECKS_TABLE}"
    return f"""
    select k.code
      from {t} k
      join (select integration_id, max(sent_at) as last_sent,
                   max(case when status = 'proven' then sent_at end) as proven_sent,
                   max(case when status = 'proven' then settled_at end) as proven_settled
              from {t} group by integration_id) s on s.integration_id = k.integration_id
     where k.sent_at = s.last_sent
        or (k.status = 'proven' and (k.sent_at = s.proven_sent or k.settled_at = s.proven_settled))
        or (k.status in ('lost', 'dead')
            and k.sent_at = (select min(f.sent_at) from {t} f
                              where f.integration_id = k.integration_id and f.status in ('lost', 'dead')
                                and f.sent_at > coalesce(s.proven_sent, -1)))"""


#: checks older than the retention go (WPP_KEEP_TEST_MESSAGES_DAYS, like the test messages), except those still under
#: way and those the number's state is read from; PostgreSQL and Supabase: ``wpp_prune_delivery_checks`` (migration
#: 20261201000000_wpp_console_delivery_checks_retention.sql)
register(Prunable("delivery_checks", CHECKS_TABLE,
                  f"sent_at < ? AND status <> 'pending' AND code NOT IN ({kept_checks_sql()})", "sent_at",
                  ensure="_proof_tables"))


# =================================================================================================================
# SQLite
# =================================================================================================================
_SQLITE_SCHEMA = (
    f"""
    CREATE TABLE IF NOT EXISTS {WITNESSES_TABLE} (
        scope   TEXT PRIMARY KEY NOT NULL,
        phone   TEXT NOT NULL,
        set_by  TEXT,
        set_at  REAL
    )
    """,
    f"""
    CREATE TABLE IF NOT EXISTS {CHECKS_TABLE} (
        code             TEXT PRIMARY KEY NOT NULL,
        integration_id   TEXT NOT NULL,
        organization_id  TEXT NOT NULL DEFAULT '',
        witness          TEXT NOT NULL,
        sent_at          REAL NOT NULL,
        deadline         REAL NOT NULL,
        status           TEXT NOT NULL DEFAULT 'pending',
        message_id       TEXT,
        settled_at       REAL,
        detail           TEXT,
        actor            TEXT,
        "trigger"        TEXT NOT NULL DEFAULT 'schedule',
        proven_by        TEXT
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {CHECKS_TABLE}_number ON {CHECKS_TABLE} (integration_id, sent_at DESC)",
    f"CREATE INDEX IF NOT EXISTS {CHECKS_TABLE}_message ON {CHECKS_TABLE} (integration_id, message_id)",
    f"CREATE VIEW IF NOT EXISTS {STATES_VIEW} AS {states_view_sql()}",
)




class SqliteProof:
    """Proof of delivery in the SQLite file (tables and view made on first use)."""

    _proof_tables_ready = False

    def _proof_tables(self) -> None:
        if self._proof_tables_ready:
            return
        with self._write() as c:  # type: ignore[attr-defined]
            for stmt in _SQLITE_SCHEMA:
                c.execute(stmt)
        self._proof_tables_ready = True

    @_sqlite_guard
    def witnesses(self) -> list[Witness]:
        self._proof_tables()
        rows = self._conn().execute(f"SELECT * FROM {WITNESSES_TABLE} ORDER BY scope").fetchall()  # type: ignore[attr-defined]
        return [witness_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def set_witness(self, scope: str, phone: str | None, *, actor: str | None, at: float) -> None:
        key = _scope(scope)
        self._proof_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            if phone is None:
                c.execute(f"DELETE FROM {WITNESSES_TABLE} WHERE scope = ?", (key,))
            else:
                c.execute(f"INSERT INTO {WITNESSES_TABLE} (scope, phone, set_by, set_at) VALUES (?, ?, ?, ?)"
                          " ON CONFLICT (scope) DO UPDATE SET phone = excluded.phone, set_by = excluded.set_by,"
                          " set_at = excluded.set_at", (key, _phone(phone), (actor or "")[:200], _time(at, "at")))

    @_sqlite_guard
    def start_delivery_check(self, check: DeliveryCheck, *, day_start: float, max_per_day: int) -> bool:
        v = check_values(check, self._secrets.all())  # type: ignore[attr-defined]
        start = _time(day_start, "day_start")
        self._proof_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            busy = c.execute(f"SELECT 1 FROM {CHECKS_TABLE} WHERE integration_id = ? AND status = 'pending'"
                             " AND deadline > ?", (v["integration_id"], v["sent_at"])).fetchone()
            n = c.execute(f"SELECT count(*) FROM {CHECKS_TABLE} WHERE integration_id = ? AND sent_at >= ?",
                          (v["integration_id"], start)).fetchone()[0]
            if busy is not None or n >= int(max_per_day):
                return False
            cols = ", ".join(f'"{k}"' for k in CHECK_COLUMNS)
            c.execute(f"INSERT INTO {CHECKS_TABLE} ({cols}) VALUES ({', '.join('?' * len(CHECK_COLUMNS))})",
                      [v[k] for k in CHECK_COLUMNS])
            return True

    @_sqlite_guard
    def delivery_check_sent(self, code: str, *, message_id: str) -> None:
        self._proof_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"UPDATE {CHECKS_TABLE} SET message_id = ? WHERE code = ?", (str(message_id)[:200], _code(code)))

    @_sqlite_guard
    def settle_delivery_check(self, *, status: str, at: float, code: str | None = None,
                              integration_id: str | None = None, message_id: str | None = None,
                              detail: str | None = None, proven_by: str | None = None) -> DeliveryCheck | None:
        sets, key, iid, mid = _settle_args(status, at, code, integration_id, message_id, detail, proven_by,
                                           self._secrets.all())  # type: ignore[attr-defined]
        self._proof_tables()
        where, args = (("code = ?", [key]) if key is not None else ("integration_id = ? AND message_id = ?", [iid, mid]))
        with self._write() as c:  # type: ignore[attr-defined]
            row = c.execute(f"SELECT * FROM {CHECKS_TABLE} WHERE {where} AND status = 'pending'", args).fetchone()
            if row is None:
                return None
            c.execute(f"UPDATE {CHECKS_TABLE} SET status = ?, settled_at = ?, detail = coalesce(?, detail),"
                      " proven_by = ? WHERE code = ?",
                      (sets["status"], sets["settled_at"], sets["detail"], sets["proven_by"], row["code"]))
            return check_from_row({**dict(row), **{k: v for k, v in sets.items() if v is not None}})

    @_sqlite_guard
    def overdue_delivery_checks(self, *, now: float) -> list[DeliveryCheck]:
        self._proof_tables()
        rows = self._conn().execute(  # type: ignore[attr-defined]
            f"SELECT * FROM {CHECKS_TABLE} WHERE status = 'pending' AND deadline <= ? ORDER BY deadline",
            (_time(now, "now"),)).fetchall()
        return [check_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def delivery_checks(self, *, integration_id: str | None = None, limit: int = 20) -> list[DeliveryCheck]:
        self._proof_tables()
        n = check_limit(limit)
        if integration_id is not None:
            rows = self._conn().execute(  # type: ignore[attr-defined]
                f"SELECT * FROM {CHECKS_TABLE} WHERE integration_id = ? ORDER BY sent_at DESC, code LIMIT ?",
                (_id(integration_id), n)).fetchall()
        else:
            rows = self._conn().execute(  # type: ignore[attr-defined]
                f"SELECT * FROM {CHECKS_TABLE} ORDER BY sent_at DESC, code LIMIT ?", (n,)).fetchall()
        return [check_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def delivery_states(self) -> dict[str, DeliveryState]:
        self._proof_tables()
        rows = self._conn().execute(f"SELECT * FROM {STATES_VIEW}").fetchall()  # type: ignore[attr-defined]
        return {r["integration_id"]: state_from_row(dict(r)) for r in rows}


# =================================================================================================================
# PostgreSQL (psycopg): the migration's tables, view and function
# =================================================================================================================


class PostgresProof:
    """Proof of delivery on PostgreSQL (see the module docstring)."""

    @_pg_guard
    def witnesses(self) -> list[Witness]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{WITNESSES_TABLE} order by scope").fetchall())
        return [witness_from_row(r) for r in rows]

    @_pg_guard
    def set_witness(self, scope: str, phone: str | None, *, actor: str | None, at: float) -> None:
        key = _scope(scope)
        if phone is None:
            self._run(lambda c: c.execute(f"delete from public.{WITNESSES_TABLE} where scope = %s", (key,)))  # type: ignore[attr-defined]
            return
        args = (key, _phone(phone), (actor or "")[:200], _time(at, "at"))
        self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"insert into public.{WITNESSES_TABLE} (scope, phone, set_by, set_at) values (%s, %s, %s, %s)"
            " on conflict (scope) do update set phone = excluded.phone, set_by = excluded.set_by,"
            " set_at = excluded.set_at", args))

    @_pg_guard
    def start_delivery_check(self, check: DeliveryCheck, *, day_start: float, max_per_day: int) -> bool:
        v = check_values(check, self._known_secrets())  # type: ignore[attr-defined]
        row = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            "select public.wpp_start_delivery_check(%s, %s, %s) as ok",
            (self._jsonb(v), _time(day_start, "day_start"), int(max_per_day))).fetchone())  # type: ignore[attr-defined]
        return bool(row and row["ok"])

    @_pg_guard
    def delivery_check_sent(self, code: str, *, message_id: str) -> None:
        self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"update public.{CHECKS_TABLE} set message_id = %s where code = %s", (str(message_id)[:200], _code(code))))

    @_pg_guard
    def settle_delivery_check(self, *, status: str, at: float, code: str | None = None,
                              integration_id: str | None = None, message_id: str | None = None,
                              detail: str | None = None, proven_by: str | None = None) -> DeliveryCheck | None:
        sets, key, iid, mid = _settle_args(status, at, code, integration_id, message_id, detail, proven_by,
                                           self._known_secrets())  # type: ignore[attr-defined]
        where, args = (("code = %s", [key]) if key is not None else ("integration_id = %s and message_id = %s", [iid, mid]))
        row = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"update public.{CHECKS_TABLE} set status = %s, settled_at = %s, detail = coalesce(%s, detail),"
            f" proven_by = %s where {where} and status = 'pending' returning *",
            [sets["status"], sets["settled_at"], sets["detail"], sets["proven_by"], *args]).fetchone())
        return check_from_row(row) if row else None

    @_pg_guard
    def overdue_delivery_checks(self, *, now: float) -> list[DeliveryCheck]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{CHECKS_TABLE} where status = 'pending' and deadline <= %s order by deadline",
            (_time(now, "now"),)).fetchall())
        return [check_from_row(r) for r in rows]

    @_pg_guard
    def delivery_checks(self, *, integration_id: str | None = None, limit: int = 20) -> list[DeliveryCheck]:
        n = check_limit(limit)
        if integration_id is not None:
            iid = _id(integration_id)
            rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
                f"select * from public.{CHECKS_TABLE} where integration_id = %s order by sent_at desc, code limit %s",
                (iid, n)).fetchall())
        else:
            rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
                f"select * from public.{CHECKS_TABLE} order by sent_at desc, code limit %s", (n,)).fetchall())
        return [check_from_row(r) for r in rows]

    @_pg_guard
    def delivery_states(self) -> dict[str, DeliveryState]:
        rows = self._run(lambda c: c.execute(f"select * from public.{STATES_VIEW}").fetchall())  # type: ignore[attr-defined]
        return {r["integration_id"]: state_from_row(r) for r in rows}


# =================================================================================================================
# Supabase (PostgREST): the same tables, view and function, through the API
# =================================================================================================================


class SupabaseProof:
    """Proof of delivery on Supabase (see the module docstring)."""

    @_sb_guard(N_("Reading the witnesses"))
    def witnesses(self) -> list[Witness]:
        data = self._client.table(WITNESSES_TABLE).select("*").order("scope").execute().data or []  # type: ignore[attr-defined]
        return [witness_from_row(r) for r in data]

    @_sb_guard(N_("Saving the witness"))
    def set_witness(self, scope: str, phone: str | None, *, actor: str | None, at: float) -> None:
        key = _scope(scope)
        table = self._client.table(WITNESSES_TABLE)  # type: ignore[attr-defined]
        if phone is None:
            table.delete().eq("scope", key).execute()
        else:
            table.upsert({"scope": key, "phone": _phone(phone), "set_by": (actor or "")[:200],
                          "set_at": _time(at, "at")}, on_conflict="scope").execute()

    @_sb_guard(N_("Saving a delivery check"))
    def start_delivery_check(self, check: DeliveryCheck, *, day_start: float, max_per_day: int) -> bool:
        v = check_values(check, self._known_secrets())  # type: ignore[attr-defined]
        res = self._client.rpc("wpp_start_delivery_check", {  # type: ignore[attr-defined]
            "p_check": v, "p_day_start": _time(day_start, "day_start"), "p_max": int(max_per_day)}).execute()
        if not isinstance(res.data, bool):
            raise ValueError("wpp_start_delivery_check did not answer true or false")
        return res.data

    @_sb_guard(N_("Saving a delivery check"))
    def delivery_check_sent(self, code: str, *, message_id: str) -> None:
        (self._client.table(CHECKS_TABLE).update({"message_id": str(message_id)[:200]})  # type: ignore[attr-defined]
         .eq("code", _code(code)).execute())

    @_sb_guard(N_("Saving a delivery check"))
    def settle_delivery_check(self, *, status: str, at: float, code: str | None = None,
                              integration_id: str | None = None, message_id: str | None = None,
                              detail: str | None = None, proven_by: str | None = None) -> DeliveryCheck | None:
        sets, key, iid, mid = _settle_args(status, at, code, integration_id, message_id, detail, proven_by,
                                           self._known_secrets())  # type: ignore[attr-defined]
        patch = {k: v for k, v in sets.items() if v is not None or k == "proven_by"}
        q = self._client.table(CHECKS_TABLE).update(patch).eq("status", "pending")  # type: ignore[attr-defined]
        q = q.eq("code", key) if key is not None else q.eq("integration_id", iid).eq("message_id", mid)
        data = q.execute().data or []
        return check_from_row(data[0]) if data else None

    @_sb_guard(N_("Reading the delivery checks"))
    def overdue_delivery_checks(self, *, now: float) -> list[DeliveryCheck]:
        data = (self._client.table(CHECKS_TABLE).select("*").eq("status", "pending")  # type: ignore[attr-defined]
                .lte("deadline", _time(now, "now")).order("deadline").limit(500).execute().data or [])
        return [check_from_row(r) for r in data]

    @_sb_guard(N_("Reading the delivery checks"))
    def delivery_checks(self, *, integration_id: str | None = None, limit: int = 20) -> list[DeliveryCheck]:
        n = check_limit(limit)
        if n == 0:
            return []
        q = self._client.table(CHECKS_TABLE).select("*")  # type: ignore[attr-defined]
        if integration_id is not None:
            q = q.eq("integration_id", _id(integration_id))
        data = q.order("sent_at", desc=True).order("code").limit(n).execute().data or []
        return [check_from_row(r) for r in data]

    @_sb_guard(N_("Reading the delivery checks"))
    def delivery_states(self) -> dict[str, DeliveryState]:
        rows = self._all_pages(lambda: self._client.table(STATES_VIEW).select("*")  # type: ignore[attr-defined]
                               .order("integration_id"))
        return {r["integration_id"]: state_from_row(r) for r in rows}


__all__ = ["CHECKS_TABLE", "PostgresProof", "STATES_VIEW", "SqliteProof", "SupabaseProof", "WITNESSES_TABLE",
           "states_view_sql"]
