"""Services across nodes: real plane, real agents inside their nodes' linked network namespaces,
real dockerd engines; looked at through the CLI and from inside containers, as a user would."""
from __future__ import annotations

import threading
import time

import pytest

from harness import wait_for

WEB = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: web, labels: {{app: web}}}}
spec:
  replicas: {replicas}
  template:
    image: local/busybox:1
    env: {{VERSION: "{version}"}}
    # The page says which replica answered (its hostname is its replica id).
    command: [sh, -c, "mkdir -p /tmp/www && echo $(hostname) $VERSION > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www"]
    readinessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1}}
    terminationGracePeriodSeconds: 2
  placement: {placement}
  update: {{maxSurge: 1, maxUnavailable: 0}}
---
apiVersion: orchestra/v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"""

CLIENT = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: client, labels: {app: client}}
spec:
  replicas: 1
  template:
    image: local/busybox:1
    command: [sleep, "86400"]
    terminationGracePeriodSeconds: 0
  placement: {nodeSelector: {role: client}}
"""


def web(replicas=1, version="v1", placement="{nodeSelector: {role: server}}"):
    return WEB.format(replicas=replicas, version=version, placement=placement)


def client_container(cluster):
    node = next(r["node"] for r in cluster.replicas("client") if r.get("phase") == "Running")
    [c] = cluster.containers(node, "client")
    return c


# busybox's own wget crashes in this image (static glibc); nc resolves names like any client does
# (the container's resolv.conf: the node's DNS), so an HTTP/1.0 request goes through nc.
GET = "printf 'GET / HTTP/1.0\\r\\nHost: %s\\r\\n\\r\\n' {host} | nc -w 5 {host} {port}"


def fetch(cluster, host: str = "web", port: int = 80, container=None) -> str:
    """The body of GET / from inside the client's container."""
    c = container or client_container(cluster)
    res = c.exec_run(["sh", "-c", GET.format(host=host, port=port)])
    out = res.output.decode(errors="replace")
    head, _, body = out.partition("\r\n\r\n")
    assert res.exit_code == 0 and head.startswith("HTTP/1.") and " 200 " in head.splitlines()[0], \
        f"GET http://{host}:{port}/ from the client failed (exit {res.exit_code}): {out!r}"
    return body.strip()


def service(cluster, name="web") -> dict:
    return cluster.cli_json("describe", "service", name)["service"]


def ready_endpoints(cluster, name="web") -> set[str]:
    return {e["replica_id"] for e in service(cluster, name).get("endpoints", []) if e.get("ready")}


@pytest.fixture
def nodes(linked_cluster):
    c = linked_cluster
    c.start_server()
    return c


def test_a_container_on_one_node_reaches_by_name_a_service_whose_replica_is_on_another(nodes):
    c = nodes
    c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
    c.add_nodes(1, prefix="b", labels=lambda i: "role=server")
    c.apply(CLIENT)
    c.apply(web())
    [rep] = c.wait_running("web", 1)
    assert rep["node"] == "b-2"
    wait_for("web's endpoint", lambda: ready_endpoints(c) == {"web-0"})
    assert fetch(c) == "web-0 v1"
    assert fetch(c, "web.orchestra") == "web-0 v1"
    # The replica's hostname is its id; the client reaches the service by its stable address too.
    info = service(c)
    assert info["virtual_address"].startswith("10.96.")
    assert fetch(c, info["virtual_address"]) == "web-0 v1"
    [ep] = info["endpoints"]
    assert (ep["node"], ep["address"]) == ("b-2", c.network.addresses[c.engines["b-2"].netns_pid])
    text = c.cli("describe", "service", "web").stdout
    assert "web-0" in text and "b-2" in text and "yes" in text
    assert "web" in c.cli("get", "services").stdout
