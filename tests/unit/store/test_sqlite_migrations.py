"""A state database of schema 1 (a table per record kind) opens as schema 2 with nothing lost."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from orchestra.spec.model import Resources, Taint
from orchestra.store import SqliteStore
from orchestra.store.sqlite import SCHEMA_VERSION

# The schema 1 that orchestra 0.1 wrote, verbatim.
V1_SCHEMA = (Path(__file__).parent / "v1_schema.sql").read_text()


def _v1_database(path: str) -> None:
    db = sqlite3.connect(path)
    for stmt in V1_SCHEMA.split(";"):
        if stmt.strip():
            db.execute(stmt)
    db.execute("INSERT INTO nodes VALUES ('vm-1', ?, ?, 2000, 4096, 'Ready', 0, ?, 5, '{}', 'available', 7, 'h', "
               "'i', 3)", (json.dumps({"zone": "a"}), json.dumps({"cpus": 2}),
                           json.dumps([{"key": "gpu", "value": "yes", "effect": "NoSchedule"}])))
    db.execute("INSERT INTO workloads VALUES ('web', '{\"x\":1}', 2, 1, 2, 2)")
    db.execute("INSERT INTO replicas VALUES ('web-10', 'web', 10, 'vm-1', 'Running', 'ok', 0, 2, 'c', 2, 1, 2, "
               "'{\"memory_bytes\":5}', 0, 250, 1024, 3)")
    db.execute("INSERT INTO join_tokens VALUES ('abc', 'sha256:x', 100, '{}', 1, 1)")
    db.execute("INSERT INTO revoked_certificates VALUES ('01', 5, 'retired')")
    for i in range(3):
        db.execute("INSERT INTO events (time_ms, kind, object, type, reason, message) VALUES (?, 'Node', 'vm-1', "
                   "'Normal', 'R', ?)", (i, f"m{i}"))
    db.execute("DELETE FROM events WHERE id = 3")   # the newest was dropped: its id must not come back
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_schema_1_is_migrated_in_place(tmp_path):
    path = str(tmp_path / "state.db")
    _v1_database(path)
    s = SqliteStore(path)
    n = s.get_node("vm-1")
    assert n.labels == {"zone": "a"} and n.capacity == Resources(2000, 4096) and not n.schedulable
    assert n.taints == [Taint("gpu", "yes", "NoSchedule")] and n.desired_revision == 7
    w = s.get_workload("web")
    assert (w.spec_json, w.generation) == ('{"x":1}', 2)
    r = s.get_replica("web-10")
    assert (r.index, r.node, r.phase, r.restarts, r.incarnation) == (10, "vm-1", "Running", 2, 3)
    assert r.requests == Resources(250, 1024)          # its usage column is dropped: usage is memory only now
    assert s.get_join_token("abc").revoked and s.is_certificate_revoked("01")
    assert [e.message for e in s.list_events()] == ["m0", "m1"]
    assert s.add_event(9, "Node", "vm-1", "Normal", "R", "new") == 4
    s.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
