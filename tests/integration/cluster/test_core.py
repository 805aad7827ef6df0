"""Issue 2, end to end on one machine: a real control plane, three real agents, each with its
own real dockerd, driven through the `orchestra` command as a user would."""
from __future__ import annotations

import re
import textwrap

from harness import wait_for

MI = 1024 * 1024


def workload(name: str = "web", replicas: int = 6, cpu: str = "250m", memory: str = "64Mi",
             command: str = '[sleep, "3600"]', extra: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata:
          name: {name}
          labels: {{app: {name}}}
        spec:
          replicas: {replicas}
          template:
            image: local/busybox:1
            command: {command}
            env: {{GREETING: hello}}
            resources: {{cpu: {cpu}, memory: {memory}}}
        """) + extra


def per_node(cluster, workload_name: str) -> dict[str, int]:
    return {n: len(cluster.containers(n, workload_name)) for n in cluster.agents}


def test_six_replicas_run_on_three_engines_with_their_limits(cluster):
    cluster.start_server()
    cluster.add_nodes(3)

    out = cluster.apply(workload()).stdout
    assert "web" in out and "created" in out

    reps = cluster.wait_running("web", 6)
    assert {r["node"] for r in reps} == {"node-1", "node-2", "node-3"}
    # Spread: two per node, and the containers are really there on each engine.
    assert per_node(cluster, "web") == {"node-1": 2, "node-2": 2, "node-3": 2}
    for node in cluster.agents:
        for c in cluster.containers(node, "web"):
            hc = c.attrs["HostConfig"]
            assert hc["NanoCpus"] == 250_000_000
            assert hc["Memory"] == 64 * MI
            assert "GREETING=hello" in c.attrs["Config"]["Env"]
            assert c.labels["orchestra.node"] == node
            assert c.labels["orchestra.replica"].startswith("web-")

    table = cluster.cli("get", "replicas").stdout
    for r in reps:
        assert r["id"] in table
    assert table.count("Running") == 6

    # Usage reaches the user: `top replicas` has a non-zero memory figure for every replica.
    def usage_reported():
        return all(int(r.get("usage", {}).get("memory_bytes", 0)) > 0 for r in cluster.replicas("web"))
    wait_for("memory usage of every replica", usage_reported, timeout=60)
    top = cluster.cli("top", "replicas").stdout.splitlines()
    rows = [line for line in top[1:] if line.startswith("web-")]
    assert len(rows) == 6, top
    for row in rows:
        used = row.split()[3].split("/")[0]          # MEMORY (USED/LIMIT), e.g. 324Ki/64Mi
        assert re.fullmatch(r"[0-9.]+[KMG]?i?B?", used) and float(re.match(r"[0-9.]+", used)[0]) > 0, row


def test_scale_up_and_down_converge(cluster):
    cluster.start_server()
    cluster.add_nodes(3)
    cluster.apply(workload(replicas=3))
    cluster.wait_running("web", 3)

    assert "configured" in cluster.apply(workload(replicas=7)).stdout
    cluster.wait_running("web", 7)
    wait_for("7 containers", lambda: sum(per_node(cluster, "web").values()) == 7)

    cluster.apply(workload(replicas=2))
    cluster.wait_running("web", 2)
    wait_for("2 containers left", lambda: sum(per_node(cluster, "web").values()) == 2)
    assert sorted(r["id"] for r in cluster.replicas("web")) == ["web-0", "web-1"]

    assert "unchanged" in cluster.apply(workload(replicas=2)).stdout


def test_workload_bigger_than_any_node_stays_pending_and_says_why(cluster):
    cluster.start_server()
    cluster.add_nodes(3, memory="1Gi")
    res = cluster.apply(workload(name="huge", replicas=1, memory="3Gi"), "--no-wait")
    assert res.returncode == 0

    wait_for("huge-0 Pending with a reason",
             lambda: [r for r in cluster.replicas("huge") if r["phase"] == "Pending" and r.get("reason")])
    described = cluster.cli("describe", "workload", "huge").stdout
    assert "0/3 nodes" in described
    assert "insufficient memory" in described
    assert all(len(cluster.containers(n)) == 0 for n in cluster.agents)


def test_apply_waits_and_reports_pending_on_timeout(cluster):
    cluster.start_server()
    cluster.add_nodes(1, memory="1Gi")
    res = cluster.apply(workload(name="huge", replicas=1, memory="3Gi"), "--timeout", "5", check=False)
    assert res.returncode != 0
    assert "huge-0" in res.stderr + res.stdout
    assert "insufficient memory" in res.stderr + res.stdout


def test_delete_removes_every_container(cluster):
    cluster.start_server()
    cluster.add_nodes(3)
    cluster.apply(workload(replicas=4))
    cluster.wait_running("web", 4)

    cluster.cli("delete", "workload", "web")
    wait_for("no container left", lambda: all(
        len(cluster.containers(n, all_states=True)) == 0 for n in cluster.agents))
    assert cluster.replicas("web") == []
    res = cluster.cli("describe", "workload", "web", check=False)
    assert res.returncode != 0 and "web" in res.stderr


def test_invalid_manifest_is_refused_and_nothing_is_stored(cluster):
    cluster.start_server()
    bad = workload(name="good") + "---\n" + workload(name="bad", cpu="abc")
    res = cluster.apply(bad, check=False)
    assert res.returncode != 0
    assert "document 2" in res.stderr
    assert "spec.template.resources.cpu" in res.stderr
    assert res.stderr.count("\n") >= 1
    assert cluster.cli_json("get", "workloads") in ([], {"workloads": []}, {})


def test_stopped_agent_makes_its_node_not_ready(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.agents["node-2"].stop()
    wait_for("node-2 NotReady", lambda: cluster.nodes()["node-2"]["status"] == "NotReady",
             timeout=cluster.node_grace_s + 30)
    assert cluster.nodes()["node-1"]["status"] == "Ready"
