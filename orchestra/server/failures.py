"""Recent replica failures per node and workload: the scheduler's failure penalty input."""
from __future__ import annotations

import collections
import threading

# Failures older than this no longer count against a node.
WINDOW_MS = 10 * 60 * 1000


class FailureCounter:
    def __init__(self, window_ms: int = WINDOW_MS):
        self.window_ms = window_ms
        self._seen: collections.deque[tuple[int, str, str]] = collections.deque()  # (time, node, workload)
        self._lock = threading.Lock()

    def record(self, now_ms: int, node: str, workload: str) -> None:
        with self._lock:
            self._seen.append((now_ms, node, workload))
            self._expire(now_ms)

    def _expire(self, now_ms: int) -> None:
        while self._seen and self._seen[0][0] < now_ms - self.window_ms:
            self._seen.popleft()

    def by_node(self, now_ms: int) -> dict[str, dict[str, int]]:
        """node -> workload -> failures within the window."""
        out: dict[str, dict[str, int]] = {}
        with self._lock:
            self._expire(now_ms)
            for _, node, workload in self._seen:
                per = out.setdefault(node, {})
                per[workload] = per.get(workload, 0) + 1
        return out
