"""The placement pipeline: filters, then scorers, then pick; with explanations and preemption.

Work is done once per workload (its replicas share every constraint): the filters run as
whole-node vectors, the scorers fill one score vector, and each replica takes the best node
(ties: lowest name). Placing a replica changes only the chosen node (and, for zone spread,
the scores of its zone), so only those entries are recomputed before the next replica.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.demand import Demand
from orchestra.scheduler.explanation import Explanation, NodeNames, Rejection, sort_rejections
from orchestra.scheduler.filters import DYNAMIC_FILTERS, STATIC_FILTERS, ready
from orchestra.scheduler.plugin import Filter, WorkloadState
from orchestra.scheduler.preemption import plans
from orchestra.scheduler.ranking import Ranking
from orchestra.scheduler.result import Preemption, ScheduleResult
from orchestra.scheduler.scorers import SCORERS
from orchestra.scheduler.snapshot import BoundReplica, PendingReplica, Snapshot
from orchestra.spec.model import Resources

TOP = 3                 # scores shown per placed replica: the chosen node and two runners-up


def volume_note(d: Demand) -> str:
    """What a replica held to its volume's node, and unplaceable, waits for."""
    if not d.volume_node:
        return ""
    return (f"it waits for {d.volume_node}, where its volume data is (orchestra move REPLICA starts it "
            f"elsewhere with empty volumes; the data stays on {d.volume_node})")


def schedule(snapshot: Snapshot, pending: Sequence[PendingReplica]) -> ScheduleResult:
    return schedule_on(ClusterState(snapshot), pending)


def schedule_on(cluster: ClusterState, pending: Sequence[PendingReplica]) -> ScheduleResult:
    """As schedule, on a ClusterState the caller keeps from pass to pass: it is left as it was."""
    with cluster.trial():
        return Pipeline(cluster).run(pending)


Stage = tuple[Filter, np.ndarray]   # a filter and the node indices it was first to reject


class Pipeline:
    def __init__(self, cluster: ClusterState):
        self.c = cluster
        self._static: dict[tuple, tuple[np.ndarray, tuple[Stage, ...]]] = {}

    def run(self, pending: Sequence[PendingReplica]) -> ScheduleResult:
        result = ScheduleResult()
        groups: dict[tuple[str, str, str, str, str], list[PendingReplica]] = {}
        for p in pending:   # a replica pinned to a node (a daemon's, or held by its volume data) is a group of its own
            groups.setdefault((p.workload.name, p.group, p.pinned, p.volume_node, p.volume_why), []).append(p)
        # Higher priority first, so preemption never evicts what this pass just placed.
        order = sorted(groups, key=lambda key: (-groups[key][0].workload.spec.priority, key))
        for key in order:
            members = groups[key]
            m = members[0]
            demand = Demand.of(m.workload, self.c.default_strategy, m.pinned, m.volume_node, m.volume_why)
            self.place_workload(demand, [p.replica_id for p in members], result)
        return result

    # filtering ------------------------------------------------------------------------------
    def _static_stage(self, w: WorkloadState) -> tuple[np.ndarray, tuple[Stage, ...]]:
        d = w.demand
        key = tuple(f.key(d) if f.applies(d) else None for f in STATIC_FILTERS)
        hit = self._static.get(key)
        if hit is None:
            hit = self._static[key] = self._stages(w, self.c.all_nodes, STATIC_FILTERS)
        return hit

    def _stages(self, w: WorkloadState, remaining: np.ndarray, filters) -> tuple[np.ndarray, tuple[Stage, ...]]:
        stages = []
        for f in filters:
            if not f.applies(w.demand):
                continue
            m = f.mask(self.c, w)
            rejected = remaining & ~m
            if rejected.any():
                stages.append((f, np.flatnonzero(rejected)))
                remaining = remaining & m
        return remaining, tuple(stages)

    def feasibility(self, w: WorkloadState) -> tuple[np.ndarray, np.ndarray, tuple[Stage, ...]]:
        """(static mask, feasible mask, stages): every node rejected is charged to its first failing filter."""
        static_ok, static_stages = self._static_stage(w)
        feasible, dyn_stages = self._stages(w, static_ok, DYNAMIC_FILTERS)
        return static_ok, feasible, static_stages + dyn_stages

    def rejections(self, w: WorkloadState, stages: tuple[Stage, ...]) -> tuple[Rejection, ...]:
        """Every reason with its nodes and closest miss, as of now."""
        out = []
        for f, idx in stages:
            for reason, nodes, detail in f.explain(self.c, w, idx):
                out.append(Rejection(f.name, reason, NodeNames(self.c.names, nodes), detail))
        return sort_rejections(out)

    def _summary(self, stages: tuple[Stage, ...]) -> tuple[Rejection, ...]:
        """Cheap per-filter counts (names resolved lazily), kept for replicas that were placed."""
        return sort_rejections([Rejection(f.name, f"rejected by {f.name}", NodeNames(self.c.names, idx))
                                for f, idx in stages])

    # placing ----------------------------------------------------------------------------------
    def place_workload(self, d: Demand, replica_ids: Sequence[str], result: ScheduleResult) -> None:
        c = self.c
        w = WorkloadState(c, d)
        static_ok, feasible, stages = self.feasibility(w)
        dynamic = [f for f in DYNAMIC_FILTERS if f.applies(d)]
        rank = Ranking(c, w, static_ok, feasible, dynamic, [(s, wt) for s, wt in SCORERS if s.active(c, w)])
        summary = self._summary(stages)
        requests = Resources(d.cpu, d.memory)
        failed: Explanation | None = None   # once a replica fits nowhere, even by preempting, later ones fail alike
        failed_line = ""
        for rid in replica_ids:
            j = rank.pick()
            preempted: tuple[BoundReplica, ...] = ()
            if j is None:
                if failed is not None:
                    result.explanations[rid] = failed_line
                    result.details[rid] = Explanation(rid, d.workload, None, c.size, 0, failed.rejections,
                                                      unschedulable=failed.unschedulable)
                    continue
                why = self.rejections(w, self.feasibility(w)[2])
                chosen = self._preempt(w, static_ok, dynamic)
                if chosen is None:
                    failed = result.details[rid] = Explanation(rid, d.workload, None, c.size, 0, why,
                                                               note=volume_note(d), unschedulable=self._never(w))
                    failed_line = result.explanations[rid] = failed.line()
                    continue
                j, preempted, freed = chosen
                for v in preempted:
                    result.preemptions.append(Preemption(v.replica_id, c.names[j], rid,
                                                         f"priority {d.priority} > {v.priority}; frees {freed}"))
                rank.refresh(j)
            top = rank.top(j, TOP)
            feasible_then = rank.n_feasible
            c.add(j, BoundReplica(rid, d.workload, c.names[j], requests, d.priority, d.tenant, d.ports))
            w.counts[j] += 1
            rank.placed(j)
            if preempted:
                e = Explanation(rid, d.workload, c.names[j], c.size, 0, why, top, tuple(v.replica_id for v in preempted))
            else:
                e = Explanation(rid, d.workload, c.names[j], c.size, feasible_then, summary, top)
            result.placements[rid] = c.names[j]
            result.explanations[rid] = e.line()
            result.details[rid] = e

    def _never(self, w: WorkloadState) -> bool:
        """No node could take it even if it ran nothing: its own filters (selector, affinity, taints)
        or its size rule every node out. Readiness and cordons are left out: they pass."""
        c, d = self.c, w.demand
        if c.size == 0:
            return False        # no node yet (they may still be joining): nothing to conclude
        m = (c.cap_cpu >= d.cpu) & (c.cap_mem >= d.memory)
        for f in STATIC_FILTERS:
            if f.name != ready.NAME and f.applies(d):
                m = m & f.mask(c, w)
        return not m.any()

    def _preempt(self, w: WorkloadState, static_ok: np.ndarray, dynamic: list[Filter]):
        found = plans(self.c, w, static_ok, dynamic)
        if not found:
            return None
        best = found[0]                    # checked by the real filters already
        for v in best.victims:
            self.c.remove(best.node, v)
        return best.node, best.victims, best.why

