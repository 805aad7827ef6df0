"""Issue 13: the plane's and the agents' Prometheus endpoints, scraped during a real run (plane,
agents, dockerd engines) and parsed with prometheus_client's own parser, say what `orchestra get`
says: nodes, replicas by phase, restarts, allocation, and what each agent runs."""
from __future__ import annotations

import urllib.request
from collections import Counter

from harness import wait_for
from prometheus_client.parser import text_string_to_metric_families
from test_core import workload

from tests.support.ports import free_port

PROBED = """\
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
    resources:"""
NEVER_READY = """\
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
    resources:"""


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value, from http://127.0.0.1:PORT/metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def phases(replicas: list[dict]) -> Counter:
    return Counter((r["workload"], r["phase"]) for r in replicas)


def test_metrics_agree_with_orchestra_get(cluster):
    plane_port = free_port()
    cluster.start_server("--metrics-listen", f"127.0.0.1:{plane_port}")
    agent_ports = {}
    for i, engine in enumerate(cluster.engine_factory(2), start=1):
        agent_ports[f"node-{i}"] = port = free_port()
        cluster.start_agent(f"node-{i}", engine, cpu="2", memory="2Gi",
                            extra=("--metrics-listen", f"127.0.0.1:{port}"))
    cluster.wait_nodes_ready(*agent_ports)

    cluster.apply(workload(name="web", replicas=3, cpu="100m", memory="16Mi").replace("    resources:", PROBED))
    cluster.apply(workload(name="crash", replicas=1, cpu="100m", memory="16Mi",      # never ready
                           command='[sh, -c, "sleep 0.5; exit 3"]').replace("    resources:", NEVER_READY),
                  "--no-wait")
    cluster.apply(workload(name="huge", replicas=1, cpu="16", memory="16Mi"), "--no-wait")   # fits nowhere
    cluster.wait_running("web", 3)
    wait_for("crash-0 restarted twice", lambda: cluster.replicas("crash")[0].get("restarts", 0) >= 2, timeout=90)

    # The crashing replica changes phase while we look: compare a scrape with two listings around it
    # that agree with each other.
    def agreeing_look():
        before = cluster.replicas()
        plane, agents = scrape(plane_port), {n: scrape(p) for n, p in agent_ports.items()}
        after = cluster.replicas()
        same = phases(before) == phases(after) and \
            [r.get("restarts", 0) for r in before] == [r.get("restarts", 0) for r in after]
        return (after, plane, agents) if same else None
    replicas, plane, agents = wait_for("a scrape between two equal listings", agreeing_look, timeout=120, every=0.2)

    # Nodes, and what is allocated on them.
    nodes = cluster.nodes()
    assert value(plane, "orchestra_nodes", state="Ready") == sum(n["status"] == "Ready" for n in nodes.values()) == 2
    assert value(plane, "orchestra_nodes", state="NotReady") == 0
    assert value(plane, "orchestra_agent_sessions") == 2
    for name, n in nodes.items():
        assert value(plane, "orchestra_node_allocatable_cpu_cores", node=name) == n["capacity"]["cpu_millis"] / 1000
        assert value(plane, "orchestra_node_allocatable_memory_bytes", node=name) == n["capacity"]["memory_bytes"]
        allocated = n.get("allocated", {})
        assert value(plane, "orchestra_node_allocated_cpu_cores", node=name) == allocated.get("cpu_millis", 0) / 1000
        assert value(plane, "orchestra_node_allocated_memory_bytes", node=name) == allocated.get("memory_bytes", 0)

    # Replicas by workload and phase: every pair `get` shows, and nothing else non-zero.
    shown = phases(replicas)
    exposed = {(dict(labels)["workload"], dict(labels)["phase"]): v for (name, labels), v in plane.items()
               if name == "orchestra_replicas" and v}
    assert exposed == dict(shown)
    assert shown[("web", "Running")] == 3 and shown[("huge", "Pending")] == 1
    assert value(plane, "orchestra_workload_replicas_ready", workload="web") == 3
    assert value(plane, "orchestra_workload_replicas_desired", workload="huge") == 1

    # Restarts: the counter has what `get` shows (nothing else restarted in this plane's life).
    restarts = {w: sum(r.get("restarts", 0) for r in replicas if r["workload"] == w) for w in ("web", "crash")}
    assert restarts["crash"] >= 2
    assert value(plane, "orchestra_replica_restarts_total", workload="crash") == restarts["crash"]
    assert value(plane, "orchestra_replica_restarts_total", workload="web") == restarts["web"] == 0
    assert value(plane, "orchestra_scheduling_attempts_total", result="scheduled") >= 4
    assert value(plane, "orchestra_scheduling_attempts_total", result="unschedulable") >= 1
    assert value(plane, "orchestra_api_requests_total", method="ListReplicas", code="OK") >= 2

    # Each agent: the containers it manages by state, as `get` places them; its operations and probes.
    for node, samples in agents.items():
        here = Counter(r["phase"] for r in replicas if r.get("node") == node)
        for state in ("Running", "BackOff", "Starting", "Exited", "Failed"):
            assert value(samples, "orchestra_agent_containers", state=state) == here.get(state, 0), (node, state)
        web_here = sum(1 for r in replicas if r.get("node") == node and r["workload"] == "web")
        assert value(samples, "orchestra_agent_containers_ready") == web_here     # crash-0 is never ready
        assert value(samples, "orchestra_agent_connected") == 1
        assert value(samples, "orchestra_agent_container_operations_total", operation="create",
                     result="success") >= sum(here.values())
        assert value(samples, "orchestra_agent_container_operation_duration_seconds_count", operation="create") >= 1
        if web_here:
            assert value(samples, "orchestra_agent_probe_results_total", probe="readiness", result="Success") >= 1
        assert value(samples, "process_resident_memory_bytes") > 0
    crash_node = next(r["node"] for r in replicas if r["workload"] == "crash")
    assert value(agents[crash_node], "orchestra_agent_container_operations_total", operation="start",
                 result="success") >= 1 + restarts["crash"]
