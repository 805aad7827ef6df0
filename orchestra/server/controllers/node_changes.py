"""Which nodes' desired sets may have changed since the publisher last looked, heard from the
store itself (orchestra.store.cache tells every commit), so that a change rebuilds the sets of
the nodes it touched and not every node's.

A replica change counts for its old and its new node when something a desired set holds or
depends on changed: its node, incarnation or revision, whether it is Terminating, whether its
stop revision is written. A node that appears counts (it needs its first set). A volume change
counts for its node when its state or node changed, or it appeared or went (a set names the
volumes its node should remove: orchestra.server.volumes.removals). A store that
tells nothing (not a cache) makes every look "every node".
"""
from __future__ import annotations

import threading

from orchestra.server import lifecycle
from orchestra.store.records import NodeRecord, ReplicaRecord, VolumeRecord


def _shape(r: ReplicaRecord) -> tuple:
    return r.node, r.workload, r.index, r.incarnation, r.revision, lifecycle.is_terminating(r), bool(r.stop_revision)


class NodeChanges:
    def __init__(self, store):
        self._lock = threading.Lock()
        self._nodes: set[str] = set()
        self._everything = True
        subscribe = getattr(store, "subscribe", None)
        self.tracked = subscribe is not None
        if subscribe is not None:
            subscribe(self._heard)

    def _heard(self, changes) -> None:
        if changes is None:
            with self._lock:
                self._everything = True
            return
        touched = set()
        for cls, key, old, new in changes:
            if cls is ReplicaRecord:
                if old is not None and new is not None and _shape(old) == _shape(new):
                    continue
                for r in (old, new):
                    if r is not None and r.node:
                        touched.add(r.node)
            elif cls is VolumeRecord:
                if old is not None and new is not None and (old.node, old.state) == (new.node, new.state):
                    continue
                for v in (old, new):
                    if v is not None and v.node:
                        touched.add(v.node)
            elif cls is NodeRecord and old is None and new is not None:
                touched.add(key)
        if touched:
            with self._lock:
                self._nodes |= touched

    def add(self, nodes: set[str]) -> None:
        with self._lock:
            self._nodes |= nodes

    def everything(self) -> None:
        with self._lock:
            self._everything = True

    def take(self) -> set[str] | None:
        """The nodes changed since the last take (None: every node may have), and forget them."""
        with self._lock:
            if self._everything or not self.tracked:
                self._everything, self._nodes = False, set()
                return None
            nodes, self._nodes = self._nodes, set()
            return nodes
