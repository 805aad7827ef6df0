"""orchestra.server.daemons: one replica per eligible node, rolled node by node."""
from __future__ import annotations

from orchestra.server.daemons import DaemonReplica, step
from orchestra.server.rollout import Goal, ReplicaView


def d(i: int, node: str, revision: int = 1, available: bool = True, terminating: bool = False):
    return DaemonReplica(ReplicaView(id=f"agent-{i}", index=i, revision=revision, available=available,
                                     ready=available, terminating=terminating, node=node), node)


def goal(n: int, revision: int = 1, surge: int = 0, unavailable: int = 1) -> Goal:
    return Goal(desired=n, revision=revision, max_surge=surge, max_unavailable=unavailable)


def test_one_per_eligible_node_following_nodes():
    s = step(goal(3), ["a", "b", "c"], [d(0, "a")])
    assert sorted(s.create) == ["b", "c"] and s.retire == []
    s = step(goal(2), ["a", "b"], [d(0, "a"), d(1, "b"), d(2, "c")])        # c left
    assert s.retire == [("agent-2", "node c is no longer one the daemon runs on")] and s.create == []


def test_a_duplicate_on_one_node_goes():
    s = step(goal(1), ["a"], [d(0, "a"), d(1, "a")])
    assert [rid for rid, _ in s.retire] == ["agent-1"]


def test_rolls_node_by_node_within_max_unavailable():
    old = [d(0, "a"), d(1, "b"), d(2, "c")]
    s = step(goal(3, revision=2, unavailable=1), ["a", "b", "c"], old)
    assert len(s.retire) == 1 and s.create == []
    # While that node has no available replica, no other node is touched.
    after = [d(0, "a", terminating=True), d(1, "b"), d(2, "c")]
    s = step(goal(3, revision=2, unavailable=1), ["a", "b", "c"], after)
    assert s.retire == [] and s.create == []             # a's old container still holds the node
    s = step(goal(3, revision=2, unavailable=1), ["a", "b", "c"], [d(1, "b"), d(2, "c")])
    assert s.create == ["a"] and s.retire == []


def test_with_surge_the_new_one_starts_beside_the_old_one():
    s = step(goal(2, revision=2, surge=1, unavailable=0), ["a", "b"], [d(0, "a"), d(1, "b")])
    assert s.create == ["a"] and s.retire == []
    s = step(goal(2, revision=2, surge=1, unavailable=0), ["a", "b"],
             [d(0, "a"), d(2, "a", revision=2), d(1, "b")])
    assert s.retire == [("agent-0", "replaced by revision 2")] and s.create == []
