"""`orchestra exec` into a replica on a lab VM: through the plane and the guest agent's own
stream (with QEMU user networking the plane has no route into a guest at all), in the lab the
session already has up."""
from __future__ import annotations

import secrets
import subprocess
import sys
import time

import pytest
from labtools import wait_for

from orchestra.lab.ssh import Node
from tests.support.terminal import Terminal

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: shell}
spec:
  replicas: 1
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    resources: {cpu: 100m, memory: 32Mi}
"""


def exec_cli(plane, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestra.cli.main", "exec", *args], input=stdin,
                          capture_output=True, env=plane.env(), timeout=300)


@pytest.mark.timeout(1800)   # the first test of a session also waits for the lab to come up
def test_exec_into_a_replica_on_a_vm(plane, lab):
    machines = {m.name: m for m in lab.machines()}
    path = plane.workdir / "shell.yaml"
    path.write_text(MANIFEST)
    plane.cli("apply", "-f", str(path))
    try:
        [rep] = wait_for("shell-0 Running", lambda: [r for r in plane.cli_json("get", "replicas", "--workload", "shell")
                                                    if r.get("phase") == "Running"], timeout=600)
        assert rep["node"] in machines
        # Output apart and the exit code, from inside that container on that VM: what the command
        # wrote is in that container, as the guest's own Docker shows it.
        marker = secrets.token_hex(8)
        res = exec_cli(plane, "shell-0", "--", "sh", "-c", f"hostname; echo {marker} > /tmp/marker; echo err >&2; exit 7")
        assert res.returncode == 7, res
        assert res.stdout == b"shell-0\n" and res.stderr == b"err\n", res   # replicas are named hosts
        with Node(machines[rep["node"]].ssh, machines[rep["node"]].key) as guest:
            cid = guest.run("docker ps -q --filter label=orchestra.replica=shell-0", sudo=True).stdout.strip()
            assert guest.run(f"docker exec {cid} cat /tmp/marker", sudo=True).stdout.strip() == marker

        res = exec_cli(plane, "-i", "shell-0", "--", "cat", stdin=b"through the guest\n")
        assert (res.returncode, res.stdout) == (0, b"through the guest\n"), res

        term = Terminal(24, 80)
        cli = term.spawn([sys.executable, "-m", "orchestra.cli.main", "exec", "-it", "shell-0", "--", "sh"],
                         plane.env())
        try:
            term.read_until(b"/ # ", timeout=120)
            term.resize(40, 120)
            time.sleep(2)
            term.type("busybox stty size; exit 3\r")
            assert b"40 120\r\n" in term.read_until(b"40 120\r\n", timeout=120)
            assert cli.wait(60) == 3
        finally:
            if cli.poll() is None:
                cli.kill()
            term.close()

        started = time.monotonic()
        for _ in range(3):
            assert exec_cli(plane, "shell-0", "--", "true").returncode == 0
        print(f"\norchestra exec shell-0 -- true on a VM: {(time.monotonic() - started) / 3:.2f} s per run")
    finally:
        plane.cli("delete", "workload", "shell", check=False, timeout=600)
