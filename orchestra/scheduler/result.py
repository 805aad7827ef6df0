"""What one scheduling pass decides."""
from __future__ import annotations

from dataclasses import dataclass, field

from orchestra.scheduler.explanation import Explanation


@dataclass(frozen=True)
class Preemption:
    victim: str            # replica id evicted
    node: str
    for_replica: str       # the higher-priority replica that needs the room
    reason: str


@dataclass
class ScheduleResult:
    placements: dict[str, str] = field(default_factory=dict)     # replica id -> node name
    explanations: dict[str, str] = field(default_factory=dict)   # replica id -> one line: why there, or why nowhere
    preemptions: list[Preemption] = field(default_factory=list)
    # replica id -> the structured form behind its line (rejections per reason with node names,
    # closest misses, top scores with their parts), for `describe` and `apply --dry-run`.
    details: dict[str, Explanation] = field(default_factory=dict)
