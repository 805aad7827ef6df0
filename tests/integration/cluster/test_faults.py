"""Issue 5: failures of nodes, agents, engines and the control plane end with the cluster back
at its desired state, nothing lost and no replica running twice."""
from __future__ import annotations

import signal
import time

from harness import wait_for
from test_core import workload


def running_containers(cluster) -> dict[str, list[str]]:
    """replica id -> nodes where a container of it is running (as the engines see it)."""
    seen: dict[str, list[str]] = {}
    for node in cluster.agents:
        if not cluster.engines[node].running:
            continue
        for c in cluster.containers(node):
            seen.setdefault(c.labels["orchestra.replica"], []).append(node)
    return seen


def assert_no_duplicates(cluster) -> None:
    dup = {r: nodes for r, nodes in running_containers(cluster).items() if len(nodes) > 1}
    assert not dup, f"replicas running twice: {dup}"


def test_killed_agent_replicas_run_elsewhere(cluster):
    cluster.start_server()
    cluster.add_nodes(3)
    cluster.apply(workload(replicas=6))
    before = {r["id"]: r["node"] for r in cluster.wait_running("web", 6)}
    lost = [rid for rid, node in before.items() if node == "node-3"]
    assert lost

    cluster.agents["node-3"].kill9()
    cluster.engines["node-3"].stop()       # the machine is gone, with its containers

    def moved():
        reps = {r["id"]: r for r in cluster.replicas("web")}
        return all(reps[rid]["node"] in ("node-1", "node-2") and reps[rid]["phase"] == "Running"
                   for rid in lost)
    wait_for("node-3's replicas Running on other nodes", moved, timeout=cluster.node_grace_s + 60)
    assert cluster.nodes()["node-3"]["status"] == "NotReady"
    assert sum(len(v) for v in running_containers(cluster).values()) == 6
    events = cluster.cli("describe", "node", "node-3").stdout
    assert "NotReady" in events


def test_partitioned_agent_does_not_leave_a_replica_running_twice(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(workload(replicas=4))
    before = {r["id"]: r["node"] for r in cluster.wait_running("web", 4)}
    moved_ids = [rid for rid, node in before.items() if node == "node-2"]

    cluster.agents["node-2"].signal(signal.SIGSTOP)       # a partition: the agent hears nothing
    try:
        wait_for("node-2 NotReady", lambda: cluster.nodes()["node-2"]["status"] == "NotReady",
                 timeout=cluster.node_grace_s + 30)
        wait_for("node-2's replicas Running on node-1", lambda: all(
            r["node"] == "node-1" and r["phase"] == "Running"
            for r in cluster.replicas("web") if r["id"] in moved_ids))
    finally:
        cluster.agents["node-2"].signal(signal.SIGCONT)

    wait_for("node-2 Ready again", lambda: cluster.nodes()["node-2"]["status"] == "Ready")
    # Once the node is back its stale containers go, and from then on nothing runs twice.
    wait_for("stale containers removed from node-2",
             lambda: not any(c.labels["orchestra.replica"] in moved_ids for c in cluster.containers("node-2")))
    for _ in range(10):
        assert_no_duplicates(cluster)
        time.sleep(0.5)
    assert sum(len(v) for v in running_containers(cluster).values()) == 4


def test_control_plane_killed_during_apply_loses_nothing(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(workload(replicas=20, cpu="50m", memory="16Mi"), "--no-wait")
    time.sleep(0.3)                        # mid-way: some replicas bound, some containers starting
    cluster.server.kill9()
    cluster.start_server()

    cluster.wait_running("web", 20, timeout=120)
    wait_for("20 containers", lambda: sum(len(v) for v in running_containers(cluster).values()) == 20)
    assert_no_duplicates(cluster)


def test_restarted_agent_adopts_its_containers(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.apply(workload(replicas=3))
    cluster.wait_running("web", 3)
    ids = sorted(c.id for c in cluster.containers("node-1"))

    cluster.agents["node-1"].kill9()
    cluster.start_agent("node-1", cluster.engines["node-1"])
    cluster.wait_nodes_ready("node-1")
    cluster.wait_running("web", 3)
    time.sleep(3)                          # a few reconcile rounds
    assert sorted(c.id for c in cluster.containers("node-1")) == ids


def test_engine_restart_is_visible_and_converges(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.apply(workload(replicas=2))
    cluster.wait_running("web", 2)

    engine = cluster.engines["node-1"]
    engine.stop_daemon()
    wait_for("runtime reported unavailable",
             lambda: "unavailable" in cluster.nodes()["node-1"].get("runtime_status", ""), timeout=60)
    engine.start_daemon()
    wait_for("runtime available", lambda: cluster.nodes()["node-1"].get("runtime_status") == "available",
             timeout=60)
    cluster.wait_running("web", 2, timeout=120)
    wait_for("2 running containers", lambda: len(cluster.containers("node-1", "web")) == 2)


def test_restart_policies_through_the_cli(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    crash = '[sh, -c, "sleep 0.2; exit 1"]'
    cluster.apply(workload(name="onfail", replicas=1, command=crash) .replace(
        "resources:", "restartPolicy: OnFailure\n    resources:"), "--no-wait")
    cluster.apply(workload(name="never", replicas=1, command=crash).replace(
        "resources:", "restartPolicy: Never\n    resources:"), "--no-wait")

    wait_for("onfail restarted at least twice",
             lambda: cluster.replicas("onfail")[0].get("restarts", 0) >= 2, timeout=60)
    rep = cluster.replicas("never")[0]
    wait_for("never Exited with code 1", lambda: (lambda r: r["phase"] == "Exited" and r.get("exit_code") == 1)(
        cluster.replicas("never")[0]), timeout=60)
    time.sleep(3)
    rep = cluster.replicas("never")[0]
    assert rep.get("restarts", 0) == 0
    wide = cluster.cli("get", "replicas", "-o", "wide").stdout
    assert "onfail-0" in wide and "never-0" in wide
