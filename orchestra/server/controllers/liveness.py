"""Node liveness, the one owner of a node's Ready / NotReady status: a node whose agent was
silent for the grace period becomes NotReady and its replicas are lost (orchestra.server.
lifecycle.lose) in the same transaction, so the scheduler moves them; any message from its
agent makes it Ready again.

A pass marks every node whose grace has passed in one transaction (in chunks of COMMIT_CHUNK
records, nodes and their replicas, so that one fits an etcd Txn): 100 nodes lost at once cost one
store write, not 100 writes one after another while agents' heartbeats wait behind them.

When each node was last heard of is kept in memory only (heartbeats are frequent): a heartbeat
of a node that is Ready reads its record without a copy or the store's lock and writes nothing (the store's
last_heartbeat_ms is when it became Ready; the user API shows `last_heard`). After a plane restart
every node gets a full grace period from the moment the plane started, plus the longest time an
agent waits between two attempts to reconnect (its back-off grows to 10 s while the plane was
away), so that a plane restart never makes healthy nodes NotReady and moves their replicas.
"""
from __future__ import annotations

import threading

from orchestra.server import lifecycle
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.store.base import Store
from orchestra.store.records import NOT_READY, READY, NodeRecord

# agent/session.py BACKOFF_MAX_S, plus time to dial and say hello.
RECONNECT_ALLOWANCE_MS = 12_000
# Nodes and replicas that one marking transaction changes at most (each with its event): as the
# scheduler's commits (orchestra.server.controllers.scheduler.COMMIT_CHUNK), well within the 10,000
# operations of one etcd transaction. A node with more replicas than that is marked alone.
COMMIT_CHUNK = 1_000


class Liveness:
    def __init__(self, store: Store, events: EventLog, grace_ms: int, started_ms: int):
        self.store = store
        self.events = events
        self.grace_ms = grace_ms
        self.started_ms = started_ms
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def last_seen(self, node: str) -> int:
        with self._lock:
            return self._seen.get(node, self.started_ms + RECONNECT_ALLOWANCE_MS)

    def last_heard(self, node: str) -> int:
        """When this plane last heard from the node's agent (0: not since it started)."""
        with self._lock:
            return self._seen.get(node, 0)

    def heard_from(self, node: str, now_ms: int) -> bool:
        """Any message from the node's agent counts. Marks it Ready if it was not (returns True then).
        The record is looked at on every message, not remembered, so a Ready lost with a failed
        write (the store reads itself back) is written again by the next heartbeat."""
        with self._lock:
            if now_ms > self._seen.get(node, 0):
                self._seen[node] = now_ms
        known = self.store.glance(NodeRecord, node)     # a hint: checked again in the transaction
        if known is None or known.status == READY:
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
        return became_ready

    def seen(self, node: str, now_ms: int) -> None:
        """A message of the node's agent arrived (memory only: its handling may wait for a hub thread,
        but the node is alive now; heard_from does the rest when it is handled)."""
        with self._lock:
            if now_ms > self._seen.get(node, 0):
                self._seen[node] = now_ms

    def run_once(self, now_ms: int) -> list[str]:
        """Mark silent nodes NotReady and release their replicas, in as few transactions as fit
        (COMMIT_CHUNK). Returns the nodes it marked."""
        with self._lock:    # once, not once per node: twice a controller pass, 1,000 nodes
            seen = dict(self._seen)
        unheard = self.started_ms + RECONNECT_ALLOWANCE_MS
        cutoff = now_ms - self.grace_ms
        silent = [n.name for n in self.store.view_nodes() if n.status == READY and seen.get(n.name, unheard) < cutoff]
        marked: list[str] = []
        chunk: list[str] = []
        size = 0
        for name in silent:
            records = 1 + len(self.store.view_replicas(node=name))
            if chunk and size + records > COMMIT_CHUNK:
                marked += self._mark(chunk, now_ms)
                chunk, size = [], 0
            chunk.append(name)
            size += records
        if chunk:
            marked += self._mark(chunk, now_ms)
        return marked

    def _mark(self, names: list[str], now_ms: int) -> list[str]:
        """One transaction: each of these nodes still silent NotReady, its replicas lost. Each is
        checked again (a heartbeat may have come since the pass looked)."""
        marked = []
        with self.store.transaction():
            for name in names:
                rec = self.store.get_node(name)
                silent = now_ms - self.last_seen(name)
                if rec is None or rec.status != READY or silent <= self.grace_ms:
                    continue
                rec.status = NOT_READY
                self.store.put_node(rec)
                self.events.emit("Node", name, WARNING, "NodeNotReady",
                                 f"node {name} silent for {silent / 1000:.1f}s (grace {self.grace_ms / 1000:g}s)")
                for r in self.store.list_replicas(node=name):
                    lifecycle.lose(self.store, self.events, r, name, now_ms)
                marked.append(name)
        return marked

    def forget(self, node: str) -> None:
        with self._lock:
            self._seen.pop(node, None)
