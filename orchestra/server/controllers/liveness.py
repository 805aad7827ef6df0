"""Node liveness, the one owner of a node's Ready / NotReady status: a node whose agent was
silent for the grace period becomes NotReady and its replicas are lost (orchestra.server.
lifecycle.lose) in the same transaction, so the scheduler moves them; any message from its
agent makes it Ready again.

When each node was last heard of is kept in memory (heartbeats are frequent): a heartbeat of
a node known to be Ready touches the store only every PERSIST_EVERY_MS. After a plane restart
every node gets a full grace period from the moment the plane started, plus the longest time an
agent waits between two attempts to reconnect (its back-off grows to 10 s while the plane was
away), so that a plane restart never makes healthy nodes NotReady and moves their replicas.
"""
from __future__ import annotations

import threading

from orchestra.server import lifecycle
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.store.base import Store
from orchestra.store.records import NOT_READY, READY

# The store's last_heartbeat_ms is rewritten at most this often per node.
PERSIST_EVERY_MS = 5_000
# agent/session.py BACKOFF_MAX_S, plus time to dial and say hello.
RECONNECT_ALLOWANCE_MS = 12_000


class Liveness:
    def __init__(self, store: Store, events: EventLog, grace_ms: int, started_ms: int):
        self.store = store
        self.events = events
        self.grace_ms = grace_ms
        self.started_ms = started_ms
        self._seen: dict[str, int] = {}
        self._persisted: dict[str, int] = {}     # node -> when it was last written Ready
        self._lock = threading.Lock()

    def last_seen(self, node: str) -> int:
        with self._lock:
            return self._seen.get(node, self.started_ms + RECONNECT_ALLOWANCE_MS)

    def heard_from(self, node: str, now_ms: int) -> bool:
        """Any message from the node's agent counts. Marks it Ready if it was not (returns True then)."""
        with self._lock:
            self._seen[node] = now_ms
            persisted = self._persisted.get(node)
        if persisted is not None and now_ms - persisted < PERSIST_EVERY_MS:
            return False
        with self.store.transaction():
            rec = self.store.get_node(node)
            if rec is None:
                return False
            became_ready = rec.status != READY
            rec.status = READY
            rec.last_heartbeat_ms = now_ms
            self.store.put_node(rec)
            if became_ready:
                self.events.emit("Node", node, NORMAL, "NodeReady", f"node {node} is Ready")
        with self._lock:
            self._persisted[node] = now_ms
        return became_ready

    def run_once(self, now_ms: int) -> list[str]:
        """Mark silent nodes NotReady and release their replicas. Returns the nodes it marked."""
        marked = []
        for node in self.store.view_nodes():
            if node.status != READY or now_ms - self.last_seen(node.name) <= self.grace_ms:
                continue
            with self.store.transaction():
                rec = self.store.get_node(node.name)
                silent = now_ms - self.last_seen(node.name)
                if rec is None or rec.status != READY or silent <= self.grace_ms:
                    continue
                rec.status = NOT_READY
                self.store.put_node(rec)
                with self._lock:
                    self._persisted.pop(rec.name, None)
                self.events.emit("Node", rec.name, WARNING, "NodeNotReady",
                                 f"node {rec.name} silent for {silent / 1000:.1f}s (grace {self.grace_ms / 1000:g}s)")
                for r in self.store.list_replicas(node=rec.name):
                    lifecycle.lose(self.store, self.events, r, rec.name, now_ms)
            marked.append(node.name)
        return marked

    def forget(self, node: str) -> None:
        with self._lock:
            self._seen.pop(node, None)
            self._persisted.pop(node, None)
