"""Issue 15: several planes on one etcd, real agents and engines. The leader dies (kill -9) in
the middle of an apply and of a rollout, or stops (SIGSTOP) past its lease: another plane leads,
the work completes, no replica is lost or runs twice, the agents follow, and a deposed leader
that wakes writes nothing and serves as a follower; a secret sealed by one leader opens on the next."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from harness import wait_for
from test_cluster_configs import config, consumer, main_process_env, secret
from test_cluster_volumes import container_of
from test_core import workload
from test_rollouts import versions, web

from orchestra.store.etcd import EtcdStore
from orchestra.store.records import WorkloadRecord

FAILOVER_S = 10      # the bound: another plane leads within this
CLI_TIMEOUT = "180"


def running_containers(ha) -> dict[str, list[str]]:
    """replica id -> the containers running it, on every engine (as the engines see them)."""
    seen: dict[str, list[str]] = {}
    for node in ha.agents:
        for c in ha.containers(node):
            seen.setdefault(c.labels["orchestra.replica"], []).append(c.id)
    return seen


def assert_once_each(ha, workload_name: str, count: int) -> None:
    """`count` replicas of the workload Running, each in exactly one container."""
    reps = ha.wait_running(workload_name, count, timeout=120)
    seen = {rid: ids for rid, ids in running_containers(ha).items() if rid.startswith(f"{workload_name}-")}
    assert sorted(seen) == sorted(r["id"] for r in reps), seen
    twice = {rid: ids for rid, ids in seen.items() if len(ids) > 1}
    assert not twice, f"replicas running twice: {twice}"


def kill_leader(ha) -> tuple[str, float]:
    """kill -9 the leader; (its name, the seconds until another plane leads)."""
    old = ha.leader()
    assert old
    ha.planes[old].kill9()
    killed = time.monotonic()
    new = wait_for("another plane to lead", lambda: (lambda n: n if n and n != old else "")(ha.leader()),
                   timeout=60, every=0.2)
    took = time.monotonic() - killed
    assert new != old
    return old, took


def agents_follow(ha, name: str = "after") -> None:
    """The agents reconnect to the leader and take work from it: a workload spread over every node
    runs there."""
    ha.wait_agents_connected(ha.leader(), timeout=60)
    ha.apply(workload(name, replicas=2 * len(ha.agents), cpu="50m"), "--timeout", CLI_TIMEOUT)
    per_node = {n: len(ha.containers(n, name)) for n in ha.agents}
    assert all(c >= 1 for c in per_node.values()), per_node
    ha.wait_nodes_ready(timeout=60)


def test_kill_9_of_the_leader_during_an_apply(ha):
    ha.start_planes(3)
    ha.add_nodes(2)
    ha.apply(workload("first", replicas=2, cpu="50m"), "--timeout", CLI_TIMEOUT)
    path = ha.workdir / "web.yaml"
    path.write_text(workload("web", replicas=6, cpu="100m"))
    apply = subprocess.Popen([sys.executable, "-m", "orchestra.cli.main", "apply", "-f", str(path), "--timeout",
                              CLI_TIMEOUT], env=ha.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The apply is in: its replicas exist, and not all of them run yet.
    wait_for("the apply to be under way", lambda: ha.replicas("web") or apply.poll() is not None, every=0.1)
    _, took = kill_leader(ha)
    out, err = apply.communicate(timeout=240)
    assert apply.returncode == 0, f"apply exited {apply.returncode}:\n{out}\n{err}"
    assert took < FAILOVER_S, f"no plane led for {took:.1f} s"
    assert_once_each(ha, "web", 6)
    assert_once_each(ha, "first", 2)
    agents_follow(ha)


def test_kill_9_of_the_leader_during_a_rollout(ha):
    ha.start_planes(3)
    ha.add_nodes(2, bridge=True)
    ha.apply(web("v1", replicas=4), "--timeout", CLI_TIMEOUT)
    ha.apply(web("v2", replicas=4), "--no-wait")

    def half_way():
        revs = [r["revision"] for r in ha.replicas("web") if r["phase"] != "Terminating"]
        return 2 in revs and revs.count(1) >= 1
    wait_for("the rollout to be half way", half_way, timeout=120, every=0.2)
    _, took = kill_leader(ha)
    assert took < FAILOVER_S, f"no plane led for {took:.1f} s"
    assert ha.cli("rollout", "status", "web", "--timeout", CLI_TIMEOUT).returncode == 0
    assert_once_each(ha, "web", 4)
    assert set(versions(ha).values()) == {"v2"} and len(versions(ha)) == 4
    agents_follow(ha)


def test_a_leader_stopped_past_its_lease_writes_nothing_and_rejoins_as_a_follower(ha):
    ha.start_planes(2)
    ha.add_nodes(2)
    ha.apply(workload("web", replicas=4, cpu="50m"), "--timeout", CLI_TIMEOUT)
    old = ha.leader()
    other = next(n for n in ha.planes if n != old)
    ha.planes[old].signal(signal.SIGSTOP)
    try:
        wait_for("the other plane to lead", lambda: ha.leader(among=(other,)) == other, timeout=60, every=0.2)
        # While the old leader sleeps with its memory of 4 replicas, the new one scales to 2.
        ha.apply(workload("web", replicas=2, cpu="50m"), "--timeout", CLI_TIMEOUT)
        assert_once_each(ha, "web", 2)
    finally:
        ha.planes[old].signal(signal.SIGCONT)
    wait_for(f"{old} to say it no longer leads", lambda: "no longer leads" in ha.planes[old].log(), timeout=60)
    wait_for(f"{old} to answer as a follower", lambda: ha.leader(among=(old,)) == other, timeout=60)
    time.sleep(3)      # time for any write a fenced plane could still make
    store = EtcdStore(ha.etcd.endpoints, ha.etcd.tls, prefix=ha.prefix)
    try:
        rec = store.get(WorkloadRecord, "web")
        assert rec is not None
        doc = json.loads(rec.spec_json)
        assert doc.get("replicas", doc.get("spec", {}).get("replicas")) == 2, rec.spec_json
    finally:
        store.close()
    assert_once_each(ha, "web", 2)
    assert ha.planes[old].alive
    agents_follow(ha)


def test_a_secret_sealed_by_one_leader_opens_on_the_next(ha):
    """Every plane has the cluster's one secrets key (shared through the store like the CA): the
    new leader builds a desired set with the secret the old leader sealed."""
    ha.start_planes(2)
    ha.add_nodes(1)
    ha.apply(config() + "---\n" + secret(b"s3cret-pw") + "---\n" + consumer(replicas=1), "--timeout", CLI_TIMEOUT)
    ha.wait_running("web", 1, timeout=120)
    _, took = kill_leader(ha)
    assert took < FAILOVER_S, f"no plane led for {took:.1f} s"
    ha.wait_agents_connected(ha.leader(), timeout=60)
    ha.apply(config() + "---\n" + secret(b"s3cret-pw") + "---\n" + consumer(replicas=2), "--timeout", CLI_TIMEOUT)
    reps = {r["id"]: r["node"] for r in ha.wait_running("web", 2, timeout=120)}
    c = container_of(ha, "web-1", reps["web-1"])        # its set was built by the new leader only
    assert c is not None and main_process_env(c)["DB_PASSWORD"] == "s3cret-pw"
