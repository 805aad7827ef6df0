"""Issue 11, end to end: daemons following nodes, jobs to completion or failure, drain within the
update budget, and apply giving up early on what no node could ever take."""
from __future__ import annotations

import textwrap
import threading
import time

from harness import wait_for

from orchestra.api import orchestra_pb2 as pb


def doc(name: str, spec: str, template: str = "command: [sleep, \"3600\"]",
        resources: str = "{cpu: 50m, memory: 16Mi}") -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}}}
        spec:
        """) + textwrap.indent(textwrap.dedent(spec), "  ") + textwrap.indent(textwrap.dedent(f"""\
        template:
          image: local/busybox:1
          resources: {resources}
          terminationGracePeriodSeconds: 1
        """) + textwrap.indent(textwrap.dedent(template), "  "), "  ")


def running_on(cluster, name: str) -> dict[str, list[str]]:
    """node -> replica ids of `name` whose containers run there, as the engines say."""
    return {n: sorted(c.labels["orchestra.replica"] for c in cluster.containers(n, name)) for n in cluster.agents}


def test_a_daemon_follows_a_node_joining_and_one_leaving(cluster):
    cluster.start_server()
    cluster.add_nodes(2, labels=lambda i: "role=edge")
    cluster.apply(doc("edge", "mode: daemon\nplacement: {nodeSelector: {role: edge}}\n"), "--timeout", "120")
    assert all(len(ids) == 1 for ids in running_on(cluster, "edge").values())
    # A third node (not matching the selector) gets nothing, a fourth that matches gets one.
    cluster.add_nodes(1, labels=lambda i: "role=db")
    cluster.add_nodes(1, labels=lambda i: "role=edge")
    wait_for("a replica on node-4", lambda: len(running_on(cluster, "edge")["node-4"]) == 1)
    assert running_on(cluster, "edge")["node-3"] == []
    assert cluster.cli_json("get", "workload", "edge")["desired"] == 3
    # node-1 leaves: its replica goes, nothing else moves there.
    cluster.agents["node-1"].kill9()
    wait_for("the daemon on 2 nodes", lambda: sorted(r["node"] for r in cluster.replicas("edge")
                                                     if r["phase"] != "Terminating") == ["node-2", "node-4"],
             timeout=90)
    assert cluster.cli_json("get", "workload", "edge")["desired"] == 2


def test_a_job_with_completions_3_and_parallelism_2(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    res = cluster.apply(doc("batch", "mode: job\ncompletions: 3\nparallelism: 2\n",
                            'command: [sh, -c, "sleep 2; echo done"]'), "--timeout", "180")
    assert "batch: 3/3 completed" in res.stdout
    replicas = cluster.replicas("batch")
    assert sorted(r["phase"] for r in replicas) == ["Succeeded"] * 3
    table = cluster.cli("get", "workloads").stdout
    assert "3/3 completed" in table
    logs = cluster.cli("logs", "batch").stdout
    assert logs.count("done") == 3            # the finished containers' output is still there


def test_a_job_whose_replicas_fail_past_backoff_limit(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    res = cluster.apply(doc("bad", "mode: job\nbackoffLimit: 1\n", 'command: [sh, -c, "exit 3"]'),
                        "--timeout", "180", check=False)
    assert res.returncode == 1 and "job bad failed: backoffLimit 1 exceeded: 2 failures" in res.stderr
    assert [r["phase"] for r in cluster.replicas("bad")] == ["Failed", "Failed"]
    assert cluster.cli("rollout", "status", "bad", "--no-wait", check=False).returncode == 1


def test_drain_moves_replicas_within_the_budget_while_a_client_watches(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    spec = "replicas: 3\nupdate: {maxSurge: 1, maxUnavailable: 0}\n"
    cluster.apply(doc("web", spec, 'command: [sleep, "3600"]\n'
                                   'readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}\n'),
                  "--timeout", "120")
    cluster.apply(doc("edge", "mode: daemon\n"), "--timeout", "120")
    api = cluster.api()
    lows, highs, stop = [], [], threading.Event()

    def watch():
        while not stop.is_set():
            reps = api.ListReplicas(pb.ListReplicasRequest(workload="web"), timeout=10).replicas
            lows.append(sum(1 for r in reps if r.ready and r.phase != "Terminating"))
            highs.append(len(reps))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        res = cluster.cli("drain", "node-1", "--timeout", "3m")
    finally:
        stop.set()
        watcher.join(20)
    assert "node-1: drained" in res.stdout and "replicas left" in res.stdout
    assert min(lows) >= 3 and max(highs) <= 4, (lows, highs)
    assert running_on(cluster, "web")["node-1"] == []
    assert len(running_on(cluster, "edge")["node-1"]) == 1      # a daemon stays (no --include-daemons)
    assert "SchedulingDisabled" in cluster.cli("get", "nodes").stdout
    cluster.cli("uncordon", "node-1")
    assert "SchedulingDisabled" not in cluster.cli("get", "nodes").stdout


def test_apply_returns_early_when_no_node_could_ever_take_it(cluster):
    cluster.start_server()
    cluster.add_nodes(2, memory="1Gi")
    t0 = time.monotonic()
    res = cluster.apply(doc("huge", "replicas: 1\n", resources="{memory: 4Gi}"), "--timeout", "120", check=False)
    assert res.returncode == 1 and time.monotonic() - t0 < 60
    assert "huge-0 cannot be placed on any node: 0/2 nodes fit: 2 insufficient memory" in res.stderr
    res = cluster.apply(doc("nowhere", "replicas: 1\nplacement: {nodeSelector: {zone: mars}}\n"),
                        "--timeout", "120", check=False)
    assert res.returncode == 1 and "did not match nodeSelector zone=mars" in res.stderr
    # Placeable work is still waited for: a replica that only waits for room is not given up on.
    assert cluster.apply(doc("small", "replicas: 1\n"), "--timeout", "120").returncode == 0
