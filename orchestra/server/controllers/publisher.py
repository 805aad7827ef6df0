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

Only the sets of nodes that a change touched are rebuilt (orchestra.server.controllers.node_changes,
told by the store), plus every set every RECOMPUTE_EVERY_MS; a set's message is built once per
revision and re-sent as it is. Nothing is sent before the store has written what the set came
from (`store.flush()`), so that no agent acts on a change that could still be lost.
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
from orchestra.server.controllers.node_changes import NodeChanges
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
    message: agent_pb2.DesiredSet | None = None                   # built when first sent


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
        self.changes = NodeChanges(store)
        self._lock = threading.RLock()          # sets reach a session in revision order

    def mark(self) -> None:
        """Bindings may have changed: recompute the sets on the next pass (a store that tells its
        changes says which nodes' sets to recompute by itself)."""
        if not self.changes.tracked:
            self.changes.everything()

    def touch(self, nodes: set[str]) -> None:
        """Recompute these nodes' sets on the next pass although the store did not change them (a held
        stop that the endpoints controller may now release)."""
        self.changes.add(nodes)

    def run_once(self, now_ms: int, floors: dict[str, int] | None = None, node: str = "") -> None:
        """Send each connected node (or only `node`) its desired set when it changed or is due again.
        `floors` (node -> revision) forces a revision above what an agent says it already applied
        (e.g. after the plane's store was replaced)."""
        with self._lock:
            if node:
                self._keep(self.sync(floors, nodes={node}, now_ms=now_ms))
            else:
                changed = self.changes.take()
                if changed is None or now_ms - self._last_compute_ms >= RECOMPUTE_EVERY_MS:
                    self._last_compute_ms = now_ms
                    self._keep(self.sync(floors, now_ms=now_ms), every=True)
                elif changed:
                    self._keep(self.sync(floors, nodes=changed, now_ms=now_ms))
            sets = self._sets
            self.store.flush()
            revisions: Revisions | None = None
            for s in self.sessions.all():
                ns = sets.get(s.node)
                if ns is None or (node and s.node != node):
                    continue
                if ns.revision != s.last_sent_revision or now_ms - s.last_sent_ms >= self.resend_ms:
                    if ns.message is None:
                        revisions = revisions or Revisions(self.store, self.catalog)
                        ns.message = self.message(ns, revisions)
                    s.last_sent_revision = ns.revision
                    s.last_sent_ms = now_ms
                    s.send(agent_pb2.PlaneMessage(desired=ns.message))

    def _keep(self, sets: dict[str, NodeSet], every: bool = False) -> None:
        """Take newly computed sets; a set of the same revision keeps the message already built."""
        kept = {} if every else self._sets
        for name, ns in sets.items():
            old = self._sets.get(name)
            kept[name] = old if old is not None and old.revision == ns.revision else ns
        self._sets = kept

    def sync(self, floors: dict[str, int] | None = None, node: str = "",
             nodes: set[str] | None = None, now_ms: int = 0) -> dict[str, NodeSet]:
        """Bump and persist the revision of every node (or only `node`, or `nodes`) whose set changed, in
        one transaction; returns those nodes' current sets."""
        floors = floors or {}
        if node:
            nodes = {node}
        out = {}
        with self.store.transaction():
            if nodes is None:
                node_records = self.store.list_nodes()
                bound = self.store.list_replicas(bound=True)
            else:
                node_records = [n for n in map(self.store.get_node, sorted(nodes)) if n is not None]
                bound = [r for n in node_records for r in self.store.list_replicas(node=n.name)]
            workloads = {w for w in {r.workload for r in bound} if self.store.get_workload(w) is not None}
            wanted: dict[str, list[ReplicaRecord]] = defaultdict(list)
            stopping: dict[str, list[ReplicaRecord]] = defaultdict(list)
            for r in bound:
                if r.workload not in workloads:
                    continue
                if lifecycle.is_terminating(r) and (r.stop_revision or self.may_stop(r, now_ms)):
                    stopping[r.node].append(r)
                else:
                    wanted[r.node].append(r)
            for n in node_records:
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
