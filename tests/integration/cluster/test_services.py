"""Services across nodes: real plane, real agents inside their nodes' linked network namespaces,
real dockerd engines; looked at through the CLI and from inside containers, as a user would."""
from __future__ import annotations

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


def answers(cluster, n: int) -> list[str]:
    return [fetch(cluster).split()[0] for _ in range(n)]


def test_connections_spread_over_three_replicas_on_three_nodes(nodes):
    c = nodes
    c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
    c.add_nodes(3, prefix="s", labels=lambda i: "role=server")
    c.apply(CLIENT)
    c.apply(web(replicas=3, placement="{nodeSelector: {role: server}, maxPerNode: 1}"))
    reps = c.wait_running("web", 3)
    assert len({r["node"] for r in reps}) == 3
    wait_for("3 ready endpoints", lambda: len(ready_endpoints(c)) == 3)
    wait_for("the client's node routing to all three", lambda: set(answers(c, 6)) == {"web-0", "web-1", "web-2"})
    seen = answers(c, 24)
    assert set(seen) == {"web-0", "web-1", "web-2"}, seen
    assert min(seen.count(r) for r in set(seen)) >= 4, f"connections are not balanced: {seen}"


READY_FILE = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  template:
    image: local/busybox:1
    command: [sh, -c, "mkdir -p /tmp/www && hostname > /tmp/www/index.html && touch /tmp/ready && exec httpd -f -p 8080 -h /tmp/www"]
    readinessProbe: {exec: {command: [test, -f, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
  placement: {nodeSelector: {role: server}, maxPerNode: 1}    # host network: one port 8080 per node
---
apiVersion: orchestra/v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}
"""


def test_a_replica_failing_readiness_leaves_the_endpoints_and_comes_back(nodes):
    c = nodes
    c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
    c.add_nodes(2, prefix="s", labels=lambda i: "role=server")
    c.apply(CLIENT)
    c.apply(READY_FILE)
    placed = {r["id"]: r["node"] for r in c.wait_running("web", 2)}
    wait_for("2 ready endpoints", lambda: ready_endpoints(c) == {"web-0", "web-1"})
    [web0] = c.containers(placed["web-0"], "web")
    web0.exec_run(["rm", "/tmp/ready"])
    wait_for("web-0 out of the endpoints", lambda: ready_endpoints(c) == {"web-1"})
    [ep] = [e for e in service(c)["endpoints"] if e["replica_id"] == "web-0"]
    assert not ep.get("ready") and "not ready" in ep["reason"]
    assert "web-0" in c.cli("describe", "service", "web").stdout
    time.sleep(2)     # the client's node has routed by the new revision (the plane waited for it above)
    assert set(answers(c, 10)) == {"web-1"}
    web0.exec_run(["touch", "/tmp/ready"])
    wait_for("web-0 back in the endpoints", lambda: ready_endpoints(c) == {"web-0", "web-1"})
    wait_for("web-0 answering again", lambda: "web-0" in answers(c, 6))


# In the client's container: GET / through the service as fast as nc goes, one line per request
# (`<seconds> ok <answer>` or `<seconds> FAIL <what came back>`), until /tmp/stop exists.
LOAD = """\
i=0; rm -f /tmp/stop /tmp/load.log
while [ ! -f /tmp/stop ]; do
  out=$(printf 'GET / HTTP/1.0\\r\\nHost: web\\r\\n\\r\\n' | nc -w 5 web 80 2>&1)
  case "$out" in
    HTTP/1.?' 200'*) echo "$(date +%s) ok $(echo "$out" | tail -n 1)" >> /tmp/load.log ;;
    *) echo "$(date +%s) FAIL $(echo "$out" | head -n 1)" >> /tmp/load.log ;;
  esac
done
"""


def test_no_request_fails_during_a_rolling_update(nodes):
    c = nodes
    c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
    # Containers on Docker's bridge: each replica has its own network namespace (and port 8080).
    c.add_nodes(2, prefix="s", labels=lambda i: "role=server", bridge=True)
    c.apply(CLIENT)
    c.apply(web(replicas=2))
    c.wait_running("web", 2)
    wait_for("2 ready endpoints", lambda: len(ready_endpoints(c)) == 2)
    client = client_container(c)
    client.exec_run(["sh", "-c", LOAD], detach=True)
    wait_for("the load to run", lambda: client.exec_run(["sh", "-c", "wc -l < /tmp/load.log"]).output.strip()
             not in (b"", b"0"))
    started = int(client.exec_run(["date", "+%s"]).output)
    out = c.apply(web(replicas=2, version="v2")).stdout   # waits until the rollout is complete: old containers gone
    assert {(r["revision"], r["phase"]) for r in c.replicas("web")} == {(2, "Running")}, out
    time.sleep(2)
    client.exec_run(["touch", "/tmp/stop"])
    time.sleep(1)
    lines = client.exec_run(["cat", "/tmp/load.log"]).output.decode().splitlines()
    during = [line.split(" ", 2) for line in lines if int(line.split()[0]) >= started]
    failed = [line for line in during if line[1] != "ok"]
    versions = {line[2].split()[-1] for line in during if line[1] == "ok"}
    seconds = max(1, int(during[-1][0]) - int(during[0][0]))
    print(f"rolling update: {len(during)} requests in {seconds}s ({len(during) / seconds:.0f}/s), "
          f"{len(failed)} failed")
    assert not failed, f"{len(failed)} of {len(during)} requests failed during the update: {failed[:5]}"
    assert versions == {"v1", "v2"}, versions
    assert len(during) / seconds >= 20, f"only {len(during)} requests in {seconds}s: the client was too slow"
    assert {r["revision"] for r in c.replicas("web")} == {2}


def test_a_killed_nodes_endpoints_vanish_within_the_grace(nodes):
    c = nodes
    c.add_nodes(1, prefix="a", labels=lambda i: "role=client")
    c.add_nodes(2, prefix="s", labels=lambda i: "role=server")
    c.apply(CLIENT)
    c.apply(web(replicas=2, placement="{nodeSelector: {role: server}, maxPerNode: 1}"))
    reps = {r["id"]: r["node"] for r in c.wait_running("web", 2)}
    wait_for("2 ready endpoints", lambda: len(ready_endpoints(c)) == 2)
    lost = reps["web-1"]
    c.agents[lost].kill9()
    c.network.cut(c.engines[lost].netns_pid)        # the node is gone from the link
    wait_for(f"{lost}'s endpoint gone", lambda: ready_endpoints(c) == {"web-0"}, timeout=c.node_grace_s + 15)
    survivor = reps["web-0"]
    assert set(answers(c, 8)) == {"web-0"}
    log = c.agents["a-1"].log()
    assert "1 services, 1 endpoints" in log.split("1 services, 2 endpoints")[-1], \
        "the client's node did not route by an Endpoints revision without the lost node"
    assert survivor != lost
