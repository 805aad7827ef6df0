"""Config and secret files of containers: only ever on a tmpfs, complete or rewritten, swept when
no container needs them; variables from secrets as a /bin/sh script that sets them exactly."""
import os
import shutil
import stat
import uuid
from pathlib import Path

import pytest

from agent.container_files import (COMPLETE, ContainerFiles, FilesError, default_dir, filesystem_of, shell_quote)
from orchestra.api import agent_pb2


@pytest.fixture
def shm():
    d = f"/dev/shm/orchestra-unit-{uuid.uuid4().hex[:8]}"
    yield d
    shutil.rmtree(d, ignore_errors=True)


def spec(**kw) -> agent_pb2.ContainerSpec:
    s = agent_pb2.ContainerSpec(replica_id="web-0", incarnation=1, **kw)
    return s


def with_files() -> agent_pb2.ContainerSpec:
    s = spec(secret_env={"DB_PASSWORD": b"it's $ecret"})
    m = s.file_mounts.add(name="creds", mount_path="/run/secrets", secret=True)
    m.files.add(path="db/password", content=b"pw")
    return s


def test_files_are_written_on_a_tmpfs_with_the_variables_script(shm):
    files = ContainerFiles(shm)
    s = with_files()
    files.ensure(s, "orchestra-web-0-1")
    root = os.path.join(shm, "orchestra-web-0-1")
    assert open(os.path.join(root, "v-creds", "db", "password"), "rb").read() == b"pw"
    assert open(os.path.join(root, "env", "env.sh")).read() == "export DB_PASSWORD='it'\\''s $ecret'\n"
    assert stat.S_IMODE(os.stat(shm).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(root, "v-creds", "db", "password")).st_mode) == 0o444
    assert [(b.target, b.read_only) for b in files.binds(s, "orchestra-web-0-1")] == [
        ("/run/secrets", True), ("/run/orchestra", True)]
    assert filesystem_of(root) == "tmpfs"


def test_a_directory_on_disk_is_refused_before_anything_is_written(tmp_path):
    on_disk = next(d for d in (tmp_path, Path(__file__).parent, Path("/var/tmp"))
                   if filesystem_of(str(d)) not in ("tmpfs", "ramfs"))
    target = on_disk / f"files-{uuid.uuid4().hex[:8]}"
    try:
        with pytest.raises(FilesError, match="must stay off the node's disk.*--secrets-dir on a tmpfs"):
            ContainerFiles(str(target)).ensure(with_files(), "orchestra-web-0-1")
        assert list(target.iterdir()) == []
    finally:
        shutil.rmtree(target, ignore_errors=True)


def test_complete_files_are_left_alone_and_incomplete_ones_written_again(shm):
    files = ContainerFiles(shm)
    files.ensure(with_files(), "c1")
    path = os.path.join(shm, "c1", "v-creds", "db", "password")
    mtime = os.stat(path).st_mtime_ns
    files.ensure(with_files(), "c1")
    assert os.stat(path).st_mtime_ns == mtime
    os.unlink(os.path.join(shm, "c1", COMPLETE))         # e.g. the agent died while writing
    os.chmod(path, 0o644)
    open(path, "wb").write(b"half")
    files.ensure(with_files(), "c1")
    assert open(path, "rb").read() == b"pw"


def test_sweep_removes_what_no_container_needs(shm):
    files = ContainerFiles(shm)
    for name in ("a", "b", "c"):
        files.ensure(with_files(), name)
    assert sorted(files.sweep({"b"})) == ["a", "c"]
    assert os.listdir(shm) == ["b"]
    assert ContainerFiles(shm + "-none").sweep(set()) == []


def test_a_spec_without_files_writes_nothing(shm):
    files = ContainerFiles(shm)
    files.ensure(spec(env={"A": "b"}), "c1")
    assert not os.path.exists(shm) and files.binds(spec(), "c1") == []


def test_shell_quoting_and_default_directories():
    assert shell_quote(b"plain") == "'plain'"
    assert shell_quote(b"a'b") == "'a'\\''b'"
    assert shell_quote(b"$HOME `x` \\ \"q\"\nline") == "'$HOME `x` \\ \"q\"\nline'"
    a, b = default_dir("vm-1", "/var/lib/a"), default_dir("vm-1", "/var/lib/b")
    assert a != b and a == default_dir("vm-1", "/var/lib/a") and "/orchestra-agent/vm-1-" in a
    assert filesystem_of(os.path.dirname(os.path.dirname(a))) in ("tmpfs", "ramfs")
