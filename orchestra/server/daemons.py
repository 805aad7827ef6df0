"""Daemons as a pure function: one replica on every eligible node, following nodes as they come
and go, and rolled node by node within the update budget (surge: nodes where the new replica
starts beside the old one; unavailable: nodes left without an available replica).

Each replica is pinned to its node. No I/O, no clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from orchestra.server.rollout import Goal, ReplicaView


@dataclass(frozen=True)
class DaemonReplica:
    view: ReplicaView
    node: str                 # the node it is pinned to


@dataclass
class DaemonStep:
    create: list[str] = field(default_factory=list)                 # nodes that get a new replica now
    retire: list[tuple[str, str]] = field(default_factory=list)     # (replica id, why)


def step(goal: Goal, nodes: Sequence[str], replicas: Sequence[DaemonReplica]) -> DaemonStep:
    out = DaemonStep()
    eligible = set(nodes)
    by_node: dict[str, list[DaemonReplica]] = {n: [] for n in nodes}
    stopping: set[str] = set()
    for d in replicas:
        if d.view.terminating:
            stopping.add(d.node)
        elif d.node not in eligible:
            out.retire.append((d.view.id, f"node {d.node} is no longer one the daemon runs on"))
        else:
            by_node[d.node].append(d)
    if goal.deleting:
        out.retire += [(d.view.id, "its workload was deleted") for mine in by_node.values() for d in mine]
        return out
    unavailable = sum(1 for n in nodes if not any(d.view.available for d in by_node[n]))
    surging = sum(1 for n in nodes if len(by_node[n]) > 1)
    for n in sorted(nodes):
        mine = sorted(by_node[n], key=lambda d: (d.view.revision != goal.revision, not d.view.available, d.view.index))
        new = [d for d in mine if d.view.revision == goal.revision]
        old = [d for d in mine if d.view.revision != goal.revision]
        for extra in new[1:]:
            out.retire.append((extra.view.id, f"one replica per node: {new[0].view.id} runs on {n}"))
        if not mine:
            if goal.max_surge == 0 and n in stopping:
                continue             # its old container still holds the node (ports): wait until it is gone
            out.create.append(n)
            continue
        if not old or goal.paused:
            continue
        why = f"replaced by revision {goal.revision}"
        if new:
            if new[0].view.available:
                out.retire += [(d.view.id, why) for d in old]
            continue
        # Only old replicas here: start the new one beside it (surge), or stop it first (unavailable).
        if goal.max_surge > surging:
            out.create.append(n)
            surging += 1
        elif not any(d.view.available for d in old) or unavailable < goal.max_unavailable:
            out.retire += [(d.view.id, why) for d in old]
            if any(d.view.available for d in old):
                unavailable += 1
    return out
