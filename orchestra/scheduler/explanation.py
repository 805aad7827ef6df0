"""Structured explanations of placement decisions, and their one-line forms.

`0/40 nodes fit: 31 insufficient memory (needs 2Gi; most free 1.5Gi on vm-7), 9 tenant team-b
already on node (vm-1..vm-9)` for a replica placed nowhere; the chosen node's score, its parts
and the runners-up for a placed one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from orchestra.scheduler.namelist import abbreviate


class NodeNames(Sequence[str]):
    """Names of rejected nodes, resolved only when read (explanations of placed replicas are rarely read)."""

    def __init__(self, names: Sequence[str], idx):
        self._names = names
        self._idx = idx

    def __len__(self) -> int:
        return len(self._idx)

    def __getitem__(self, k):
        if isinstance(k, slice):
            return [self._names[i] for i in self._idx[k]]
        return self._names[self._idx[k]]

    def __eq__(self, other) -> bool:
        return list(self) == list(other)

    def __repr__(self) -> str:
        return f"NodeNames({abbreviate(self)})"


@dataclass(frozen=True)
class Rejection:
    filter: str                    # plugin name, e.g. "fit"
    reason: str                    # e.g. "insufficient memory"
    nodes: Sequence[str]
    detail: str = ""               # e.g. "needs 2Gi; most free 1.5Gi on vm-7"

    @property
    def count(self) -> int:
        return len(self.nodes)

    def line(self) -> str:
        return f"{self.count} {self.reason} ({self.detail or abbreviate(self.nodes)})"


@dataclass(frozen=True)
class NodeScore:
    node: str
    total: float
    parts: tuple[tuple[str, float], ...] = ()    # (scorer, weighted score)


@dataclass(frozen=True)
class Explanation:
    replica: str
    workload: str
    node: str | None                         # None: placed nowhere
    nodes_total: int
    nodes_feasible: int                      # nodes passing every filter when this replica was placed
    rejections: tuple[Rejection, ...] = ()   # by count, most first; for placed replicas as of the workload's first replica
    top: tuple[NodeScore, ...] = ()          # chosen node first, then the runners-up
    preempted: tuple[str, ...] = ()          # replicas evicted to make room
    note: str = ""
    unschedulable: bool = False              # placed nowhere, and no node could take it even empty

    def line(self) -> str:
        if self.node is None:
            reasons = ", ".join(r.line() for r in self.rejections)
            text = f"0/{self.nodes_total} nodes fit"
            text = f"{text}: {reasons}" if reasons else text
            return f"{text}; {self.note}" if self.note else text
        if self.preempted:
            without = Explanation(self.replica, self.workload, None, self.nodes_total, 0, self.rejections).line()
            return (f"placed on {self.node} by preempting {', '.join(self.preempted)} (lower priority); "
                    f"without preemption {without}")
        best = self.top[0]
        parts = " + ".join(f"{name} {score:.0f}" for name, score in best.parts)
        text = f"placed on {self.node}: score {best.total:.1f} ({parts}); {self.nodes_feasible}/{self.nodes_total} nodes fit"
        if len(self.top) > 1:
            text += "; next " + ", ".join(f"{s.node} {s.total:.1f}" for s in self.top[1:])
        return text


    def describe(self) -> list[str]:
        """Several lines for `orchestra describe` and `apply --dry-run`: every reason with its nodes, every score part."""
        out = [self.line()]
        for r in self.rejections:
            extra = f"; {r.detail}" if r.detail else ""
            out.append(f"  {r.count:>5}  {r.reason}: {abbreviate(r.nodes, limit=8)}{extra}")
        for rank, s in enumerate(self.top):
            parts = ", ".join(f"{name} {score:.1f}" for name, score in s.parts)
            out.append(f"  #{rank + 1} {s.node} {s.total:.1f}" + (f" ({parts})" if parts else ""))
        return out


def sort_rejections(rejections: list[Rejection]) -> tuple[Rejection, ...]:
    return tuple(sorted(rejections, key=lambda r: (-r.count, r.reason)))
