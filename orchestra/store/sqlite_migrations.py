"""Upgrading a state database written by an older orchestra, inside the caller's transaction.

Schema 1 had one table per record kind with a column per field; schema 2 keeps every record
as a JSON document (orchestra.store.sqlite). The conversion works on plain dicts, so it does
not depend on today's record classes: a field they no longer have is ignored when read.
"""
from __future__ import annotations

import json
import sqlite3

from orchestra.store.errors import StoreOpenError

_V1_TABLES = {
    # table: (kind, key column, columns in order)
    "nodes": ("nodes", "name", ("name", "labels", "facts", "cpu_millis", "memory_bytes", "status",
                                "schedulable", "taints", "last_heartbeat_ms", "usage", "runtime_status",
                                "desired_revision", "desired_hash", "agent_instance", "registered_at_ms")),
    "workloads": ("workloads", "name", ("name", "spec_json", "generation", "created_at_ms", "updated_at_ms",
                                        "template_generation")),
    "replicas": ("replicas", "id", ("id", "workload", "idx", "node", "phase", "reason", "exit_code", "restarts",
                                    "container_id", "generation", "created_at_ms", "updated_at_ms", "usage",
                                    "next_restart_ms", "cpu_millis", "memory_bytes", "incarnation")),
    "join_tokens": ("join_tokens", "id", ("id", "secret_hash", "expires_at_ms", "labels", "revoked",
                                          "created_at_ms")),
    "revoked_certificates": ("revoked_certificates", "serial", ("serial", "revoked_at_ms", "reason")),
}
_JSON_COLUMNS = {"labels", "facts", "taints", "usage"}
_BOOL_COLUMNS = {"schedulable", "revoked"}


def _v1_document(table: str, row: dict) -> dict:
    doc = {}
    for column, value in row.items():
        if column in _JSON_COLUMNS:
            value = json.loads(value)
        elif column in _BOOL_COLUMNS:
            value = bool(value)
        doc[column] = value
    if "cpu_millis" in doc:
        key = "capacity" if table == "nodes" else "requests"
        doc[key] = {"cpu_millis": doc.pop("cpu_millis"), "memory_bytes": doc.pop("memory_bytes")}
    if "idx" in doc:
        doc["index"] = doc.pop("idx")
    return doc


def _from_v1(db: sqlite3.Connection) -> None:
    from orchestra.store.sqlite import SCHEMA, _statements
    events = db.execute("SELECT id, time_ms, kind, object, type, reason, message FROM events").fetchall()
    seq = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchall()
    documents = []
    for table, (kind, key_column, columns) in _V1_TABLES.items():
        for values in db.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall():
            doc = _v1_document(table, dict(zip(columns, values)))
            documents.append((kind, str(doc[key_column]), doc.get("workload", ""), doc.get("node", ""),
                              json.dumps(doc, sort_keys=True, separators=(",", ":"))))
    for table in (*_V1_TABLES, "events"):
        db.execute(f"DROP TABLE {table}")
    for stmt in _statements(SCHEMA):
        db.execute(stmt)
    db.executemany("INSERT INTO records (kind, key, workload, node, data) VALUES (?, ?, ?, ?, ?)", documents)
    db.executemany("INSERT INTO events (id, time_ms, kind, object, type, reason, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   events)
    if seq:   # event ids keep growing from where they were, also past events already dropped
        db.execute("DELETE FROM sqlite_sequence WHERE name = 'events'")
        db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?)", (seq[0][0],))


_STEPS = {1: _from_v1}


def migrate(db: sqlite3.Connection, version: int) -> None:
    """Bring a database at schema `version` to the current one (the caller holds a transaction)."""
    while version in _STEPS:
        _STEPS[version](db)
        version += 1
    from orchestra.store.sqlite import SCHEMA_VERSION
    if version != SCHEMA_VERSION:
        raise StoreOpenError(f"state database has schema version {version}, which this orchestra cannot upgrade")
