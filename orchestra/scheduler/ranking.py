"""One workload's ranking of the nodes during a pass: which are feasible, their score parts and totals.

Built once per workload from whole-node vectors; after a replica lands on node j only j (and
the nodes a scorer names, e.g. j's zone) are recomputed. Totals are summed left to right in
scorer order both ways, so an updated entry equals what a fresh build would give.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from orchestra.scheduler.cluster import ClusterState
from orchestra.scheduler.explanation import NodeScore
from orchestra.scheduler.plugin import Filter, Scorer, WorkloadState

NEG = -np.inf   # the score of a node that fails a filter


def _sum(terms: list[np.ndarray], size: int) -> np.ndarray:
    if not terms:
        return np.zeros(size)
    total = terms[0].copy()
    for t in terms[1:]:
        total += t
    return total


class Ranking:
    def __init__(self, c: ClusterState, w: WorkloadState, static_ok: np.ndarray, feasible: np.ndarray,
                 dynamic: Sequence[Filter], scorers: Sequence[tuple[Scorer, float]]):
        self.c, self.w = c, w
        self.static_ok = static_ok
        self.feasible = feasible.copy()     # it may be the cached static mask itself
        self.dynamic = dynamic
        self.scorers = scorers
        self.terms = [s.vector(c, w) * wt for s, wt in scorers]
        self.total = _sum(self.terms, c.size)
        self.best = np.where(self.feasible, self.total, NEG)
        self.n_feasible = int(np.count_nonzero(self.feasible))

    def pick(self) -> int | None:
        """The best feasible node, ties to the lowest name (index); None when no node is feasible."""
        if not self.c.size:
            return None
        j = int(self.best.argmax())
        return None if self.best.item(j) == NEG else j

    def placed(self, j: int) -> None:
        """A replica of the workload has just been added to node j (cluster and counts already updated)."""
        c, w = self.c, self.w
        extra = {}
        for k, (s, _) in enumerate(self.scorers):
            moved = s.placed(c, w, j)
            if moved is not None:
                extra[k] = moved
        self.refresh(j)
        if extra:
            for k, idx in extra.items():
                s, wt = self.scorers[k]
                self.terms[k][idx] = s.vector(c, w)[idx] * wt
            parts = list(extra.values())
            idx = parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts))
            self.total[idx] = _sum([t[idx] for t in self.terms], len(idx))
            self.best[idx] = np.where(self.feasible[idx], self.total[idx], NEG)

    def refresh(self, j: int) -> None:
        """Re-check node j against the filters whose answer can change, and re-score it."""
        c, w = self.c, self.w
        ok = bool(self.static_ok[j]) and all(f.passes(c, w, j) for f in self.dynamic)
        if ok != self.feasible[j]:
            self.n_feasible += 1 if ok else -1
            self.feasible[j] = ok
        t_j = 0.0
        for k, (s, wt) in enumerate(self.scorers):
            v = s.one(c, w, j) * wt
            self.terms[k][j] = v
            t_j = t_j + v if k else v
        self.total[j] = t_j
        self.best[j] = t_j if ok else NEG

    def top(self, j: int, n: int) -> tuple[NodeScore, ...]:
        """Node j with its score parts, then the n-1 best other feasible nodes."""
        names, best = self.c.names, self.best
        parts = tuple([(s.name, self.terms[k].item(j)) for k, (s, _) in enumerate(self.scorers)])
        out = [NodeScore(names[j], self.total.item(j), parts)]
        # Runners-up by repeated argmax with the winners masked: O(nodes) each, ties to the lowest name.
        hidden = [(j, best.item(j))]
        best[j] = NEG
        for _ in range(n - 1):
            k = int(best.argmax())
            score = best.item(k)
            if score == NEG:
                break
            out.append(NodeScore(names[k], score))
            hidden.append((k, score))
            best[k] = NEG
        for k, score in hidden:
            best[k] = score
        return tuple(out)
