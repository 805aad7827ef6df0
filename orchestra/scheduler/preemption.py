"""Preemption: when a replica fits nowhere, evict the fewest, lowest-priority replicas on one node.

Only replicas of strictly lower priority are victims. A node is a candidate when it passes
every static filter; the victims are those whose removal makes the dynamic filters pass too:
replicas of another tenant and holders of a clashing host port must go, then as few more as
free enough CPU and memory, the lowest priorities among equally few. That smallest set is
searched exactly when a node holds at most EXACT_LIMIT candidates; beyond, lowest priorities
(largest first) are taken until the request fits and any victim not needed after all is
reprieved (highest priority first). The pipeline re-checks every filter after evicting.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.filters.host_ports import clash
from orchestra.scheduler.plugin import WorkloadState
from orchestra.scheduler.snapshot import BoundReplica

EXACT_LIMIT = 12    # at most sum(C(12, k)) subsets for k below the greedy answer: a few thousand, on a rare path


@dataclass(frozen=True)
class Plan:
    node: int
    victims: tuple[BoundReplica, ...]
    why: str                               # what the victims free, for the Preemption reason

    def rank(self) -> tuple:
        prios = [v.priority for v in self.victims]
        return (len(self.victims), max(prios), sum(prios), self.node)


def _ports_clash(b: BoundReplica, w: WorkloadState) -> bool:
    return any(p.host_port and q.host_port == p.host_port and q.protocol == p.protocol and clash(p.host_ip, q.host_ip)
               for p in b.ports for q in w.demand.ports)


def plan_node(c: ClusterState, w: WorkloadState, i: int) -> Plan | None:
    d = w.demand
    must: list[BoundReplica] = []
    whys: list[str] = []
    for b in c.replicas[i]:
        if b.workload == d.workload:
            continue        # a workload never preempts its own replicas (an older generation may rank lower)
        reason = ("tenant" if b.tenant != d.tenant else "") or ("host port" if _ports_clash(b, w) else "")
        if reason:
            if b.priority >= d.priority:
                return None
            must.append(b)
            if reason not in whys:
                whys.append(reason)
    free_cpu = int(c.cap_cpu[i] - c.used_cpu[i]) + sum(b.requests.cpu_millis for b in must)
    free_mem = int(c.cap_mem[i] - c.used_mem[i]) + sum(b.requests.memory_bytes for b in must)
    chosen: list[BoundReplica] = []
    if free_cpu < d.cpu or free_mem < d.memory:
        inv_cpu, inv_mem = float(c.inv_cpu[i]), float(c.inv_mem[i])
        others = sorted((b for b in c.replicas[i] if b.priority < d.priority and b.workload != d.workload
                         and b not in must),
                        key=lambda b: (b.priority, -(b.requests.cpu_millis * inv_cpu + b.requests.memory_bytes * inv_mem),
                                       b.replica_id))
        chosen = _cover(others, d.cpu - free_cpu, d.memory - free_mem)
        if chosen is None:
            return None
        whys.append("cpu/memory")
    victims = tuple(must + chosen)
    if not victims:
        return None
    return Plan(i, victims, " and ".join(whys))


def _fits(group, cpu: int, mem: int) -> bool:
    return sum(b.requests.cpu_millis for b in group) >= cpu and sum(b.requests.memory_bytes for b in group) >= mem


def _cover(others: list[BoundReplica], cpu: int, mem: int) -> list[BoundReplica] | None:
    """Replicas from `others` (lowest priority, largest first) freeing at least cpu and mem: the fewest."""
    chosen: list[BoundReplica] = []
    got_cpu = got_mem = 0
    for b in others:
        chosen.append(b)
        got_cpu += b.requests.cpu_millis
        got_mem += b.requests.memory_bytes
        if got_cpu >= cpu and got_mem >= mem:
            break
    else:
        return None
    for b in sorted(chosen, key=lambda b: (-b.priority, b.replica_id)):
        if got_cpu - b.requests.cpu_millis >= cpu and got_mem - b.requests.memory_bytes >= mem:
            chosen.remove(b)
            got_cpu -= b.requests.cpu_millis
            got_mem -= b.requests.memory_bytes
    if len(others) <= EXACT_LIMIT:
        for k in range(1, len(chosen)):
            fitting = [g for g in combinations(others, k) if _fits(g, cpu, mem)]
            if fitting:
                return list(min(fitting, key=lambda g: (max(b.priority for b in g), sum(b.priority for b in g),
                                                        [b.replica_id for b in g])))
    return chosen


def plans(c: ClusterState, w: WorkloadState, static_ok: np.ndarray) -> list[Plan]:
    """Candidate plans, best first (fewest victims, then lowest priorities, then node name)."""
    d = w.demand
    found = []
    limit = d.placement.max_per_node
    for i in np.flatnonzero(static_ok & (c.min_priority < d.priority)).tolist():
        if limit and w.counts[i] >= limit:
            continue        # victims are other workloads' replicas: they cannot lower this count
        p = plan_node(c, w, i)
        if p is not None:
            found.append(p)
    found.sort(key=Plan.rank)
    return found
