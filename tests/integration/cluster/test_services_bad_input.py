"""Services the plane refuses: a clear error, a non-zero exit, and nothing stored (neither the
service nor the workloads of the same apply)."""
from __future__ import annotations

import pytest

WORKLOAD = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: web, labels: {app: web}}
spec:
  template: {image: local/busybox:1, command: [sleep, "3600"]}
"""


def svc(name="web", selector="{app: web}", ports="[{port: 80, targetPort: 8080}]", extra=""):
    return (f"---\napiVersion: orchestra/v1\nkind: Service\nmetadata: {{name: {name}}}\n"
            f"spec: {{selector: {selector}, ports: {ports}{extra}}}\n")


@pytest.fixture
def plane(cluster):
    cluster.start_server()
    return cluster


def refused(c, manifest: str) -> str:
    res = c.apply(manifest, "--no-wait", check=False)
    assert res.returncode != 0, f"accepted: {res.stdout}"
    return res.stderr


def stored(c) -> tuple[list, list]:
    return (c.cli_json("get", "services").get("services", []), c.cli_json("get", "workloads").get("workloads", []))


@pytest.mark.parametrize("manifest, expected", [
    (WORKLOAD + svc(selector="{app: wbe}"), "spec.selector app=wbe matches no workload"),
    (WORKLOAD + svc(ports="[{port: 80}, {port: 80, name: b}]"), "spec.ports[1].port: 80 is already listed"),
    (WORKLOAD + svc(name="Web_1"), 'metadata.name: "Web_1" must consist of lower-case letters'),
    (WORKLOAD + svc(name="web", selector="{app: other}") + "---\n" + WORKLOAD.replace("name: web, labels: {app: web}",
                                                                             "name: other, labels: {app: other}"),
     "workload web has the same name but spec.selector app=other does not select it"),
    (WORKLOAD + svc(name="web-0"), "web-0 is the name (and hostname) of a replica of workload web"),
    (WORKLOAD + svc(ports="[{port: 80, protocol: udp}]"), '"udp" is not supported'),
    (WORKLOAD + svc(selector="{}"), "spec.selector: required"),
])
def test_bad_services_are_refused_and_nothing_is_stored(plane, manifest, expected):
    err = refused(plane, manifest)
    assert expected in err, err
    assert stored(plane) == ([], [])


def test_a_node_port_published_by_another_service_is_refused(plane):
    c = plane
    c.apply(WORKLOAD + svc(extra=", publish: [{port: 80, nodePort: 30080}]"), "--no-wait")
    err = refused(c, svc(name="api", extra=", publish: [{port: 80, nodePort: 30080}]"))
    assert "nodePort 30080 is already published by service web" in err, err
    assert [s["name"] for s in stored(c)[0]] == ["web"]
    # The service that publishes it may keep it when applied again.
    assert c.apply(WORKLOAD + svc(extra=", publish: [{port: 80, nodePort: 30080}]"), "--no-wait").returncode == 0


def test_a_service_and_its_deletion(plane):
    c = plane
    out = c.apply(WORKLOAD + svc(), "--no-wait").stdout
    assert "service/web: created" in out
    [s] = stored(c)[0]
    text = c.cli("describe", "service", "web").stdout
    assert "web-0" in text and "not on a node" in text       # no node yet: Pending
    assert "10.96.1.1" in c.cli("get", "services", "-o", "yaml").stdout
    assert c.cli_json("get", "service", "web")["virtual_address"] == s["virtual_address"] == "10.96.1.1"
    c.cli("delete", "workload", "web")
    assert "<none>: the selector app=web matches no workload" in c.cli("describe", "service", "web").stdout
    assert c.cli("delete", "service", "web").stdout.strip() == "service/web: deleted"
    assert stored(c)[0] == []
    res = c.cli("delete", "service", "web", check=False)
    assert res.returncode != 0 and "not found: service web" in res.stderr
