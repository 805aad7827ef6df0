"""`orchestra server` start-up and shutdown as a real process: each failure is one line and rc != 0."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess

import grpc
import pytest
from plane_fixtures_integration import workload_json
from plane_process import run_plane_expecting_failure, start_plane

from orchestra.api import orchestra_pb2


def error_line(result) -> str:
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.returncode != 0, result
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_starts_serves_and_stops_on_sigterm(tmp_path):
    p = start_plane(str(tmp_path / "data"))
    assert p.data_dir == str(tmp_path / "data")
    assert list(p.client().ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=10).workloads) == []
    assert p.stop(signal.SIGTERM) == 0


def test_stops_on_sigint(tmp_path):
    p = start_plane(str(tmp_path / "data"))
    assert p.stop(signal.SIGINT) == 0


def test_data_dir_that_cannot_be_created(tmp_path):
    (tmp_path / "file").write_text("x")
    line = error_line(run_plane_expecting_failure(str(tmp_path / "file" / "data")))
    assert "cannot be created" in line and str(tmp_path / "file" / "data") in line


@pytest.fixture
def mounted_tmpfs(tmp_path):
    """A small tmpfs of our own (root only; the test machines run tests as root)."""
    mounts = []

    def mount(name: str, options: str):
        path = tmp_path / name
        path.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)
        mounts.append(path)
        return path

    yield mount
    for path in mounts:
        subprocess.run(["umount", str(path)], check=False)


def test_read_only_data_dir(mounted_tmpfs):
    ro = mounted_tmpfs("ro", "ro,size=1m")
    line = error_line(run_plane_expecting_failure(str(ro)))
    assert "is not writable" in line and "Read-only" in line


@pytest.mark.parametrize("free_pages", [0, 2, 4])
def test_disk_full(mounted_tmpfs, free_pages):
    # 0: nothing free, the write probe fails; 2/4: the probe and lock fit, SQLite then runs out.
    small = mounted_tmpfs("small", "size=256k")
    data = small / "data"
    data.mkdir()
    fd = os.open(small / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    os.ftruncate(fd, max(0, os.fstat(fd).st_size - free_pages * 4096))
    os.close(fd)
    line = error_line(run_plane_expecting_failure(str(data)))
    assert line.startswith("orchestra server: error: disk full"), line


def test_corrupt_database(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "state.db").write_bytes(b"garbage, not an SQLite file " * 300)
    line = error_line(run_plane_expecting_failure(str(data)))
    assert "is corrupt" in line and "state.db" in line


def test_damaged_database_pages(tmp_path):
    data = tmp_path / "data"
    p = start_plane(str(data))
    c = p.client()
    for i in range(40):
        c.Apply(orchestra_pb2.ApplyRequest(documents_json=[workload_json(f"w{i}", replicas=3)]), timeout=30)
    assert p.stop() == 0
    db = sqlite3.connect(data / "state.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = os.path.getsize(data / "state.db")
    assert size > 8 * 4096
    with open(data / "state.db", "r+b") as f:
        f.seek(4096 * 2)
        f.write(os.urandom(size - 4096 * 3))
    line = error_line(run_plane_expecting_failure(str(data)))
    assert "corrupt" in line


def test_second_server_on_same_data_dir_names_the_first(tmp_path):
    first = start_plane(str(tmp_path / "data"))
    try:
        line = error_line(run_plane_expecting_failure(str(tmp_path / "data")))
        assert f"in use by another orchestra server (pid {first.proc.pid})" in line
        # The first one is unharmed.
        first.client().ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)
    finally:
        assert first.stop() == 0


def test_bad_option_value(tmp_path):
    result = run_plane_expecting_failure(str(tmp_path / "data"), "--node-grace", "soon")
    assert result.returncode != 0 and "invalid duration 'soon'" in result.stderr


def test_disk_full_while_running_refuses_writes_and_recovers(mounted_tmpfs):
    small = mounted_tmpfs("running", "size=8m")
    p = start_plane(str(small / "data"))
    try:
        c = p.client()
        c.Apply(orchestra_pb2.ApplyRequest(documents_json=[workload_json("before")]), timeout=30)
        fd = os.open(small / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass
        os.close(fd)
        big = [workload_json(f"w{i}", replicas=50) for i in range(40)]  # more than the few bytes left
        with pytest.raises(grpc.RpcError) as info:
            c.Apply(orchestra_pb2.ApplyRequest(documents_json=big), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE and "disk full" in info.value.details()
        names = [w.name for w in c.ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=30).workloads]
        assert names == ["before"]  # nothing of the failed apply, the rest intact and readable
        os.unlink(small / "filler")
        c.Apply(orchestra_pb2.ApplyRequest(documents_json=big[:2]), timeout=30)
        names = [w.name for w in c.ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=30).workloads]
        assert names == ["before", "w0", "w1"]
    finally:
        assert p.stop() == 0


def test_address_in_use(tmp_path):
    first = start_plane(str(tmp_path / "a"))
    try:
        line = error_line(run_plane_expecting_failure(str(tmp_path / "b"), "--listen", first.address))
        assert f"cannot listen on {first.address}" in line
    finally:
        assert first.stop() == 0


def test_grace_shorter_than_heartbeat_refused(tmp_path):
    line = error_line(run_plane_expecting_failure(str(tmp_path / "data"), "--node-grace", "1s",
                                                  "--heartbeat-interval", "2s"))
    assert "--node-grace (1000ms) must be longer than --heartbeat-interval (2000ms)" in line
