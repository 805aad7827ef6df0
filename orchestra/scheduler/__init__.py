"""Placement: `schedule(snapshot, pending) -> ScheduleResult`, a pure function (no I/O, no clock)."""
from orchestra.scheduler.pipeline import schedule
from orchestra.scheduler.result import Preemption, ScheduleResult
from orchestra.scheduler.snapshot import BoundReplica, NodeInfo, PendingReplica, Snapshot

__all__ = ["schedule", "ScheduleResult", "Preemption", "Snapshot", "NodeInfo", "BoundReplica", "PendingReplica"]
