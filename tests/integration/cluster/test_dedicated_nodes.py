"""Issue 14, tenant VM pools on the plane's side, with a real plane, real agents and dockerd: a node
joined with a token labelled orchestra.tenant=T (as a pool's VMs are) takes only tenant T's
replicas, whatever labels its agent claims, and says so in the explanation; `delete node` removes
a node's record only once its agent is gone."""
from __future__ import annotations

import textwrap

from harness import wait_for


def workload(name: str, tenant: str, replicas: int, selector: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}}}
        spec:
          replicas: {replicas}
          tenant: {tenant}
          template:
            image: local/busybox:1
            command: [sleep, "3600"]
            resources: {{cpu: 100m, memory: 32Mi}}
          placement: {{maxPerNode: 1{", nodeSelector: {" + selector + "}" if selector else ""}}}
        """)


def test_a_node_dedicated_by_its_token_takes_only_its_tenant_and_leaves_when_deleted(cluster):
    cluster.start_server()
    [plain] = cluster.add_nodes(1)
    token = cluster.cli("token", "create", "--ttl", "1h", "--labels",
                        "orchestra.tenant=blue,orchestra.pool=blue").stdout.strip()
    [engine] = cluster.engine_factory(1)
    # The agent claims another tenant: the label in its certificate wins.
    cluster.start_agent("blue-1", engine, labels="orchestra.tenant=red", token=token)
    cluster.wait_nodes_ready("blue-1")
    assert cluster.nodes()["blue-1"]["labels"]["orchestra.tenant"] == "blue"

    cluster.apply(workload("red", "red", 2), "--no-wait")
    wait_for("red-0 Running on the plain node",
             lambda: [r for r in cluster.replicas("red") if r["phase"] == "Running" and r["node"] == plain])
    [pending] = wait_for("red-1 Pending", lambda: [r for r in cluster.replicas("red")
                                                   if r["phase"] == "Pending" and r.get("reason")])
    assert "1 dedicated to tenant blue (blue-1)" in pending["reason"], pending["reason"]

    cluster.apply(workload("blue", "blue", 1, "orchestra.tenant: blue"))
    [running] = cluster.wait_running("blue", 1)
    assert running["node"] == "blue-1"
    assert [c.labels["orchestra.replica"] for c in cluster.containers("blue-1")] == ["blue-0"]

    cluster.cli("delete", "workload", "blue")
    refused = cluster.cli("delete", "node", "blue-1", check=False)
    assert refused.returncode == 1 and "node blue-1 is connected: stop its agent" in refused.stderr, refused.stderr
    cluster.agents["blue-1"].stop()
    wait_for("node blue-1 removed", lambda: "node/blue-1: deleted" in cluster.cli("delete", "node", "blue-1",
                                                                                check=False).stdout)
    assert "blue-1" not in cluster.nodes()
    assert "NodeRemoved" in cluster.cli("events", "--for", "node/blue-1").stdout
