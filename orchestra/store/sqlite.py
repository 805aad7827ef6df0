"""SQLite backend of the store.

Journal: WAL, so readers of the file (e.g. a backup) never block the plane's writer.
synchronous=FULL: with WAL, NORMAL survives a killed process but may lose the newest
commits on power loss; the plane promises that an Apply that returned success is
durable, and its write rate (applies, bindings, throttled heartbeats) is low enough
that one fsync per commit costs nothing that matters.

One connection, serialised by a re-entrant lock: the plane is one process (the data dir
lock guarantees it), and a transaction holding the lock gives callers isolation too.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator

from orchestra.store import codec
from orchestra.store.base import DEFAULT_EVENT_RETENTION, Store
from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.records import EventRecord
from orchestra.store.sqlite_migrations import migrate

SCHEMA_VERSION = 2

# Records are JSON documents (orchestra.store.codec) under (kind, key); `workload` and `node`
# are copies of the record's fields of those names, for the indexes.
SCHEMA = """
CREATE TABLE records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    workload TEXT NOT NULL,
    node TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX records_by_workload ON records (kind, workload);
CREATE INDEX records_by_node ON records (kind, node);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    object TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX events_by_object ON events (object, id);
"""


def _statements(script: str) -> list[str]:
    return [stmt for stmt in script.split(";") if stmt.strip()]


# Below this much free space, an I/O error is reported as what it almost surely is: a full disk.
LOW_SPACE_BYTES = 1 << 20


def free_bytes(path: str) -> int | None:
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(path)) or ".")
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def describe_sqlite_error(exc: sqlite3.Error, path: str) -> str:
    """One line an operator can act on, for the errors that happen when opening a database."""
    text = str(exc)
    low = text.lower()
    if "disk is full" in low or "database or disk is full" in low:
        return f"disk full: cannot write the state database {path} ({text})"
    if "disk i/o error" in low and path != ":memory:":
        # SQLite says IOERR when e.g. growing the WAL index fails for want of space.
        free = free_bytes(path)
        if free is not None and free < LOW_SPACE_BYTES:
            return f"disk full: cannot write the state database {path} ({free} bytes free; {text})"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"state database {path} is corrupt ({text}); restore it from a backup or move it away"
    if "readonly" in low or "read-only" in low or "unable to open" in low or "permission" in low:
        return f"state database {path} is not writable ({text})"
    return f"cannot open state database {path}: {text}"


class SqliteStore(Store):
    """`path` is a file, or ":memory:" for a private in-memory database (tests)."""

    def __init__(self, path: str, event_retention: int = DEFAULT_EVENT_RETENTION):
        self.path = path
        self.event_retention = event_retention
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreOpenError(describe_sqlite_error(exc, path)) from exc
        try:
            self._open()
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreOpenError(describe_sqlite_error(exc, path)) from exc
        except StoreOpenError:
            self._db.close()
            raise

    def _open(self) -> None:
        db = self._db
        db.execute("PRAGMA busy_timeout = 5000")
        rows = db.execute("PRAGMA quick_check").fetchall()
        if [r[0] for r in rows] != ["ok"]:
            # One row may hold several problems, one per line: the first few, on one line.
            problems = [line for r in rows for line in str(r[0]).splitlines() if line.strip()]
            detail = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
            raise StoreOpenError(f"state database {self.path} is corrupt (quick_check: {detail}); "
                                 f"restore it from a backup or move it away")
        if self.path != ":memory:":
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreOpenError(f"state database {self.path}: cannot switch to WAL journal (got {mode})")
        db.execute("PRAGMA synchronous = FULL")
        db.execute("PRAGMA foreign_keys = ON")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreOpenError(f"state database {self.path} has schema version {version}, newer than this "
                                 f"orchestra understands ({SCHEMA_VERSION}); upgrade orchestra")
        if version < SCHEMA_VERSION:
            # Creating (or migrating) the schema and stamping its version is one transaction: a crash
            # leaves no half schema. executescript() would commit on its own: one statement at a time.
            db.execute("BEGIN IMMEDIATE")
            try:
                if version == 0:
                    for stmt in _statements(SCHEMA):
                        db.execute(stmt)
                else:
                    migrate(db, version)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # transactions
    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._exec("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._db.execute("ROLLBACK")
                raise
            self._depth = 0
            try:
                self._exec("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def _exec(self, sql: str, params=()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from exc

    def _write(self, sql: str, params=()) -> sqlite3.Cursor:
        # Outside a transaction each statement commits on its own (autocommit).
        with self._lock:
            return self._exec(sql, params)

    def _read(self, sql: str, params=()) -> list[tuple]:
        with self._lock:
            return self._exec(sql, params).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # records
    def get(self, cls, key):
        rows = self._read("SELECT data FROM records WHERE kind = ? AND key = ?", (cls.KIND, key))
        return codec.loads(cls, rows[0][0]) if rows else None

    def list(self, cls, **where):
        sql, params = "SELECT data FROM records WHERE kind = ?", [cls.KIND]
        for column in ("workload", "node"):
            if column in where:
                sql += f" AND {column} = ?"
                params.append(where.pop(column))
        if where:
            raise TypeError(f"cannot filter {cls.KIND} on {', '.join(where)}: only workload and node are indexed")
        return [codec.loads(cls, r[0]) for r in self._read(sql + " ORDER BY key", params)]

    def put(self, record) -> None:
        self._write("INSERT OR REPLACE INTO records (kind, key, workload, node, data) VALUES (?, ?, ?, ?, ?)",
                    (record.KIND, record.key, getattr(record, "workload", ""), getattr(record, "node", ""),
                     codec.dumps(record)))

    def delete(self, cls, key) -> bool:
        return self._write("DELETE FROM records WHERE kind = ? AND key = ?", (cls.KIND, key)).rowcount > 0

    # events
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        with self.transaction():
            cur = self._exec("INSERT INTO events (time_ms, kind, object, type, reason, message) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (time_ms, kind, obj, type_, reason, message))
            new_id = cur.lastrowid
            if new_id > self.event_retention:
                self._exec("DELETE FROM events WHERE id <= ?", (new_id - self.event_retention,))
            return new_id

    def _exec_many(self, sql: str, rows: list) -> None:
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            raise StoreError(describe_sqlite_error(exc, self.path)) from exc

    def put_events(self, events) -> None:
        if not events:
            return
        with self.transaction():
            self._exec_many("INSERT INTO events (id, time_ms, kind, object, type, reason, message) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [(e.id, e.time_ms, e.kind, e.object, e.type, e.reason, e.message) for e in events])
            newest = max(e.id for e in events)
            if newest > self.event_retention:
                self._exec("DELETE FROM events WHERE id <= ?", (newest - self.event_retention,))

    def apply_batch(self, puts, deletes, events) -> None:
        with self.transaction():
            if puts:
                self._exec_many("INSERT OR REPLACE INTO records (kind, key, workload, node, data) VALUES (?, ?, ?, ?, ?)",
                                [(r.KIND, r.key, getattr(r, "workload", ""), getattr(r, "node", ""), codec.dumps(r))
                                 for r in puts])
            if deletes:
                self._exec_many("DELETE FROM records WHERE kind = ? AND key = ?", [(c.KIND, k) for c, k in deletes])
            self.put_events(events)

    def list_events(self, after_id: int = 0, obj: str = "", limit: int = 0) -> list[EventRecord]:
        sql = "SELECT id, time_ms, kind, object, type, reason, message FROM events WHERE id > ?"
        params: list = [after_id]
        if obj:
            sql += " AND object = ?"
            params.append(obj)
        sql += " ORDER BY id"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        return [EventRecord(*r) for r in self._read(sql, params)]

    def last_event_id(self) -> int:
        # sqlite_sequence remembers the highest id ever given, also after old events were dropped.
        rows = self._read("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return rows[0][0] if rows else 0
