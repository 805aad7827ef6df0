"""Issue 14, images to any node: `orchestra image load` through the plane and each agent's own
stream, `orchestra image list`, and placement that refuses nodes lacking a replica's image, on a
real plane, real agents and one real dockerd per node."""
from __future__ import annotations

import textwrap

from harness import wait_for

from tests.support import busybox_image

APP = "local/app:1"


def app_workload(replicas: int = 1, max_per_node: int = 0) -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: app}}
        spec:
          replicas: {replicas}
          template:
            image: {APP}
            command: [sleep, "3600"]
            resources: {{cpu: 100m, memory: 32Mi}}
          placement: {{maxPerNode: {max_per_node}}}
        """)


def engine_has(cluster, node: str, image: str) -> bool:
    with cluster.engines[node].client() as client:
        return any(image in (i.tags or []) for i in client.images.list())


def listed(cluster) -> dict[str, set[str]]:
    """`image list`'s table: image -> the nodes holding it."""
    out = cluster.cli("image", "list").stdout
    rows = {}
    for line in out.splitlines()[1:]:
        cells = line.split()
        if len(cells) == 3:
            rows[cells[0]] = set(cells[2].split(","))
    return rows


def test_a_replica_waits_for_its_image_and_image_load_reaches_every_connected_node(cluster, tmp_path):
    cluster.start_server()
    cluster.add_nodes(3)
    archive = busybox_image.build(str(tmp_path / "app.tar"), tag=APP)

    # The third node goes down: its agent stops, the plane marks it NotReady.
    cluster.agents["node-3"].stop()
    wait_for("node-3 NotReady", lambda: cluster.nodes()["node-3"]["status"] == "NotReady")

    # No node has the image: the replica stays Pending, and says why.
    cluster.apply(app_workload(), "--no-wait")
    [pending] = wait_for("app-0 Pending with a reason",
                         lambda: [r for r in cluster.replicas("app") if r["phase"] == "Pending" and r.get("reason")])
    assert pending["reason"] == f"0/3 nodes fit: 2 lack image {APP} (node-1, node-2), 1 node not ready (node-3)"
    described = cluster.cli("describe", "replica", pending["id"]).stdout
    assert f"2 lack image {APP}" in described

    # The load reaches the two connected nodes; the third is reported and skipped; exit non-zero.
    res = cluster.cli("image", "load", archive, check=False, timeout=300)
    assert res.returncode == 1, res.stdout + res.stderr
    lines = {line.split(":", 1)[0]: line for line in res.stdout.splitlines()}
    assert lines["node-1"] == f"node-1: loaded {APP}"
    assert lines["node-2"] == f"node-2: loaded {APP}"
    assert lines["node-3"].startswith("node-3: not loaded: node node-3 is not connected")
    assert "not loaded on 1 of 3 nodes" in res.stderr
    assert engine_has(cluster, "node-1", APP) and engine_has(cluster, "node-2", APP)
    assert not engine_has(cluster, "node-3", APP)

    # The pending replica is placed on a node that has the image now, and runs there.
    [running] = cluster.wait_running("app", 1)
    assert running["node"] in ("node-1", "node-2")

    rows = listed(cluster)
    assert rows[APP] == {"node-1", "node-2"}
    assert rows["local/busybox:1"] == {"node-1", "node-2", "node-3"}
    full = {n["node"]: n for n in cluster.cli_json("image", "list")["nodes"]}
    assert full["node-3"]["status"] == "NotReady" and APP not in full["node-3"]["images"]
    assert any(i.startswith("sha256:") for i in full["node-1"]["images"])


def test_image_load_to_named_nodes_and_bad_input(cluster, tmp_path):
    cluster.start_server()
    cluster.add_nodes(2)
    archive = busybox_image.build(str(tmp_path / "app.tar"), tag=APP)

    res = cluster.cli("image", "load", archive, "--nodes", "node-2", timeout=300)
    assert res.stdout.strip() == f"node-2: loaded {APP}"
    assert engine_has(cluster, "node-2", APP) and not engine_has(cluster, "node-1", APP)
    # The agent tells the plane after the load: `image list` sees it without waiting for a poll.
    wait_for("image list to show the image on node-2", lambda: listed(cluster).get(APP) == {"node-2"})

    # A replica goes where its image is (one per node: the second waits for node-1 to have it).
    cluster.apply(app_workload(replicas=2, max_per_node=1), "--no-wait")
    wait_for("one replica Running on node-2, one Pending",
             lambda: sorted((r["phase"], r.get("node", "")) for r in cluster.replicas("app"))
             == [("Pending", ""), ("Running", "node-2")])

    # An image loaded behind orchestra's back (docker load by hand) is seen by the next poll.
    with cluster.engines["node-1"].client() as client, open(archive, "rb") as f:
        client.images.load(f.read())
    cluster.wait_running("app", 2)
    assert listed(cluster)[APP] == {"node-1", "node-2"}

    unknown = cluster.cli("image", "load", archive, "--nodes", "node-2,nope", check=False)
    assert unknown.returncode == 1 and "no node named nope" in unknown.stderr

    not_tar = tmp_path / "not.tar"
    not_tar.write_text("hello")
    bad = cluster.cli("image", "load", str(not_tar), check=False)
    assert bad.returncode == 1 and "is not a tar archive" in bad.stderr
    missing = cluster.cli("image", "load", str(tmp_path / "absent.tar"), check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
