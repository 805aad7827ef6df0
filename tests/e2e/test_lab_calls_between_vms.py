"""Services across real VMs: a container on one VM reaches, by name, a service whose only replica
runs on the other, over the lab network (the second NIC, vagrant/README.md). Runs before the
cluster tests, the last of which halts a VM (and one of which re-bootstraps an agent over SSH,
without its lab address)."""
from __future__ import annotations

from labtools import NODES, wait_for

from orchestra.lab.ssh import Node

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: hello, labels: {app: hello}}
spec:
  template:
    image: local/busybox:1
    command: [sh, -c, "mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 2}
    resources: {cpu: 50m, memory: 16Mi}
  placement: {nodeSelector: {zone: b}}
---
apiVersion: orchestra/v1
kind: Service
metadata: {name: hello}
spec: {selector: {app: hello}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: orchestra/v1
kind: Workload
metadata: {name: caller}
spec:
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    resources: {cpu: 50m, memory: 16Mi}
    terminationGracePeriodSeconds: 0
  placement: {nodeSelector: {zone: a}}
"""
GET = "printf 'GET / HTTP/1.0\\r\\nHost: hello\\r\\n\\r\\n' | nc -w 10 hello 80"


def lab_address(i: int) -> str:
    return f"10.213.1.{i}"


def test_a_container_on_one_vm_reaches_a_service_on_the_other_by_name(plane, lab):
    assert NODES == 2, "the lab network links two VMs"
    machines = sorted(lab.machines(), key=lambda m: m.name)
    # Each VM got its lab address at boot with its agent's configuration (fw_cfg): its second NIC
    # has it and its agent advertises it, with nothing configured over SSH.
    wait_for("both nodes Ready with their lab addresses", lambda: {
        n["name"]: n.get("advertise_address") for n in plane.cli_json("get", "nodes") if n.get("status") == "Ready"}
        == {m.name: lab_address(i) for i, m in enumerate(machines, start=1)}, timeout=300)
    path = plane.workdir / "hello.yaml"
    path.write_text(MANIFEST)
    plane.cli("apply", "-f", str(path), "--timeout", "600")
    replicas = {r["id"]: r["node"] for r in plane.cli_json("get", "replicas")}
    assert replicas["hello-0"] == machines[1].name and replicas["caller-0"] == machines[0].name
    wait_for("hello's endpoint ready", lambda: any(
        e.get("ready") for e in plane.cli_json("describe", "service", "hello")["service"].get("endpoints", [])),
        timeout=300)
    with Node(machines[0].ssh, machines[0].key) as node:
        def call():
            cid = node.run("docker ps -q --filter label=orchestra.replica=caller-0", sudo=True).stdout.strip()
            out = node.run(f"docker exec {cid} sh -c {GET!r}", sudo=True, check=False).stdout
            return out if " 200 " in out else None
        out = wait_for("the call from the caller on the first VM", call, timeout=120, every=3)
    assert out.rstrip().endswith("hello-0"), out
    plane.cli("delete", "-f", str(path))
