"""Issue 15: the etcd under several planes loses members. One of three: everything goes on.
Two of three: an apply fails with an error that says the store has no quorum, nothing of it is
half-written, and once the members are back a plane leads and applies work again. And every
plane restarted with 10,000 replicas stored: they come back, all of them."""
from __future__ import annotations

import json

from harness import wait_for
from test_core import workload
from test_plane_failover import CLI_TIMEOUT, agents_follow, assert_once_each


NOWHERE = "  placement: {nodeSelector: {zone: mars}}\n"


def test_one_etcd_member_killed_everything_continues(ha):
    ha.start_planes(2)
    ha.add_nodes(2)
    ha.apply(workload("web", replicas=2, cpu="50m"), "--timeout", CLI_TIMEOUT)
    ha.etcd.members[0].kill()
    ha.apply(workload("web", replicas=4, cpu="50m"), "--timeout", CLI_TIMEOUT)
    assert_once_each(ha, "web", 4)
    ha.etcd.members[1].kill()         # and when it is another one than the first: the same
    ha.etcd.members[0].start()
    ha.apply(workload("web", replicas=3, cpu="50m"), "--timeout", CLI_TIMEOUT)
    assert_once_each(ha, "web", 3)
    ha.wait_nodes_ready(timeout=60)
    agents_follow(ha)


def test_two_etcd_members_killed_applies_fail_saying_no_quorum_then_recover(ha):
    ha.start_planes(2)
    ha.add_nodes(2)
    ha.apply(workload("web", replicas=2, cpu="50m"), "--timeout", CLI_TIMEOUT)
    ha.etcd.members[0].kill()
    ha.etcd.members[1].kill()
    failed = ha.apply(workload("lost", replicas=3, cpu="50m"), "--timeout", "60", check=False)
    assert failed.returncode != 0
    assert "no quorum" in failed.stderr, failed.stderr
    assert "Traceback" not in failed.stderr
    ha.etcd.members[0].start()
    ha.etcd.members[1].start()
    wait_for("a plane to lead again", ha.leader, timeout=120)
    # Nothing half-written: the failed apply is there whole (its write landed after all) or not at all.
    listed = ha.cli("get", "workload", "lost", "-o", "json", check=False)
    if listed.returncode == 0:
        spec = json.loads(listed.stdout)
        assert len(ha.replicas("lost")) == 3, spec
    else:
        assert "not found" in listed.stderr, listed.stderr
        assert ha.replicas("lost") == []
    ha.apply(workload("web", replicas=4, cpu="50m"), "--timeout", CLI_TIMEOUT)
    assert_once_each(ha, "web", 4)
    agents_follow(ha)


def test_every_plane_restarted_with_10000_replicas_stored(ha):
    ha.start_planes(2)
    # 100 workloads x 100 replicas that no node takes (none is in zone mars): all 10,000 are stored Pending.
    # Applied 10 workloads a call: one apply is one etcd transaction, and 10,000 replicas with their
    # events would be more than one may hold.
    for batch in range(10):
        docs = "---\n".join(workload(f"w{i:03d}", replicas=100, cpu="10m", extra=NOWHERE) for i in range(batch * 10, batch * 10 + 10))
        ha.apply(docs, "--no-wait")
    wait_for("10,000 replicas stored", lambda: len(ha.replicas()) == 10_000, timeout=300, every=5)
    for proc in ha.planes.values():
        proc.stop(timeout=60)
    for name in ha.planes:
        ha.start_plane(name)
    wait_for("a plane to lead after the restart", ha.leader, timeout=180)
    reps = wait_for("the 10,000 replicas read back", lambda: (lambda r: r if len(r) == 10_000 else None)(ha.replicas()),
                    timeout=300, every=5)
    assert len({r["id"] for r in reps}) == 10_000
    assert {r["phase"] for r in reps} == {"Pending"}
    ha.add_nodes(1)
    ha.apply(workload("web", replicas=2, cpu="50m"), "--timeout", CLI_TIMEOUT)
    assert_once_each(ha, "web", 2)
