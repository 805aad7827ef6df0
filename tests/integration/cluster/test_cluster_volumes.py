"""Issue 12, volumes: a replica's named volume keeps its data across a re-creation of its
container, a rollout and an agent restart; the replica stays on the node that holds its data,
waits (Pending, saying why) when that node is lost, and moves only when told to, leaving the
data behind; a workload's volumes outlive it unless deleted with --volumes."""
from __future__ import annotations

import textwrap

from harness import wait_for


def stateful(name: str = "db", replicas: int = 1, greeting: str = "hello", extra_volume: str = "") -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}}}
        spec:
          replicas: {replicas}
          template:
            image: local/busybox:1
            command: [sleep, "3600"]
            env: {{GREETING: {greeting}}}
            resources: {{cpu: 100m, memory: 32Mi}}
            volumes: [{{name: data}}{extra_volume}]
            volumeMounts: [{{name: data, mountPath: /data}}]
        """)


def container_of(cluster, replica: str, node: str):
    found = [c for c in cluster.containers(node) if c.labels["orchestra.replica"] == replica]
    return found[0] if len(found) == 1 else None


def run(container, *argv: str) -> str:
    code, out = container.exec_run(list(argv))
    assert code == 0, out
    return out.decode()


def placed(cluster, workload: str) -> dict[str, str]:
    return {r["id"]: r["node"] for r in cluster.wait_running(workload, len(cluster.replicas(workload)))}


def volumes(cluster) -> dict[str, dict]:
    return {v["name"]: v for v in cluster.cli_json("get", "volumes")["volumes"]}


def engine_volumes(cluster, node: str) -> set[str]:
    with cluster.engines[node].client() as client:
        return {v.name for v in client.volumes.list(filters={"label": "orchestra.managed=true"})}


def test_data_survives_recreation_rollout_and_agent_restart(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(stateful())
    node = placed(cluster, "db")["db-0"]
    c = container_of(cluster, "db-0", node)
    run(c, "sh", "-c", "echo kept > /data/file")
    assert {m["Type"]: m["Name"] for m in c.attrs["Mounts"]}.get("volume") == "orchestra.db-0.data"
    listed = volumes(cluster)["orchestra.db-0.data"]
    assert (listed["node"], listed["replica"], listed["state"]) == (node, "db-0", "Bound")
    assert "orchestra.db-0.data" in cluster.cli("get", "volumes").stdout

    # 1. The container is removed by hand: its agent re-creates it, on the same volume.
    c.remove(force=True)
    wait_for("db-0 re-created", lambda: (n := container_of(cluster, "db-0", node)) and n.id != c.id
             and n.status == "running")
    assert run(container_of(cluster, "db-0", node), "cat", "/data/file") == "kept\n"

    # 2. A rollout (a new revision): db-0 is replaced in place, on its node, by a new db-0.
    old = container_of(cluster, "db-0", node)
    out = cluster.apply(stateful(greeting="hi")).stdout
    assert "revision 2" in out
    after = placed(cluster, "db")
    assert after == {"db-0": node}
    new = container_of(cluster, "db-0", node)
    assert new.id != old.id and new.labels["orchestra.revision"] == "2"
    assert "GREETING=hi" in new.attrs["Config"]["Env"]
    assert run(new, "cat", "/data/file") == "kept\n"

    # 3. The agent restarts, and the container is gone meanwhile: the new agent makes it again.
    cluster.agents[node].stop()
    new.remove(force=True)
    cluster.start_agent(node, cluster.engines[node])
    wait_for("db-0 running again", lambda: (n := container_of(cluster, "db-0", node)) and n.status == "running")
    assert run(container_of(cluster, "db-0", node), "cat", "/data/file") == "kept\n"
    assert engine_volumes(cluster, node) == {"orchestra.db-0.data"}


def test_replica_stays_on_its_node_and_waits_for_it_when_lost(cluster):
    cluster.start_server()
    cluster.add_nodes(3)
    cluster.apply(stateful(replicas=2))
    before = placed(cluster, "db")
    assert len(set(before.values())) == 2
    for rid, node in before.items():
        run(container_of(cluster, rid, node), "sh", "-c", f"echo {rid} > /data/who")

    # A rollout replaces each replica on the node its data is on, whatever the scores say.
    cluster.apply(stateful(replicas=2, greeting="again"))
    assert placed(cluster, "db") == before
    for rid, node in before.items():
        assert run(container_of(cluster, rid, node), "cat", "/data/who") == f"{rid}\n"

    # Its node is lost: db-0 waits for it, Pending, and says why; it does not start empty elsewhere.
    lost = before["db-0"]
    cluster.agents[lost].kill9()
    wait_for(f"{lost} NotReady", lambda: cluster.nodes()[lost]["status"] == "NotReady",
             timeout=cluster.node_grace_s + 30)

    def waiting():
        r = {x["id"]: x for x in cluster.replicas("db")}["db-0"]
        return r if r["phase"] == "Pending" and f"volume data of db-0 is on {lost}" in r.get("reason", "") else None
    r = wait_for("db-0 Pending because of its volume", waiting)
    assert "0/3 nodes fit" in r["reason"] and "orchestra move" in r["reason"]
    others = [n for n in cluster.agents if n != lost]
    assert all(container_of(cluster, "db-0", n) is None for n in others)
    described = cluster.cli("describe", "replica", "db-0").stdout
    assert f"volume data of db-0 is on {lost}" in described

    # An explicit move lets it go, with a new empty volume; the data stays behind on the lost node.
    out = cluster.cli("move", "db-0").stdout
    assert f"orchestra.db-0.data and its data stay on {lost}" in out
    moved = wait_for("db-0 Running elsewhere", lambda: {x["id"]: x for x in cluster.replicas("db")}["db-0"]
                     if {x["id"]: x for x in cluster.replicas("db")}["db-0"]["phase"] == "Running" else None)
    assert moved["node"] != lost
    fresh = container_of(cluster, "db-0", moved["node"])
    assert run(fresh, "ls", "/data") == ""
    listed = volumes(cluster)
    assert listed["orchestra.db-0.data"]["state"] == "Released"
    assert listed["orchestra.db-0.data"]["node"] == lost
    assert listed["orchestra.db-0.data.2"]["state"] == "Bound"
    assert listed["orchestra.db-0.data.2"]["node"] == moved["node"]
    described = cluster.cli("describe", "volume", "orchestra.db-0.data").stdout
    assert f"Node:     {lost}" in described and "State:    Released" in described, described
    assert "Released" in described.split("Events:")[1], described

    # The lost node returns: the left-behind volume is still there with its data, until deleted.
    cluster.start_agent(lost, cluster.engines[lost])
    cluster.wait_nodes_ready(lost)
    wait_for("the old container of db-0 removed", lambda: container_of(cluster, "db-0", lost) is None)
    assert "orchestra.db-0.data" in engine_volumes(cluster, lost)
    out = cluster.cli("delete", "volume", "orchestra.db-0.data").stdout
    assert "volume/orchestra.db-0.data: removed" in out
    assert "orchestra.db-0.data" not in engine_volumes(cluster, lost)
    assert "orchestra.db-0.data" not in volumes(cluster)


def test_delete_keeps_volumes_unless_asked(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(stateful())
    node = placed(cluster, "db")["db-0"]
    run(container_of(cluster, "db-0", node), "sh", "-c", "echo kept > /data/file")

    cluster.cli("delete", "workload", "db")
    assert cluster.replicas("db") == []
    assert volumes(cluster)["orchestra.db-0.data"]["node"] == node
    assert "orchestra.db-0.data" in engine_volumes(cluster, node)

    # Applied again, db-0 finds its data where it was.
    cluster.apply(stateful())
    assert placed(cluster, "db") == {"db-0": node}
    assert run(container_of(cluster, "db-0", node), "cat", "/data/file") == "kept\n"

    out = cluster.cli("delete", "workload", "db", "--volumes").stdout
    assert "db: deleted" in out and "volume/orchestra.db-0.data: removed" in out
    assert engine_volumes(cluster, node) == set()
    assert volumes(cluster) == {}
