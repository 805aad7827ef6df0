"""A workload on a lab of real VMs: spread over the nodes with its limits enforced by each
guest's Docker, agents re-bootstrapped in place, and moved when a VM dies."""
from __future__ import annotations

import json
import subprocess

import paramiko
import pytest
from labtools import NODES, wait_for

from orchestra.lab import planequery
from orchestra.lab.ssh import Node

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: sleeper}
spec:
  replicas: 2
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    resources: {cpu: 250m, memory: 64Mi}
    restartPolicy: Always
"""


def nodes(plane) -> dict[str, dict]:
    return {n["name"]: n for n in plane.cli_json("get", "nodes")}


def replicas(plane, workload: str) -> list[dict]:
    return plane.cli_json("get", "replicas", "--workload", workload)


def running_on(plane, workload: str) -> dict[str, str]:
    return {r["id"]: r.get("node", "") for r in replicas(plane, workload) if r.get("phase") == "Running"}


def running(plane, count: int, avoid: str = "") -> dict[str, str] | None:
    """replica -> node once exactly `count` sleeper replicas run (none on `avoid`), else None."""
    placed = running_on(plane, "sleeper")
    return placed if len(placed) == count and avoid not in placed.values() else None


def guest_containers(machine, workload: str) -> list[dict]:
    """`docker inspect` of the workload's running containers, read inside the guest over SSH."""
    with Node(machine.ssh, machine.key) as node:
        ids = node.run(f"docker ps -q --filter label=orchestra.workload={workload}", sudo=True).stdout.split()
        if not ids:
            return []
        info = json.loads(node.run("docker inspect " + " ".join(ids), sudo=True).stdout)
        for c in info:
            # The limit as the guest's kernel enforces it (cgroup v2, seen from the container).
            c["cgroup_memory_max"] = node.run(f"docker exec {c['Id']} cat /sys/fs/cgroup/memory.max",
                                              sudo=True).stdout.strip()
        return info


@pytest.fixture(scope="module")
def machines(lab):
    return {m.name: m for m in lab.machines()}


def test_vm_nodes_are_ready_with_hypervisor_facts(plane, lab, machines):
    assert len(machines) == NODES
    # usernet mode: the VMs run without any libvirt network.
    active = subprocess.run(["virsh", "-c", "qemu:///system", "net-list", "--name"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert active == [], f"libvirt networks active: {active}"
    listed = planequery.list_nodes(plane.address, _admin_tls(plane))
    by_name = {n.name: n for n in listed}
    for name in machines:
        assert by_name[name].status == "Ready"
        assert by_name[name].facts.hypervisor in ("qemu", "kvm"), by_name[name].facts
        assert by_name[name].labels["zone"] in ("a", "b")
        # The agent's own resident memory inside the guest, as `describe node` reports it.
        described = wait_for(f"{name}'s agent memory in describe node",
                             lambda: "Agent memory:" in (out := plane.cli("describe", "node", name).stdout) and out,
                             timeout=60)
        line = next(ln for ln in described.splitlines() if ln.startswith("Agent memory:"))
        assert line.endswith(" resident") and "Mi" in line, line


def test_agents_run_from_the_box_layer_with_nothing_installed_over_ssh(machines):
    """`cluster up` installs nothing in the guests: each agent runs from the read-only agent
    layer with the configuration its VM got at boot, and its process never loaded the X.509
    library (it re-executes itself after joining)."""
    for name, m in machines.items():
        with Node(m.ssh, m.key) as node:
            unit = node.run("systemctl show -p ExecStart --value orchestra-agent", sudo=True).stdout
            assert "/opt/orchestra/layer/bin/orchestra-agent" in unit and f"--name {name}" not in unit, unit
            assert node.run("findmnt -n -o OPTIONS /opt/orchestra/layer", sudo=True).stdout.startswith("ro")
            assert node.run("test -e /opt/orchestra/venv", check=False).status != 0
            pid = node.run("systemctl show -p MainPID --value orchestra-agent", sudo=True).stdout.strip()
            cmdline = node.run(f"tr '\\0' ' ' < /proc/{pid}/cmdline", sudo=True).stdout
            assert f"--name {name}" in cmdline, cmdline
            maps = node.run(f"cat /proc/{pid}/maps", sudo=True).stdout
            assert "/opt/orchestra/layer/lib/python3.11/site-packages/grpc" in maps
            assert "cryptography" not in maps and "numpy" not in maps


def test_replicas_spread_over_vms_with_limits(plane, lab, machines):
    path = plane.workdir / "sleeper.yaml"
    path.write_text(MANIFEST)
    plane.cli("apply", "-f", str(path))
    placed = wait_for("2 sleeper replicas Running", lambda: running(plane, 2), timeout=600)
    assert len(set(placed.values())) == 2, f"replicas not spread over both VMs: {placed}"
    for name in set(placed.values()):
        containers = guest_containers(machines[name], "sleeper")
        assert len(containers) == 1, f"{name}: {len(containers)} sleeper containers"
        c = containers[0]
        assert c["State"]["Running"]
        assert c["HostConfig"]["Memory"] == 64 * 1024 * 1024
        cpu = c["HostConfig"]["NanoCpus"] / 1e9 or c["HostConfig"]["CpuQuota"] / c["HostConfig"]["CpuPeriod"]
        assert cpu == pytest.approx(0.25)
        assert c["cgroup_memory_max"] == str(64 * 1024 * 1024)
        assert c["Config"]["Labels"]["orchestra.node"] == name


def test_bootstrap_errors_are_clear(plane, machines, tmp_path):
    m = next(iter(machines.values()))
    bad_key = tmp_path / "bad_key"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(bad_key))
    common = ["--server", "10.0.2.100:1", "--name", "x", "--timeout", "5"]
    res = plane.cli("node", "bootstrap", "--ssh", f"vagrant@127.0.0.1:{m.ssh.port}", "--key", str(bad_key),
                    *common, check=False)
    assert res.returncode != 0 and "was rejected" in res.stderr, res.stderr
    res = plane.cli("node", "bootstrap", "--ssh", "vagrant@127.0.0.1:1", "--key", m.key, *common, check=False)
    assert res.returncode != 0 and "connection refused" in res.stderr, res.stderr
    res = plane.cli("node", "bootstrap", "--ssh", f"vagrant@127.0.0.1:{m.ssh.port}", "--key", str(tmp_path / "nope"),
                    *common, check=False)
    assert res.returncode != 0 and "does not exist" in res.stderr, res.stderr


def test_bootstrap_twice_upgrades_in_place(plane, machines):
    name, m = sorted(machines.items())[0]
    before = {c["Id"] for c in guest_containers(m, "sleeper")}
    plane.cli("node", "bootstrap", "--ssh", str(m.ssh), "--key", m.key, "--server", m.server,
              "--name", name, "--labels", m.labels)
    assert nodes(plane)[name]["status"] == "Ready"
    # The restarted agent adopts its containers instead of re-creating them.
    wait_for("sleeper Running on both VMs again",
             lambda: len(set(running_on(plane, "sleeper").values())) == 2, timeout=300)
    assert {c["Id"] for c in guest_containers(m, "sleeper")} == before


def test_dead_vm_goes_notready_and_its_replica_moves(plane, lab, machines):
    placed = running_on(plane, "sleeper")
    victim = sorted(set(placed.values()))[-1]
    lab.vagrant("halt", "--force", victim, timeout=300)
    wait_for(f"{victim} NotReady", lambda: nodes(plane)[victim]["status"] == "NotReady", timeout=180)
    moved = wait_for(f"both sleeper replicas Running off {victim}",
                     lambda: running(plane, 2, avoid=victim), timeout=600)
    for name in set(moved.values()):
        containers = guest_containers(machines[name], "sleeper")
        assert len(containers) == list(moved.values()).count(name)
        assert all(c["HostConfig"]["Memory"] == 64 * 1024 * 1024 for c in containers)


def _admin_tls(plane):
    from orchestra.security.client_config import load_client_config
    return load_client_config(plane.data_dir / "admin.conf").tls
