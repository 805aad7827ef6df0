"""Issue 12 on a real VM: a replica's volume keeps its data when its agent is bootstrapped again
(upgraded in place) and its container has to be made anew by the new agent."""
from __future__ import annotations

import pytest
from labtools import wait_for

from orchestra.lab.ssh import Node

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: keeper}
spec:
  replicas: 1
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    resources: {cpu: 100m, memory: 32Mi}
    volumes: [{name: data}]
    volumeMounts: [{name: data, mountPath: /data}]
"""


@pytest.fixture(scope="module")
def machines(lab):
    return {m.name: m for m in lab.machines()}


def keeper(plane) -> dict | None:
    found = [r for r in plane.cli_json("get", "replicas", "--workload", "keeper") if r.get("phase") == "Running"]
    return found[0] if found else None


def container_id(node: Node) -> str:
    return node.run("docker ps -q --filter label=orchestra.replica=keeper-0", sudo=True).stdout.strip()


def test_a_volume_on_a_vm_survives_a_re_bootstrap_of_its_agent(plane, lab, machines):
    path = plane.workdir / "keeper.yaml"
    path.write_text(MANIFEST)
    plane.cli("apply", "-f", str(path), "--timeout", "600")
    name = wait_for("keeper-0 Running", lambda: keeper(plane), timeout=600)["node"]
    m = machines[name]
    with Node(m.ssh, m.key) as vm:
        first = container_id(vm)
        vm.run(f"docker exec {first} sh -c 'echo kept-on-the-vm > /data/file'", sudo=True)

    # The agent is bootstrapped again (a new agent process from a new wheelhouse), and the
    # container is gone by the time it starts: the new agent makes it again, on the same volume.
    plane.cli("node", "bootstrap", "--ssh", str(m.ssh), "--key", m.key, "--server", m.server, "--name", name,
              "--labels", m.labels)
    with Node(m.ssh, m.key) as vm:
        vm.run(f"docker rm -f {first}", sudo=True)
    wait_for("keeper-0 Running again in a new container on the same VM",
             lambda: (r := keeper(plane)) and r["node"] == name and r["container_id"] and
             not r["container_id"].startswith(first), timeout=300)
    with Node(m.ssh, m.key) as vm:
        again = container_id(vm)
        assert again and again != first
        assert vm.run(f"docker exec {again} cat /data/file", sudo=True).stdout == "kept-on-the-vm\n"
        assert vm.run("docker volume ls -q --filter label=orchestra.managed=true", sudo=True).stdout.split() == [
            "orchestra.keeper-0.data"]
    [v] = [v for v in plane.cli_json("get", "volumes")["volumes"] if v["workload"] == "keeper"]
    assert (v["name"], v["node"], v["replica"], v["state"]) == ("orchestra.keeper-0.data", name, "keeper-0", "Bound")

    out = plane.cli("delete", "workload", "keeper", "--volumes", "--timeout", "300").stdout
    assert "volume/orchestra.keeper-0.data: removed" in out
    with Node(m.ssh, m.key) as vm:
        assert vm.run("docker volume ls -q --filter label=orchestra.managed=true", sudo=True).stdout.split() == []
