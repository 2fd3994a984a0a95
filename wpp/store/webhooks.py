"""Status pushed by the platform, in each backend: when the last event about a number came (``last_event_at`` on the
status board), the events seen lately (replays are refused by every replica), what the pushes said about the test
messages (``wpp_console_test_messages``), and how many pushes ended how (``wpp_console_webhook_counts``).

Mixed into :class:`~wpp.store.sqlite.SqliteStore`, :class:`~wpp.store.postgres.PostgresStore` and
:class:`~wpp.store.supabase.SupabaseStore`. SQLite makes its tables (and the board's column) itself on first use;
PostgreSQL and Supabase get them from ``supabase/migrations/20261127000000_wpp_console_webhooks.sql``, whose SQL
functions PostgreSQL calls directly and Supabase through ``.rpc()``.

Methods (the same in every backend; every failure is a StoreError in words):

* ``note_status_event(integration_id, *, at)``: the board entry's ``last_event_at`` becomes ``at`` unless it is later
  already; False (nothing written) when the number has no board entry yet. ``save_status`` never touches it;
* ``webhook_seen(key, *, integration_id, at, keep_s)``: True the first time ``key`` is seen within ``keep_s``
  seconds (and it is remembered from then on), False for a replay; older keys are forgotten on the way;
* ``webhook_unseen(key)``: forget ``key`` again (its handling failed: the platform's retry must be taken);
* ``save_test_message(record)``: a test message the platform accepted (one that exists already stays as it is);
* ``advance_test_message(integration_id, message_id, *, status, at, detail=None)``: a delivery update; the message
  only moves forward (:data:`wpp.models.DELIVERY_STEPS`); False when it is unknown or already that far;
* ``test_messages(integration_id, *, limit=10, message_id=None)``: newest first (one, by its id);
* ``add_webhook_counts(counts)``: add :class:`~wpp.models.WebhookCount` s (``n`` added, ``last_at`` the latest);
* ``webhook_counts()``: every count.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

from ..errors import StoreError
from ..i18n import N_
from ..models import DELIVERY_STEPS, DeliveryRecord, WebhookCount
from ._common import check_limit, ref_id, scrub_stored
from ._common import pg_guard as _pg_guard
from ._common import sb_guard as _sb_guard
from ._common import sqlite_guard as _sqlite_guard

MESSAGES_TABLE = "wpp_console_test_messages"
SEEN_TABLE = "wpp_console_webhook_seen"
COUNTS_TABLE = "wpp_console_webhook_counts"
MESSAGE_COLUMNS = ("integration_id", "message_id", "sent_at", "recipient", "status", "status_at", "detail", "actor")
_BUG = N_("This is a bug in the console; tell the administrator.")
_KEY_MAX = 300
_ID_MAX = 200


# --- values and rows -----------------------------------------------------------------------------------------
def _id(value: Any) -> str:
    iid = ref_id(value) if isinstance(value, str) else None
    if not iid:
        raise StoreError(N_("A pushed event could not be saved."), action=_BUG, detail="no integration id")
    return iid


def _message_id(value: Any) -> str:
    text = str(value if value is not None else "").strip()
    if not text or len(text) > _ID_MAX:
        raise StoreError(N_("A test message could not be saved."), action=_BUG, detail="no usable message id")
    return text


def _time(value: Any, what: str) -> float:
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = float("nan")
    if t != t:
        raise StoreError(N_("A pushed event could not be saved."), action=_BUG, detail=f"{what} must be Unix seconds")
    return t


def _step(status: Any) -> str:
    if status not in DELIVERY_STEPS:
        raise StoreError(N_("A test message could not be saved."), action=_BUG,
                         detail=f"status must be one of {', '.join(DELIVERY_STEPS)}")
    return str(status)


def message_values(record: DeliveryRecord, secrets: Iterable[str | None] = ()) -> dict:
    if not isinstance(record, DeliveryRecord):
        raise StoreError(N_("A test message could not be saved."), action=_BUG, detail=f"got {type(record).__name__}")
    return {
        "integration_id": _id(record.integration_id),
        "message_id": _message_id(record.message_id),
        "sent_at": _time(record.sent_at, "sent_at"),
        "recipient": str(record.to or "")[:100],
        "status": _step(record.status),
        "status_at": None if record.status_at is None else _time(record.status_at, "status_at"),
        "detail": scrub_stored(str(record.detail)[:500], secrets) if record.detail else None,
        "actor": str(record.actor)[:200] if record.actor else None,
    }


def message_from_row(row: Mapping) -> DeliveryRecord:
    return DeliveryRecord(
        integration_id=str(row["integration_id"]),
        message_id=str(row["message_id"]),
        sent_at=float(row["sent_at"]),
        to=str(row.get("recipient") or ""),
        status=str(row.get("status") or "accepted"),
        status_at=None if row.get("status_at") is None else float(row["status_at"]),
        detail=None if row.get("detail") is None else str(row["detail"]),
        actor=None if row.get("actor") is None else str(row["actor"]),
    )


def seen_args(key: Any, integration_id: Any, at: Any, keep_s: Any) -> tuple[str, str | None, float, float]:
    text = str(key or "")
    if not text or len(text) > _KEY_MAX:
        raise StoreError(N_("A pushed event could not be saved."), action=_BUG, detail="no usable event key")
    return text, (ref_id(integration_id) if integration_id else None), _time(at, "at"), _time(keep_s, "keep_s")


def count_rows(counts: Iterable[WebhookCount]) -> list[dict]:
    """The counts, one per (scope, kind) (added up), as the SQL function takes them."""
    merged: dict[tuple[str, str], dict] = {}
    for c in counts:
        if not isinstance(c, WebhookCount) or not c.scope or not c.kind or int(c.n) < 0:
            raise StoreError(N_("The webhook counts could not be saved."), action=_BUG, detail="bad count")
        scope = "*" if c.scope == "*" else (ref_id(c.scope) or str(c.scope))
        row = merged.setdefault((scope, str(c.kind)), {"scope": scope, "kind": str(c.kind)[:40], "n": 0,
                                                       "last_at": None})
        row["n"] += int(c.n)
        if c.last_at is not None:
            row["last_at"] = max(float(c.last_at), row["last_at"] or float(c.last_at))
    return list(merged.values())


def count_from_row(row: Mapping) -> WebhookCount:
    return WebhookCount(scope=str(row["scope"]), kind=str(row["kind"]), n=int(row.get("n") or 0),
                        last_at=None if row.get("last_at") is None else float(row["last_at"]))


def _rank(status: str) -> int:
    return DELIVERY_STEPS.index(status)


# =================================================================================================================
# SQLite
# =================================================================================================================
_SQLITE_SCHEMA = (
    f"""
    CREATE TABLE IF NOT EXISTS {MESSAGES_TABLE} (
        integration_id  TEXT NOT NULL,
        message_id      TEXT NOT NULL,
        sent_at         REAL NOT NULL,
        recipient       TEXT NOT NULL DEFAULT '',
        status          TEXT NOT NULL DEFAULT 'accepted',
        status_at       REAL,
        detail          TEXT,
        actor           TEXT,
        PRIMARY KEY (integration_id, message_id)
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {MESSAGES_TABLE}_recent ON {MESSAGES_TABLE} (integration_id, sent_at DESC)",
    f"CREATE INDEX IF NOT EXISTS {MESSAGES_TABLE}_sent ON {MESSAGES_TABLE} (sent_at)",
    f"""
    CREATE TABLE IF NOT EXISTS {SEEN_TABLE} (
        key             TEXT PRIMARY KEY NOT NULL,
        integration_id  TEXT,
        at              REAL NOT NULL
    )
    """,
    f"CREATE INDEX IF NOT EXISTS {SEEN_TABLE}_at ON {SEEN_TABLE} (at)",
    f"""
    CREATE TABLE IF NOT EXISTS {COUNTS_TABLE} (
        scope    TEXT NOT NULL,
        kind     TEXT NOT NULL,
        n        INTEGER NOT NULL DEFAULT 0,
        last_at  REAL,
        PRIMARY KEY (scope, kind)
    )
    """,
)




class SqliteWebhooks:
    """The webhooks' records in the SQLite file (tables and the board's column made on first use)."""

    _webhook_tables_ready = False

    def _webhook_tables(self) -> None:
        if self._webhook_tables_ready:
            return
        with self._write() as c:  # type: ignore[attr-defined]
            for stmt in _SQLITE_SCHEMA:
                c.execute(stmt)
            columns = {r[1] for r in c.execute("PRAGMA table_info(wpp_console_status)")}
            if "last_event_at" not in columns:
                c.execute("ALTER TABLE wpp_console_status ADD COLUMN last_event_at REAL")
        self._webhook_tables_ready = True

    @_sqlite_guard
    def note_status_event(self, integration_id: str, *, at: float) -> bool:
        iid, t = _id(integration_id), _time(at, "at")
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            cur = c.execute("UPDATE wpp_console_status SET last_event_at = max(coalesce(last_event_at, ?1), ?1)"
                            " WHERE integration_id = ?2", (t, iid))
            return cur.rowcount > 0

    @_sqlite_guard
    def webhook_seen(self, key: str, *, integration_id: str | None, at: float, keep_s: float) -> bool:
        k, iid, t, keep = seen_args(key, integration_id, at, keep_s)
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"DELETE FROM {SEEN_TABLE} WHERE at < ?", (t - keep,))
            cur = c.execute(f"INSERT OR IGNORE INTO {SEEN_TABLE} (key, integration_id, at) VALUES (?, ?, ?)",
                            (k, iid, t))
            return cur.rowcount > 0

    @_sqlite_guard
    def webhook_unseen(self, key: str) -> None:
        k = seen_args(key, None, 0.0, 0.0)[0]
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"DELETE FROM {SEEN_TABLE} WHERE key = ?", (k,))

    @_sqlite_guard
    def save_test_message(self, record: DeliveryRecord) -> None:
        v = message_values(record, self._secrets.all())  # type: ignore[attr-defined]
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            c.execute(f"INSERT OR IGNORE INTO {MESSAGES_TABLE} ({', '.join(MESSAGE_COLUMNS)})"
                      f" VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})", [v[k] for k in MESSAGE_COLUMNS])

    @_sqlite_guard
    def advance_test_message(self, integration_id: str, message_id: str, *, status: str, at: float,
                             detail: str | None = None) -> bool:
        iid, mid, step, t = _id(integration_id), _message_id(message_id), _step(status), _time(at, "at")
        text = scrub_stored(str(detail)[:500], self._secrets.all()) if detail else None  # type: ignore[attr-defined]
        lower = DELIVERY_STEPS[:_rank(step)]
        if not lower:
            return False
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            cur = c.execute(
                f"UPDATE {MESSAGES_TABLE} SET status = ?, status_at = ?, detail = coalesce(?, detail)"
                f" WHERE integration_id = ? AND message_id = ? AND status IN ({', '.join('?' * len(lower))})",
                (step, t, text, iid, mid, *lower))
            return cur.rowcount > 0

    @_sqlite_guard
    def test_messages(self, integration_id: str, *, limit: int = 10,
                      message_id: str | None = None) -> list[DeliveryRecord]:
        iid = _id(integration_id)
        self._webhook_tables()
        if message_id is not None:
            rows = self._conn().execute(  # type: ignore[attr-defined]
                f"SELECT * FROM {MESSAGES_TABLE} WHERE integration_id = ? AND message_id = ?",
                (iid, str(message_id))).fetchall()
        else:
            rows = self._conn().execute(  # type: ignore[attr-defined]
                f"SELECT * FROM {MESSAGES_TABLE} WHERE integration_id = ? ORDER BY sent_at DESC, message_id LIMIT ?",
                (iid, check_limit(limit))).fetchall()
        return [message_from_row(dict(r)) for r in rows]

    @_sqlite_guard
    def add_webhook_counts(self, counts: Iterable[WebhookCount]) -> None:
        rows = count_rows(counts)
        if not rows:
            return
        self._webhook_tables()
        with self._write() as c:  # type: ignore[attr-defined]
            for r in rows:
                c.execute(f"INSERT INTO {COUNTS_TABLE} (scope, kind, n, last_at) VALUES (?, ?, ?, ?)"
                          " ON CONFLICT (scope, kind) DO UPDATE SET n = n + excluded.n,"
                          " last_at = max(coalesce(last_at, excluded.last_at), coalesce(excluded.last_at, last_at))",
                          (r["scope"], r["kind"], r["n"], r["last_at"]))

    @_sqlite_guard
    def webhook_counts(self) -> list[WebhookCount]:
        self._webhook_tables()
        rows = self._conn().execute(f"SELECT * FROM {COUNTS_TABLE} ORDER BY scope, kind").fetchall()  # type: ignore[attr-defined]
        return [count_from_row(dict(r)) for r in rows]


# =================================================================================================================
# PostgreSQL (psycopg): the migration's tables and functions
# =================================================================================================================


class PostgresWebhooks:
    """The webhooks' records on PostgreSQL (see the module docstring)."""

    @_pg_guard
    def note_status_event(self, integration_id: str, *, at: float) -> bool:
        iid, t = _id(integration_id), _time(at, "at")
        row = self._run(lambda c: c.execute("select public.wpp_note_status_event(%s, %s) as ok",  # type: ignore[attr-defined]
                                            (iid, t)).fetchone())
        return bool(row and row["ok"])

    @_pg_guard
    def webhook_seen(self, key: str, *, integration_id: str | None, at: float, keep_s: float) -> bool:
        args = seen_args(key, integration_id, at, keep_s)
        row = self._run(lambda c: c.execute("select public.wpp_webhook_seen(%s, %s, %s, %s) as ok",  # type: ignore[attr-defined]
                                            args).fetchone())
        return bool(row and row["ok"])

    @_pg_guard
    def webhook_unseen(self, key: str) -> None:
        k = seen_args(key, None, 0.0, 0.0)[0]
        self._run(lambda c: c.execute("select public.wpp_webhook_unseen(%s)", (k,)))  # type: ignore[attr-defined]

    @_pg_guard
    def save_test_message(self, record: DeliveryRecord) -> None:
        v = message_values(record, self._known_secrets())  # type: ignore[attr-defined]
        self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"insert into public.{MESSAGES_TABLE} ({', '.join(MESSAGE_COLUMNS)})"
            f" values ({', '.join(['%s'] * len(MESSAGE_COLUMNS))}) on conflict (integration_id, message_id) do nothing",
            [v[k] for k in MESSAGE_COLUMNS]))

    @_pg_guard
    def advance_test_message(self, integration_id: str, message_id: str, *, status: str, at: float,
                             detail: str | None = None) -> bool:
        iid, mid, step, t = _id(integration_id), _message_id(message_id), _step(status), _time(at, "at")
        text = scrub_stored(str(detail)[:500], self._known_secrets()) if detail else None  # type: ignore[attr-defined]
        row = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            "select public.wpp_advance_test_message(%s, %s, %s, %s, %s) as ok", (iid, mid, step, t, text)).fetchone())
        return bool(row and row["ok"])

    @_pg_guard
    def test_messages(self, integration_id: str, *, limit: int = 10,
                      message_id: str | None = None) -> list[DeliveryRecord]:
        iid = _id(integration_id)
        if message_id is not None:
            rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
                f"select * from public.{MESSAGES_TABLE} where integration_id = %s and message_id = %s",
                (iid, str(message_id))).fetchall())
        else:
            rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
                f"select * from public.{MESSAGES_TABLE} where integration_id = %s"
                " order by sent_at desc, message_id limit %s", (iid, check_limit(limit))).fetchall())
        return [message_from_row(r) for r in rows]

    @_pg_guard
    def add_webhook_counts(self, counts: Iterable[WebhookCount]) -> None:
        rows = count_rows(counts)
        if rows:
            self._run(lambda c: c.execute("select public.wpp_add_webhook_counts(%s)",  # type: ignore[attr-defined]
                                          (self._jsonb(rows),)))  # type: ignore[attr-defined]

    @_pg_guard
    def webhook_counts(self) -> list[WebhookCount]:
        rows = self._run(lambda c: c.execute(  # type: ignore[attr-defined]
            f"select * from public.{COUNTS_TABLE} order by scope, kind").fetchall())
        return [count_from_row(r) for r in rows]


# =================================================================================================================
# Supabase (PostgREST): the same tables and functions, through the API
# =================================================================================================================


def _rpc_bool(res: Any, name: str) -> bool:
    if not isinstance(res.data, bool):  # -> "... sent an answer that could not be read"
        raise ValueError(f"{name} answered {json.dumps(res.data, default=str)[:80]!r}")
    return res.data


class SupabaseWebhooks:
    """The webhooks' records on Supabase (see the module docstring)."""

    @_sb_guard(N_("Saving a number's status"))
    def note_status_event(self, integration_id: str, *, at: float) -> bool:
        iid, t = _id(integration_id), _time(at, "at")
        res = self._client.rpc("wpp_note_status_event", {"p_id": iid, "p_at": t}).execute()  # type: ignore[attr-defined]
        return _rpc_bool(res, "wpp_note_status_event")

    @_sb_guard(N_("Saving a pushed event"))
    def webhook_seen(self, key: str, *, integration_id: str | None, at: float, keep_s: float) -> bool:
        k, iid, t, keep = seen_args(key, integration_id, at, keep_s)
        res = self._client.rpc("wpp_webhook_seen", {  # type: ignore[attr-defined]
            "p_key": k, "p_id": iid, "p_at": t, "p_keep_s": keep}).execute()
        return _rpc_bool(res, "wpp_webhook_seen")

    @_sb_guard(N_("Saving a pushed event"))
    def webhook_unseen(self, key: str) -> None:
        k = seen_args(key, None, 0.0, 0.0)[0]
        self._client.rpc("wpp_webhook_unseen", {"p_key": k}).execute()  # type: ignore[attr-defined]

    @_sb_guard(N_("Saving a test message"))
    def save_test_message(self, record: DeliveryRecord) -> None:
        v = message_values(record, self._known_secrets())  # type: ignore[attr-defined]
        (self._client.table(MESSAGES_TABLE)  # type: ignore[attr-defined]
         .upsert(v, on_conflict="integration_id,message_id", ignore_duplicates=True).execute())

    @_sb_guard(N_("Saving a test message"))
    def advance_test_message(self, integration_id: str, message_id: str, *, status: str, at: float,
                             detail: str | None = None) -> bool:
        iid, mid, step, t = _id(integration_id), _message_id(message_id), _step(status), _time(at, "at")
        text = scrub_stored(str(detail)[:500], self._known_secrets()) if detail else None  # type: ignore[attr-defined]
        res = self._client.rpc("wpp_advance_test_message", {  # type: ignore[attr-defined]
            "p_id": iid, "p_message_id": mid, "p_status": step, "p_at": t, "p_detail": text}).execute()
        return _rpc_bool(res, "wpp_advance_test_message")

    @_sb_guard(N_("Reading the test messages"))
    def test_messages(self, integration_id: str, *, limit: int = 10,
                      message_id: str | None = None) -> list[DeliveryRecord]:
        iid = _id(integration_id)
        q = self._client.table(MESSAGES_TABLE).select("*").eq("integration_id", iid)  # type: ignore[attr-defined]
        if message_id is not None:
            data = q.eq("message_id", str(message_id)).execute().data or []
        else:
            n = check_limit(limit)
            if n == 0:
                return []
            data = q.order("sent_at", desc=True).order("message_id").limit(n).execute().data or []
        return [message_from_row(r) for r in data]

    @_sb_guard(N_("Saving the webhook counts"))
    def add_webhook_counts(self, counts: Iterable[WebhookCount]) -> None:
        rows = count_rows(counts)
        if rows:
            self._client.rpc("wpp_add_webhook_counts", {"p_rows": rows}).execute()  # type: ignore[attr-defined]

    @_sb_guard(N_("Reading the webhook counts"))
    def webhook_counts(self) -> list[WebhookCount]:
        rows = self._all_pages(lambda: self._client.table(COUNTS_TABLE).select("*")  # type: ignore[attr-defined]
                               .order("scope").order("kind"))
        return [count_from_row(r) for r in rows]


__all__ = [
    "COUNTS_TABLE",
    "MESSAGES_TABLE",
    "PostgresWebhooks",
    "SEEN_TABLE",
    "SqliteWebhooks",
    "SupabaseWebhooks",
]
