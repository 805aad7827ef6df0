"""Opening the SQLite store and the data dir: each failure is one precise line."""
from __future__ import annotations

import os
import sqlite3

import pytest

from orchestra.store import DataDir, SqliteStore, StoreOpenError, WorkloadRecord, open_data_dir
from orchestra.store.sqlite import SCHEMA_VERSION, describe_sqlite_error


def test_schema_created_once_and_versioned(tmp_path):
    path = str(tmp_path / "state.db")
    s = SqliteStore(path)
    s.put_workload(WorkloadRecord(name="web", spec_json="{}"))
    s.close()
    s = SqliteStore(path)  # reopen: no re-creation, data kept
    assert s.get_workload("web") is not None
    s.close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_refused(tmp_path):
    path = str(tmp_path / "state.db")
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreOpenError, match="newer than this orchestra"):
        SqliteStore(path)


def test_corrupt_file_refused(tmp_path):
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not sqlite at all" * 200)
    with pytest.raises(StoreOpenError, match="is corrupt"):
        SqliteStore(str(path))


def test_damaged_pages_refused(tmp_path):
    path = str(tmp_path / "state.db")
    s = SqliteStore(path)
    for i in range(300):
        s.put_workload(WorkloadRecord(name=f"w{i:04d}", spec_json="x" * 200))
    s.close()
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with open(path, "r+b") as f:  # scribble over pages past the header
        f.seek(4096 * 3)
        f.write(os.urandom(4096 * 4))
    with pytest.raises(StoreOpenError, match="corrupt"):
        SqliteStore(path)


def test_disk_full_message():
    msg = describe_sqlite_error(sqlite3.OperationalError("database or disk is full"), "/d/state.db")
    assert msg.startswith("disk full:")


def test_second_open_of_data_dir_names_owner_pid(tmp_path):
    d1, s1 = open_data_dir(str(tmp_path / "data"))
    try:
        with pytest.raises(StoreOpenError, match=rf"in use by another orchestra server \(pid {os.getpid()}\)"):
            DataDir(str(tmp_path / "data")).prepare()
    finally:
        s1.close()
        d1.release()
    d2, s2 = open_data_dir(str(tmp_path / "data"))  # released: free again
    s2.close()
    d2.release()


def test_data_dir_under_a_file_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(StoreOpenError, match="cannot be created"):
        DataDir(str(tmp_path / "file" / "data")).prepare()
