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

import json
import os
import sqlite3
import threading
from contextlib import contextmanager
from typing import Iterator

from orchestra.spec.model import Resources, Taint
from orchestra.store.base import DEFAULT_EVENT_RETENTION, Store
from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.records import EventRecord, JoinTokenRecord, NodeRecord, ReplicaRecord, WorkloadRecord

SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    labels TEXT NOT NULL,
    facts TEXT NOT NULL,
    cpu_millis INTEGER NOT NULL,
    memory_bytes INTEGER NOT NULL,
    status TEXT NOT NULL,
    schedulable INTEGER NOT NULL,
    taints TEXT NOT NULL,
    last_heartbeat_ms INTEGER NOT NULL,
    usage TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    desired_revision INTEGER NOT NULL,
    desired_hash TEXT NOT NULL,
    agent_instance TEXT NOT NULL,
    registered_at_ms INTEGER NOT NULL
);
CREATE TABLE workloads (
    name TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    template_generation INTEGER NOT NULL
);
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    workload TEXT NOT NULL,
    idx INTEGER NOT NULL,
    node TEXT NOT NULL,
    phase TEXT NOT NULL,
    reason TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    restarts INTEGER NOT NULL,
    container_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    usage TEXT NOT NULL,
    next_restart_ms INTEGER NOT NULL,
    cpu_millis INTEGER NOT NULL,
    memory_bytes INTEGER NOT NULL,
    incarnation INTEGER NOT NULL
);
CREATE INDEX replicas_by_workload ON replicas (workload, idx);
CREATE INDEX replicas_by_node ON replicas (node);
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
CREATE TABLE join_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    labels TEXT NOT NULL,
    revoked INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE revoked_certificates (
    serial TEXT PRIMARY KEY,
    revoked_at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL
);
"""

_NODE_COLS = ("name, labels, facts, cpu_millis, memory_bytes, status, schedulable, taints, last_heartbeat_ms, "
              "usage, runtime_status, desired_revision, desired_hash, agent_instance, registered_at_ms")
_WORKLOAD_COLS = "name, spec_json, generation, created_at_ms, updated_at_ms, template_generation"
_REPLICA_COLS = ("id, workload, idx, node, phase, reason, exit_code, restarts, container_id, generation, "
                 "created_at_ms, updated_at_ms, usage, next_restart_ms, cpu_millis, memory_bytes, incarnation")


def _dump(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _load(text: str):
    # Most usage/label columns are empty: skip the JSON decoder for them (hot in list_replicas).
    return {} if text == "{}" else json.loads(text)


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
            detail = "; ".join(str(r[0]) for r in rows[:3])
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
        if version == 0:
            # Creating the schema and stamping its version is one transaction: a crash leaves no half schema.
            db.execute("BEGIN IMMEDIATE")
            try:
                # executescript() would commit on its own: run the statements one by one.
                for stmt in SCHEMA.split(";"):
                    if stmt.strip():
                        db.execute(stmt)
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

    # nodes
    @staticmethod
    def _node(row) -> NodeRecord:
        return NodeRecord(
            name=row[0], labels=_load(row[1]), facts=_load(row[2]), capacity=Resources(row[3], row[4]),
            status=row[5], schedulable=bool(row[6]), taints=[Taint(**t) for t in json.loads(row[7])] if row[7] != "[]" else [],
            last_heartbeat_ms=row[8], usage=_load(row[9]), runtime_status=row[10],
            desired_revision=row[11], desired_hash=row[12], agent_instance=row[13], registered_at_ms=row[14])

    def get_node(self, name: str) -> NodeRecord | None:
        rows = self._read(f"SELECT {_NODE_COLS} FROM nodes WHERE name = ?", (name,))
        return self._node(rows[0]) if rows else None

    def list_nodes(self) -> list[NodeRecord]:
        return [self._node(r) for r in self._read(f"SELECT {_NODE_COLS} FROM nodes ORDER BY name")]

    def put_node(self, n: NodeRecord) -> None:
        taints = [{"key": t.key, "value": t.value, "effect": t.effect} for t in n.taints]
        self._write(f"INSERT OR REPLACE INTO nodes ({_NODE_COLS}) VALUES ({','.join('?' * 15)})", (
            n.name, _dump(n.labels), _dump(n.facts), n.capacity.cpu_millis, n.capacity.memory_bytes, n.status,
            int(n.schedulable), _dump(taints), n.last_heartbeat_ms, _dump(n.usage), n.runtime_status,
            n.desired_revision, n.desired_hash, n.agent_instance, n.registered_at_ms))

    def delete_node(self, name: str) -> bool:
        return self._write("DELETE FROM nodes WHERE name = ?", (name,)).rowcount > 0

    # workloads
    @staticmethod
    def _workload(row) -> WorkloadRecord:
        return WorkloadRecord(name=row[0], spec_json=row[1], generation=row[2], created_at_ms=row[3],
                              updated_at_ms=row[4], template_generation=row[5])

    def get_workload(self, name: str) -> WorkloadRecord | None:
        rows = self._read(f"SELECT {_WORKLOAD_COLS} FROM workloads WHERE name = ?", (name,))
        return self._workload(rows[0]) if rows else None

    def list_workloads(self) -> list[WorkloadRecord]:
        return [self._workload(r) for r in self._read(f"SELECT {_WORKLOAD_COLS} FROM workloads ORDER BY name")]

    def put_workload(self, w: WorkloadRecord) -> None:
        self._write(f"INSERT OR REPLACE INTO workloads ({_WORKLOAD_COLS}) VALUES (?, ?, ?, ?, ?, ?)",
                    (w.name, w.spec_json, w.generation, w.created_at_ms, w.updated_at_ms, w.template_generation))

    def delete_workload(self, name: str) -> bool:
        with self.transaction():
            self._exec("DELETE FROM replicas WHERE workload = ?", (name,))
            return self._exec("DELETE FROM workloads WHERE name = ?", (name,)).rowcount > 0

    # replicas
    @staticmethod
    def _replica(row) -> ReplicaRecord:
        return ReplicaRecord(
            id=row[0], workload=row[1], index=row[2], node=row[3], phase=row[4], reason=row[5], exit_code=row[6],
            restarts=row[7], container_id=row[8], generation=row[9], created_at_ms=row[10], updated_at_ms=row[11],
            usage=_load(row[12]), next_restart_ms=row[13], requests=Resources(row[14], row[15]),
            incarnation=row[16])

    def get_replica(self, replica_id: str) -> ReplicaRecord | None:
        rows = self._read(f"SELECT {_REPLICA_COLS} FROM replicas WHERE id = ?", (replica_id,))
        return self._replica(rows[0]) if rows else None

    def list_replicas(self, workload: str = "", node: str = "", bound: bool | None = None) -> list[ReplicaRecord]:
        where, params = [], []
        if bound is not None:
            where.append("node != ''" if bound else "node = ''")
        if workload:
            where.append("workload = ?")
            params.append(workload)
        if node:
            where.append("node = ?")
            params.append(node)
        sql = f"SELECT {_REPLICA_COLS} FROM replicas"
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [self._replica(r) for r in self._read(sql + " ORDER BY workload, idx", params)]

    def put_replica(self, r: ReplicaRecord) -> None:
        self._write(f"INSERT OR REPLACE INTO replicas ({_REPLICA_COLS}) VALUES ({','.join('?' * 17)})", (
            r.id, r.workload, r.index, r.node, r.phase, r.reason, r.exit_code, r.restarts, r.container_id,
            r.generation, r.created_at_ms, r.updated_at_ms, _dump(r.usage), r.next_restart_ms,
            r.requests.cpu_millis, r.requests.memory_bytes, r.incarnation))

    def delete_replica(self, replica_id: str) -> bool:
        return self._write("DELETE FROM replicas WHERE id = ?", (replica_id,)).rowcount > 0

    # events
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        with self.transaction():
            cur = self._exec("INSERT INTO events (time_ms, kind, object, type, reason, message) "
                             "VALUES (?, ?, ?, ?, ?, ?)", (time_ms, kind, obj, type_, reason, message))
            new_id = cur.lastrowid
            if new_id > self.event_retention:
                self._exec("DELETE FROM events WHERE id <= ?", (new_id - self.event_retention,))
            return new_id

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

    # join tokens and revoked certificates
    @staticmethod
    def _token(row) -> JoinTokenRecord:
        return JoinTokenRecord(id=row[0], secret_hash=row[1], expires_at_ms=row[2], labels=json.loads(row[3]),
                               revoked=bool(row[4]), created_at_ms=row[5])

    def put_join_token(self, t: JoinTokenRecord) -> None:
        self._write("INSERT OR REPLACE INTO join_tokens (id, secret_hash, expires_at_ms, labels, revoked, "
                    "created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
                    (t.id, t.secret_hash, t.expires_at_ms, _dump(t.labels), int(t.revoked), t.created_at_ms))

    def get_join_token(self, token_id: str) -> JoinTokenRecord | None:
        rows = self._read("SELECT id, secret_hash, expires_at_ms, labels, revoked, created_at_ms FROM join_tokens "
                          "WHERE id = ?", (token_id,))
        return self._token(rows[0]) if rows else None

    def list_join_tokens(self) -> list[JoinTokenRecord]:
        return [self._token(r) for r in self._read(
            "SELECT id, secret_hash, expires_at_ms, labels, revoked, created_at_ms FROM join_tokens ORDER BY id")]

    def revoke_join_token(self, token_id: str) -> bool:
        return self._write("UPDATE join_tokens SET revoked = 1 WHERE id = ?", (token_id,)).rowcount > 0

    def revoke_certificate(self, serial: str, time_ms: int, reason: str = "") -> None:
        self._write("INSERT OR IGNORE INTO revoked_certificates (serial, revoked_at_ms, reason) VALUES (?, ?, ?)",
                    (serial, time_ms, reason))

    def is_certificate_revoked(self, serial: str) -> bool:
        return bool(self._read("SELECT 1 FROM revoked_certificates WHERE serial = ?", (serial,)))

    def list_revoked_certificates(self) -> list[str]:
        return [r[0] for r in self._read("SELECT serial FROM revoked_certificates ORDER BY serial")]
