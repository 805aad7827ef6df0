"""`orchestra local up` on a real dockerd, then the user's whole path through the real CLI:
apply the example and wait, get, top, logs, describe, cordon, delete, local down."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from engines import import_busybox, start_engine
from plane import clean_env, free_port, run_cli
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "web.yaml"
TALKER = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: talker}
spec:
  replicas: 2
  template:
    image: local/busybox:1
    command: [sh, -c, "echo hello from talker; echo second line; exec sleep 3600"]
    resources: {cpu: 50m, memory: 16Mi}
"""

JOB = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: {name}}}
spec:
  replicas: 1
  template:
    image: local/busybox:1
    command: [sh, -c, "echo job; exit {code}"]
    resources: {{cpu: 50m, memory: 16Mi}}
    restartPolicy: Never
"""

pytestmark = pytest.mark.integration


@pytest.fixture
def bridge_engine():
    engine = start_engine(bridge=True)   # the local cluster's agent uses Docker's default bridge
    try:
        import_busybox(engine)
        yield engine
    finally:
        engine.stop()


def test_local_cluster_user_path(bridge_engine, tmp_path):
    env = clean_env(tmp_path / "home")
    data = str(tmp_path / "local")
    port = free_port()
    up_args = ("local", "up", "--data-dir", data, "--listen", f"127.0.0.1:{port}",
               "--docker-host", bridge_engine.host, "--name", "local-1")

    def cli(*args, timeout=180):
        return run_cli(*args, env=env, timeout=timeout)

    try:
        up = cli(*up_args)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "node local-1: Ready" in up.stdout
        assert (tmp_path / "home" / ".orchestra" / "config").resolve() == tmp_path / "local" / "server" / "admin.conf"

        again = cli(*up_args)   # idempotent: keeps the running processes
        assert again.returncode == 0 and "already running" in again.stdout

        nodes = cli("get", "nodes")
        assert nodes.stdout.splitlines()[1].split()[:2] == ["local-1", "Ready"]

        applied = cli("apply", "-f", str(EXAMPLE), "--timeout", "120")
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "web: revision 1: 3/3 updated, 3/3 ready" in applied.stdout
        assert "web-0 -> local-1" in applied.stdout

        talker = tmp_path / "talker.yaml"
        talker.write_text(TALKER)
        assert cli("apply", "-f", str(talker)).returncode == 0
        logs = wait_for("talker logs", lambda: (r := cli("logs", "talker")).returncode == 0
                        and "hello from talker" in r.stdout and r.stdout)
        assert "[talker-0] hello from talker" in logs and "[talker-1] second line" in logs
        one = cli("logs", "talker/1", "--tail", "1")
        assert one.returncode == 0 and one.stdout == "second line\n"

        top = wait_for("usage samples", lambda: (r := cli("top", "replicas", "--workload", "web")).returncode == 0
                       and "-" not in r.stdout.split("\n", 1)[1].split() and r.stdout)
        assert top.splitlines()[0].split()[:3] == ["NAME", "NODE", "CPU%"]
        assert "/32Mi" in top
        assert cli("top", "nodes").returncode == 0

        # restartPolicy Never: a job that exits 0 is complete; one that fails will never run again.
        job = tmp_path / "job.yaml"
        job.write_text(JOB.format(name="job-ok", code=0))
        res = cli("apply", "-f", str(job), "--timeout", "90")
        assert res.returncode == 0, res.stdout + res.stderr
        # The wait ends when the job has started or completed; which one it sees first is a race.
        assert "job-ok: revision 1: 1/1 updated, 0/1 ready, 1 completed" in res.stdout or \
            "job-ok: revision 1: 1/1 updated, 1/1 ready" in res.stdout
        job.write_text(JOB.format(name="job-bad", code=3))
        assert cli("apply", "-f", str(job), "--no-wait").returncode == 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            reps = json.loads(cli("get", "replicas", "--workload", "job-bad", "-o", "json").stdout)["replicas"]
            if reps and reps[0]["phase"] == "Exited":
                break
            time.sleep(0.5)
        # Applying it again waits on a replica that has already failed for good.
        res = cli("apply", "-f", str(job), "--timeout", "90")
        assert res.returncode == 1, res.stdout + res.stderr
        assert res.stderr.startswith("orchestra: job-bad: replicas failed and will not be restarted "
                                     "(restartPolicy Never):")
        assert "job-bad-0: Exited (exit code 3) on local-1" in res.stderr

        described = cli("describe", "node", "local-1")
        assert described.returncode == 0 and "web-0" in described.stdout
        # What the agent itself costs the node, from its usage reports (every 5 s).
        described = wait_for("the agent's memory in describe node",
                             lambda: (d := cli("describe", "node", "local-1")).returncode == 0
                             and "Agent memory:" in d.stdout and d, timeout=30)
        line = next(ln for ln in described.stdout.splitlines() if ln.startswith("Agent memory:"))
        assert line.endswith(" resident") and "Mi" in line, line

        assert cli("cordon", "local-1").stdout == "local-1: cordoned\n"
        assert "SchedulingDisabled" in cli("get", "nodes").stdout
        assert cli("uncordon", "local-1").stdout == "local-1: uncordoned\n"

        deleted = cli("delete", "workload", "web", "talker", "job-ok", "job-bad")
        assert deleted.returncode == 0, deleted.stderr
        assert cli("get", "replicas", "-o", "json").stdout.strip().startswith("{")
        assert "No replicas found." in cli("get", "replicas").stderr
    finally:
        down = cli("local", "down", "--data-dir", data)
    assert down.returncode == 0
    assert "agent: stopped" in down.stdout and "control plane: stopped" in down.stdout
    status = cli("local", "status", "--data-dir", data)
    assert "control plane: not running" in status.stdout and "agent: not running" in status.stdout
    assert cli("local", "down", "--data-dir", data).returncode == 0   # idempotent


def test_local_down_purge_removes_the_local_nodes_containers_and_state(bridge_engine, tmp_path):
    env = clean_env(tmp_path / "home")
    data = tmp_path / "local"
    config_link = tmp_path / "home" / ".orchestra" / "config"

    def cli(*args, timeout=180):
        return run_cli(*args, env=env, timeout=timeout)

    with bridge_engine.client() as docker_client:
        # Another node's container on the same engine, and one orchestra does not manage: both stay.
        foreign = [docker_client.containers.create("local/busybox:1", ["sleep", "600"], name=name, labels=labels)
                   for name, labels in (("other-node", {"orchestra.managed": "true", "orchestra.node": "elsewhere"}),
                                        ("unmanaged", {"orchestra.node": "local-1"}))]
        try:
            up = cli("local", "up", "--data-dir", str(data), "--listen", f"127.0.0.1:{free_port()}",
                     "--docker-host", bridge_engine.host, "--name", "local-1")
            assert up.returncode == 0, up.stdout + up.stderr
            talker = tmp_path / "talker.yaml"
            talker.write_text(TALKER)
            applied = cli("apply", str(talker), "--timeout", "120")
            assert applied.returncode == 0, applied.stdout + applied.stderr
            ours = docker_client.containers.list(all=True, filters={"label": "orchestra.node=local-1"})
            assert len([c for c in ours if c.labels.get("orchestra.managed") == "true"]) == 2
            assert config_link.is_symlink()

            down = cli("local", "down", "--data-dir", str(data), "--purge")
            assert down.returncode == 0, down.stdout + down.stderr
            assert "agent: stopped" in down.stdout and "control plane: stopped" in down.stdout
            assert "containers: removed 2 of node local-1" in down.stdout
            left = sorted(c.name for c in docker_client.containers.list(all=True))
            assert left == ["other-node", "unmanaged"]
            assert not data.exists() and not config_link.is_symlink()
            assert f"state: removed {data}" in down.stdout

            again = cli("local", "down", "--data-dir", str(data), "--purge")   # nothing left: still fine
            assert again.returncode == 0 and "no agent was recorded" in again.stdout
        finally:
            cli("local", "down", "--data-dir", str(data))
            for c in foreign:
                c.remove(force=True)
