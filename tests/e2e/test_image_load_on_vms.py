"""`orchestra image load` through the plane and each agent's own stream, in the lab the session
already has up: it reaches the VMs (with QEMU user networking the plane has no route into a
guest) and a node in a network namespace on this host, while a node that is down is reported and
skipped (exit 1); a replica that waited for the image then runs on a VM.

The namespace nodes carry a NoSchedule taint, so that no other test's replicas land on them."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
from labtools import wait_for

from orchestra.lab.ssh import Node
from tests.integration.engines import start_engine
from tests.support import busybox_image
from tests.support.processes import stop

APP = "local/vm-app:1"
TAINT = "e2e-images=true:NoSchedule"

MANIFEST = f"""\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: vm-app}}
spec:
  replicas: 1
  template:
    image: {APP}
    command: [sleep, "86400"]
    resources: {{cpu: 100m, memory: 32Mi}}
"""


def start_agent(plane, name: str, engine) -> subprocess.Popen:
    log = open(plane.workdir / f"agent-{name}.log", "ab")
    return subprocess.Popen(
        [sys.executable, "-m", "agent.main", "--server", plane.address, "--name", name,
         "--docker-host", engine.host, "--network", "host", "--cpu", "1", "--memory", "1Gi", "--taint", TAINT,
         "--token", (plane.data_dir / "node-token").read_text().strip(),
         "--state-dir", str(plane.workdir / f"agent-state-{name}")],
        stdout=log, stderr=subprocess.STDOUT, env=plane.env())


def node_status(plane, name: str) -> str:
    return next((n.get("status", "") for n in plane.cli_json("get", "nodes") if n["name"] == name), "")


@pytest.mark.timeout(1800)   # the first test of a session also waits for the lab to come up
def test_image_load_reaches_vms_and_a_netns_node_with_one_node_down(plane, lab):
    machines = {m.name: m for m in lab.machines()}
    archive = busybox_image.build(str(plane.workdir / "vm-app.tar"), tag=APP)
    engine = start_engine()
    agents = {}
    try:
        agents["netns-up"] = start_agent(plane, "netns-up", engine)
        agents["netns-down"] = start_agent(plane, "netns-down", engine)
        wait_for("the namespace nodes Ready",
                 lambda: all(node_status(plane, n) == "Ready" for n in agents), timeout=120)
        stop(agents.pop("netns-down"))
        wait_for("netns-down NotReady", lambda: node_status(plane, "netns-down") == "NotReady", timeout=120)

        path = plane.workdir / "vm-app.yaml"
        path.write_text(MANIFEST)
        plane.cli("apply", "--no-wait", "-f", str(path))
        [pending] = wait_for("vm-app-0 Pending, lacking its image", lambda: [
            r for r in plane.cli_json("get", "replicas", "--workload", "vm-app")
            if r.get("phase") == "Pending" and f"lack image {APP}" in r.get("reason", "")], timeout=120)

        started = time.monotonic()
        res = plane.cli("image", "load", archive, check=False, timeout=900)
        took = time.monotonic() - started
        assert res.returncode == 1, res
        lines = {line.split(":", 1)[0]: line for line in res.stdout.splitlines()}
        for name in [*machines, "netns-up"]:
            assert lines[name] == f"{name}: loaded {APP}", res.stdout
        assert lines["netns-down"].startswith("netns-down: not loaded: node netns-down is not connected")
        print(f"\norchestra image load ({len(open(archive, 'rb').read())} bytes) to "
              f"{len(machines) + 1} nodes: {took:.1f} s")

        for m in machines.values():
            with Node(m.ssh, m.key) as guest:
                assert guest.run(f"docker image inspect -f ok {APP}", sudo=True).stdout.strip() == "ok"
        with engine.client() as client:
            assert any(APP in (i.tags or []) for i in client.images.list())

        [running] = wait_for("vm-app-0 Running on a VM", lambda: [
            r for r in plane.cli_json("get", "replicas", "--workload", "vm-app")
            if r.get("phase") == "Running"], timeout=600)
        assert running["node"] in machines
        listed = plane.cli("image", "list").stdout
        assert APP in listed and "netns-down" not in next(line for line in listed.splitlines() if APP in line)
    finally:
        plane.cli("delete", "workload", "vm-app", check=False, timeout=600)
        for proc in agents.values():
            stop(proc)
        engine.stop()
