"""Preemption: when a replica fits nowhere, evict the fewest, lowest-priority replicas on one node.

The filters are not coded again here (kube-scheduler's way): on a candidate node (one that
passes every static filter) every replica of strictly lower priority of another workload is
taken out, the real dynamic filters are run; if they pass, victims are given back as long as
the filters still pass, highest priority first. When a node holds at most EXACT_LIMIT
candidates, the smaller (then lower-priority) sets are also tried, each checked by the same
filters, so the answer is the fewest victims any node allows. Nothing is left changed: the
pipeline evicts the chosen victims itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.filters import fit, host_ports, tenant
from orchestra.scheduler.plugin import Filter, WorkloadState
from orchestra.scheduler.snapshot import BoundReplica

EXACT_LIMIT = 12    # at most sum(C(12, k)) subsets for k below the greedy answer: a few thousand, on a rare path

# What evicting a replica frees, by the filter that needed it gone.
_FREES = {fit.NAME: "cpu/memory", tenant.NAME: "tenant", host_ports.NAME: "host port"}


@dataclass(frozen=True)
class Plan:
    node: int
    victims: tuple[BoundReplica, ...]
    why: str                               # what the victims free, for the Preemption reason

    def rank(self) -> tuple:
        prios = [v.priority for v in self.victims]
        return (len(self.victims), max(prios), sum(prios), self.node)


def _passes(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter]) -> bool:
    return all(f.passes(c, w, i) for f in filters)


def _passes_without(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter],
                    gone: Sequence[BoundReplica]) -> bool:
    for v in gone:
        c.remove(i, v)
    try:
        return _passes(c, w, i, filters)
    finally:
        for v in gone:
            c.add(i, v)


def _first_failing(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter]) -> str:
    return next((f.name for f in filters if not f.passes(c, w, i)), "")


def plan_node(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter]) -> Plan | None:
    d = w.demand
    candidates = [b for b in c.replicas[i] if b.priority < d.priority and b.workload != d.workload]
    if not candidates or not _passes_without(c, w, i, filters, candidates):
        return None
    # Give back what is not needed, highest priority first (then the smallest, which is likeliest
    # to fit back): the rest are the victims.
    for b in candidates:
        c.remove(i, b)
    victims = []
    for b in sorted(candidates, key=lambda b: (-b.priority, b.requests.cpu_millis, b.requests.memory_bytes,
                                                b.replica_id)):
        c.add(i, b)
        if not _passes(c, w, i, filters):
            c.remove(i, b)
            victims.append(b)
    for b in victims:
        c.add(i, b)
    if len(candidates) <= EXACT_LIMIT:
        victims = list(_fewest(c, w, i, filters, candidates, len(victims)) or victims)
    return Plan(i, tuple(victims), _why(c, w, i, filters, victims))


def _why(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter], victims: Sequence[BoundReplica]) -> str:
    """What the victims free: for each, the filter that fails when only it comes back."""
    why: list[str] = []
    for v in victims:
        others = [x for x in victims if x is not v]
        for x in others:
            c.remove(i, x)
        failing = _first_failing(c, w, i, filters)
        for x in others:
            c.add(i, x)
        text = _FREES.get(failing, failing)
        if text and text not in why:
            why.append(text)
    return " and ".join(why) or "room"


def _fewest(c: ClusterState, w: WorkloadState, i: int, filters: Sequence[Filter],
            candidates: list[BoundReplica], greedy: int) -> tuple[BoundReplica, ...] | None:
    """A smaller set than the greedy one that lets every filter pass (the lowest priorities among
    equally small ones), or None when there is none."""
    for k in range(1, greedy):
        groups = sorted(combinations(candidates, k), key=lambda g: (max(b.priority for b in g),
                                                                    sum(b.priority for b in g),
                                                                    [b.replica_id for b in g]))
        for g in groups:
            if _passes_without(c, w, i, filters, g):
                return g
    return None


def plans(c: ClusterState, w: WorkloadState, static_ok: np.ndarray, filters: Sequence[Filter]) -> list[Plan]:
    """Candidate plans, best first (fewest victims, then lowest priorities, then node)."""
    d = w.demand
    found = []
    limit = d.placement.max_per_node
    for i in np.flatnonzero(static_ok & (c.min_priority < d.priority)).tolist():
        if limit and w.counts[i] >= limit:
            continue        # victims are other workloads' replicas: they cannot lower this count
        p = plan_node(c, w, i, filters)
        if p is not None:
            found.append(p)
    found.sort(key=Plan.rank)
    return found
