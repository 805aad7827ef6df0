"""Publisher: per node, the whole set of replicas it should run, with a revision, sent to its
agent when it changes and again every `resend_ms` (a lost message does no harm).

A node's revision grows (and is persisted) exactly when its set changes; a digest of the last
published set, kept on the node record, tells whether it did. Each replica's ContainerSpec is
built from the replica's own revision (during a rollout a node may run two). A Terminating
replica leaves its node's set, and the revision from which it is gone is written on it
(lifecycle.stopping_from): a report at or after that revision that no longer lists it shows
its container is gone. A Terminating replica that services may still route to stays in its
node's set (still running) until the endpoints controller says every node stopped routing to it
(`may_stop`): only then does it leave the set, and its container get SIGTERM.
"""
from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from orchestra.api import agent_pb2
from orchestra.server import lifecycle
from orchestra.server.catalog import Revisions, WorkloadCatalog
from orchestra.server.messages import container_spec
from orchestra.server.sessions import SessionRegistry
from orchestra.store.base import Store
from orchestra.store.records import ReplicaRecord

RESEND_MS = 5_000          # a node's desired set is re-sent at least this often
RECOMPUTE_EVERY_MS = 10_000


@dataclass
class NodeSet:
    revision: int
    replicas: list[ReplicaRecord] = field(default_factory=list)   # sorted by replica id


def digest(replicas: list[ReplicaRecord]) -> str:
    h = hashlib.sha256()
    for r in replicas:
        h.update(f"{r.id}\0{r.workload}\0{r.index}\0{r.revision}\0{r.incarnation}\n".encode())
    return h.hexdigest()


class Publisher:
    def __init__(self, store: Store, catalog: WorkloadCatalog, sessions: SessionRegistry,
                 clock_ms: Callable[[], int], resend_ms: int = RESEND_MS,
                 may_stop: Callable[[ReplicaRecord, int], bool] = lambda r, now_ms: True):
        self.store = store
        self.catalog = catalog
        self.sessions = sessions
        self.clock_ms = clock_ms
        self.resend_ms = resend_ms
        self.may_stop = may_stop
        self._sets: dict[str, NodeSet] = {}     # node -> as last computed
        self._last_compute_ms = 0
        self._dirty = True
        self._lock = threading.RLock()          # sets reach a session in revision order

    def mark(self) -> None:
        """Bindings may have changed: recompute the sets on the next pass."""
        self._dirty = True

    def run_once(self, now_ms: int, floors: dict[str, int] | None = None, node: str = "") -> None:
        """Send each connected node (or only `node`) its desired set when it changed or is due again.
        `floors` (node -> revision) forces a revision above what an agent says it already applied
        (e.g. after the plane's store was replaced)."""
        with self._lock:
            if node or self._dirty or now_ms - self._last_compute_ms >= RECOMPUTE_EVERY_MS:
                if not node:
                    self._dirty = False
                    self._last_compute_ms = now_ms
                sets = self.sync(floors, node, now_ms)
                if node:
                    self._sets.update(sets)
                else:
                    self._sets = sets
            else:
                sets = self._sets
            revisions: Revisions | None = None
            for s in self.sessions.all():
                ns = sets.get(s.node)
                if ns is None or (node and s.node != node):
                    continue
                if ns.revision != s.last_sent_revision or now_ms - s.last_sent_ms >= self.resend_ms:
                    revisions = revisions or Revisions(self.store, self.catalog)
                    s.last_sent_revision = ns.revision
                    s.last_sent_ms = now_ms
                    s.send(agent_pb2.PlaneMessage(desired=self.message(ns, revisions)))

    def sync(self, floors: dict[str, int] | None = None, node: str = "", now_ms: int = 0) -> dict[str, NodeSet]:
        """Bump and persist the revision of every node (or only `node`) whose set changed, in one
        transaction; returns those nodes' current sets."""
        floors = floors or {}
        out = {}
        with self.store.transaction():
            workloads = {w.name for w in self.store.list_workloads()}
            wanted: dict[str, list[ReplicaRecord]] = defaultdict(list)
            stopping: dict[str, list[ReplicaRecord]] = defaultdict(list)
            for r in self.store.list_replicas(node=node, bound=True):
                if r.workload not in workloads:
                    continue
                if lifecycle.is_terminating(r) and (r.stop_revision or self.may_stop(r, now_ms)):
                    stopping[r.node].append(r)
                else:
                    wanted[r.node].append(r)
            one = self.store.get_node(node) if node else None
            nodes = ([one] if one is not None else []) if node else self.store.list_nodes()
            for n in nodes:
                replicas = sorted(wanted.get(n.name, []), key=lambda r: r.id)
                d = digest(replicas)
                floor = floors.get(n.name, 0)
                if d != n.desired_hash or n.desired_revision <= floor or n.desired_revision == 0:
                    n.desired_revision = max(n.desired_revision, floor) + 1
                    n.desired_hash = d
                    self.store.put_node(n)
                for r in stopping.get(n.name, []):
                    if not r.stop_revision:
                        lifecycle.stopping_from(self.store, r, n.desired_revision)
                out[n.name] = NodeSet(n.desired_revision, replicas)
        return out

    @staticmethod
    def message(ns: NodeSet, revisions: Revisions) -> agent_pb2.DesiredSet:
        specs = []
        for r in ns.replicas:
            spec = revisions.of(r.workload, r.revision)
            if spec is not None:
                specs.append(container_spec(spec.workload, spec.template_hash, r))
        return agent_pb2.DesiredSet(revision=ns.revision, replicas=specs)
