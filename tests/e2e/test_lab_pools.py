"""A tenant VM pool on real VMs: a tenant's replica with no VM for it makes the pool boot one, the
replica runs in it, and once the workload is deleted and the idle time has passed the VM is
drained, destroyed and its node removed; `pool delete` revokes the pool's token.

It does not need the shared lab: the pool's VM is its own (the plane is the e2e tier's)."""
from __future__ import annotations

import json
import subprocess
import time

import pytest
from labtools import wait_for

from tests.support import busybox_image

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: blue-app}
spec:
  replicas: 1
  tenant: blue
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    resources: {cpu: 100m, memory: 32Mi}
  placement:
    nodeSelector: {orchestra.tenant: blue}
"""
IDLE_S = 20


def domains() -> list[str]:
    out = subprocess.run(["virsh", "-c", "qemu:///system", "list", "--all", "--name"], capture_output=True,
                         text=True, check=True).stdout
    return [d for d in out.split() if d]


def replica(plane, rid: str) -> dict:
    found = [r for r in plane.cli_json("get", "replicas") if r["id"] == rid]
    return found[0] if found else {}


@pytest.fixture
def pool_name(plane):
    yield "blue"
    # However the test ended: nothing of the pool may outlive it (its VM, its controller).
    if plane.cli("cluster", "pool", "list", check=False).stdout.find("blue ") >= 0:
        plane.cli("cluster", "pool", "delete", "blue", "--timeout", "600", check=False, timeout=900)


def test_a_pending_tenant_replica_boots_a_pool_vm_which_goes_when_idle(plane, pool_name, tmp_path):
    tarball = str(tmp_path / "busybox.tar")
    busybox_image.build(tarball)
    out = plane.cli("cluster", "pool", "create", pool_name, "--tenant", "blue", "--max", "1",
                    "--idle", f"{IDLE_S}s", "--memory", "1Gi", "--image", tarball).stdout
    assert "pool blue created: tenant blue, 0-1 VMs" in out, out
    assert "blue " in plane.cli("cluster", "pool", "list").stdout

    manifest = tmp_path / "blue.yaml"
    manifest.write_text(MANIFEST)
    t0 = time.monotonic()
    plane.cli("apply", "-f", str(manifest), "--no-wait")

    # The replica waits for a VM, and says so.
    described = wait_for("describe replica saying a VM is booted for it",
                         lambda: "VMBooting" in (d := plane.cli("describe", "replica", "blue-app-0").stdout) and d,
                         timeout=120)
    assert "pool blue is booting VM blue-1 for it (tenant blue)" in described, described
    assert "Pending" in described

    running = wait_for("blue-app-0 Running on the pool's VM",
                       lambda: (r := replica(plane, "blue-app-0")).get("phase") == "Running" and r, timeout=900,
                       every=3)
    scale_up = time.monotonic() - t0
    assert running["node"] == "blue-1"
    node = json.loads(plane.cli("describe", "node", "blue-1", "-o", "json").stdout)["node"]
    # The pool's labels came with the node's certificate (its pool-scoped join token).
    assert node["labels"]["orchestra.tenant"] == "blue" and node["labels"]["orchestra.pool"] == "blue", node
    assert node["facts"]["hypervisor"] in ("qemu", "kvm"), node["facts"]
    assert "blue-1(Ready, 1 replicas)" in plane.cli("cluster", "pool", "list").stdout
    events = plane.cli("events", "--for", "pool/blue").stdout
    assert "ScaleUp" in events and "VMReady" in events, events

    t1 = time.monotonic()
    plane.cli("delete", "workload", "blue-app")
    wait_for("node blue-1 removed after its idle time",
             lambda: all(n["name"] != "blue-1" for n in plane.cli_json("get", "nodes")), timeout=600, every=3)
    scale_down = time.monotonic() - t1
    assert not any(d.endswith("blue-1") for d in domains()), domains()
    events = plane.cli("events", "--for", "pool/blue").stdout
    assert "ScaleDown" in events and "VMDestroyed" in events, events
    print(f"\npool scale-up (apply to Running in a new VM): {scale_up:.0f} s; "
          f"scale-down (delete to VM destroyed and node removed, idle {IDLE_S} s): {scale_down:.0f} s")

    assert "pool blue deleted" in plane.cli("cluster", "pool", "delete", "blue", timeout=900).stdout
    assert "no pools" in plane.cli("cluster", "pool", "list").stdout
    tokens = plane.cli("token", "list").stdout
    assert any("orchestra.pool=blue" in line and "revoked" in line for line in tokens.splitlines()), tokens
