"""Placement: `schedule(snapshot, pending) -> ScheduleResult`, a pure function (no I/O, no clock);
`schedule_on(ClusterState, pending)` the same on a working copy the caller keeps between passes.

How it decides (see pipeline.py; one module per plugin under filters/ and scorers/):
- Pending replicas are grouped by workload (they share every constraint), highest priority
  first, then by name. Filters and scorers run once per workload over whole-node vectors;
  each replica then takes the best node (ties: lowest name) and only that node is re-checked
  and re-scored for the next one, so replicas of one pass see each other.
- Filters, in order (a dropped node is charged to the first that drops it): volume data (a
  replica whose volumes hold data on a node goes there or nowhere; such a replica is placed as
  a group of its own), ready, cordoned,
  nodeSelector, required affinity (In/NotIn/Exists/DoesNotExist), taints (NoSchedule) vs
  tolerations, tenant isolation (the empty tenant is a tenant of its own), maxPerNode, host
  ports, CPU/memory fit (capacity minus requests bound to the node).
- Scores, summed: spread (least allocated) or bin-pack (most allocated) per
  `placement.strategy` or the cluster default; fewest replicas of this workload on the node;
  2x zone spread (`spreadBy`); preferred affinity by weight; -10 per recent failure (max -30).
- Preemption: a replica that fits nowhere may evict the fewest, lowest-priority replicas
  (strictly lower, never its own workload's) on one node, only if afterwards every filter passes.
- Explanations: `explanations[id]` is one line; `details[id]` the structured Explanation
  (rejections by reason with node names and closest miss, top scores with their parts);
  `details[id].describe()` renders it on several lines for describe and dry-run.
"""
from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.explanation import Explanation, NodeScore, Rejection
from orchestra.scheduler.pipeline import schedule, schedule_on
from orchestra.scheduler.result import Preemption, ScheduleResult
from orchestra.scheduler.snapshot import BoundReplica, NodeInfo, PendingReplica, Snapshot

__all__ = ["schedule", "schedule_on", "ClusterState", "ScheduleResult", "Preemption", "Snapshot", "NodeInfo", "BoundReplica", "PendingReplica",
           "Explanation", "NodeScore", "Rejection"]
