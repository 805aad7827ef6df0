"""Publisher: per node, the whole set of replicas it should run, with a revision, sent to its
agent when it changes, and again every `resend_ms` until the agent's heartbeats say it applied
that revision (a lost message does no harm; an acknowledged set is not sent again: at 1,000
nodes, re-sending every set every 5 s was a fifth of what an idle plane did).

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
from (`store.flush()`), so that no agent acts on a change that could still be lost; the publisher's
lock is not held while the store writes (see run_once), so that a node's (re)connection, handled
on an agent's hub thread, does not wait behind another's write.

A node's set also names the Docker volumes it should remove (orchestra.server.volumes), and each
ContainerSpec carries its volumes, config and secret files and variables (orchestra.server.mounts):
secrets go only to the node that runs a replica using them, over that node's own stream. A set
whose content cannot be built (mounts.ContentError: a secret that does not open, a missing claim)
is not sent and leaves no message behind: the node keeps the set it has, the error is logged once,
and the next pass builds it again.
"""
from __future__ import annotations

import hashlib
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from orchestra.api import agent_pb2
from orchestra.security.secret_box import SecretBox
from orchestra.server import lifecycle, mounts, volumes
from orchestra.server.catalog import Revisions, WorkloadCatalog
from orchestra.server.controllers.node_changes import NodeChanges
from orchestra.server.messages import container_spec
from orchestra.server.sessions import SessionRegistry
from orchestra.store.base import Store
from orchestra.store.cache import not_waiting
from orchestra.store.records import NodeRecord, ReplicaRecord

log = logging.getLogger("orchestra.server")

RESEND_MS = 5_000          # a node's desired set not yet acknowledged is re-sent this often
RECOMPUTE_EVERY_MS = 10_000


@dataclass
class NodeSet:
    revision: int
    replicas: list[ReplicaRecord] = field(default_factory=list)   # sorted by replica id
    remove_volumes: list[str] = field(default_factory=list)       # sorted
    message: agent_pb2.DesiredSet | None = None                   # built when first sent without error
    computed: int = 0      # by which of the publisher's computations (sent once a flush after it returned)


def digest(replicas: list[ReplicaRecord], remove_volumes: list[str] = ()) -> str:
    h = hashlib.sha256()
    for r in replicas:
        h.update(f"{r.id}\0{r.workload}\0{r.index}\0{r.revision}\0{r.incarnation}\n".encode())
    for name in remove_volumes:   # none: the digest of a set without volumes is what it always was
        h.update(f"-volume\0{name}\n".encode())
    return h.hexdigest()


class Publisher:
    def __init__(self, store: Store, catalog: WorkloadCatalog, sessions: SessionRegistry,
                 clock_ms: Callable[[], int], resend_ms: int = RESEND_MS,
                 may_stop: Callable[[ReplicaRecord, int], bool] = lambda r, now_ms: True,
                 secret_box: SecretBox | None = None):
        self.store = store
        self.secret_box = secret_box or SecretBox.ephemeral()
        self._content_errors: dict[str, str] = {}   # node -> the last error building its set (logged once)
        self.catalog = catalog
        self.sessions = sessions
        self.clock_ms = clock_ms
        self.resend_ms = resend_ms
        self.may_stop = may_stop
        self._sets: dict[str, NodeSet] = {}     # node -> as last computed
        self._last_compute_ms = 0
        self.changes = NodeChanges(store)
        self._lock = threading.RLock()          # sets reach a session in revision order
        self._computed = 0      # computations of sets so far (under the lock)
        self._flushed = 0       # every set computed by this one or an earlier one is written

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
        (e.g. after the plane's store was replaced).

        Three steps: compute the sets under the lock (their writes committed without waiting for
        the store), then `store.flush()` WITHOUT the lock (an etcd round trip or an SQLite commit:
        other threads compute and send meanwhile, and wait in flush together, one batch for all),
        then send under the lock. A set is sent only once a flush that began after it was computed
        has returned (`NodeSet.computed` <= `_flushed`): the thread that computed a set still being
        written sends it itself after its own flush."""
        with self._lock:
            reloads = getattr(self.store, "reloads", 0)     # read back after this: the sets may be from lost state
            with not_waiting():
                if node:
                    computed = self.sync(floors, nodes={node}, now_ms=now_ms)
                    every = False
                else:
                    changed = self.changes.take()
                    every = changed is None or now_ms - self._last_compute_ms >= RECOMPUTE_EVERY_MS
                    if every:
                        self._last_compute_ms = now_ms
                        computed = self.sync(floors, now_ms=now_ms)
                    else:
                        computed = self.sync(floors, nodes=changed, now_ms=now_ms) if changed else {}
            self._computed += 1
            mine = self._computed
            self._keep(computed, mine, every=every)
        try:
            self.store.flush()
        except BaseException:
            self._forget_sets()
            raise
        with self._lock:
            if getattr(self.store, "reloads", 0) != reloads:
                self._forget_sets()
                return
            self._flushed = max(self._flushed, mine)
            self._send(now_ms, node)

    def _forget_sets(self) -> None:
        """The store failed a write, or memory was read back from it, since sets were computed: what
        they came from may never have been written. None of them is sent; the next pass builds
        every set again."""
        with self._lock:
            self._sets = {}
            self.changes.everything()

    def _send(self, now_ms: int, node: str) -> None:
        """Under the lock: each session (or `node`'s) its set if due and written (see run_once)."""
        sets = self._sets
        revisions: Revisions | None = None
        claims: volumes.Claims | None = None
        for s in self.sessions.all():
            ns = sets.get(s.node)
            if ns is None or (node and s.node != node) or ns.computed > self._flushed:
                continue
            due = s.applied_revision != ns.revision and now_ms - s.last_sent_ms >= self.resend_ms
            if ns.revision != s.last_sent_revision or due:
                if ns.message is None:
                    revisions = revisions or Revisions(self.store, self.catalog)
                    claims = claims or volumes.Claims(self.store)
                    try:
                        ns.message = self.message(ns, revisions, self.secret_box, claims)
                    except mounts.ContentError as exc:
                        # The node keeps the set it has (level-triggered: nothing is lost by waiting);
                        # no message is kept, so the next pass tries again.
                        if self._content_errors.get(s.node) != str(exc):
                            log.error("desired set of node %s not sent: %s", s.node, exc)
                        self._content_errors[s.node] = str(exc)
                        continue
                    self._content_errors.pop(s.node, None)
                s.last_sent_revision = ns.revision
                s.last_sent_ms = now_ms
                s.send(agent_pb2.PlaneMessage(desired=ns.message))

    def _keep(self, sets: dict[str, NodeSet], computed: int, every: bool = False) -> None:
        """Take newly computed sets (by the `computed`-th computation); a set of the same revision keeps
        the message already built (and when it was computed)."""
        kept = {} if every else self._sets
        for name, ns in sets.items():
            old = self._sets.get(name)
            if old is not None and old.revision == ns.revision:
                kept[name] = old
            else:
                ns.computed = computed
                kept[name] = ns
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
            # Read only (views: no copy of 10,000 replicas every RECOMPUTE_EVERY_MS); a record is copied
            # only to be written.
            if nodes is None:
                node_records = self.store.view_nodes()
                bound = self.store.view_replicas(bound=True)
            else:
                node_records = [n for n in (self.store.peek(NodeRecord, name) for name in sorted(nodes))
                                if n is not None]
                bound = [r for n in node_records for r in self.store.view_replicas(node=n.name)]
            workloads = {w for w in {r.workload for r in bound} if self.store.get_workload(w) is not None}
            wanted: dict[str, list[ReplicaRecord]] = defaultdict(list)
            stopping: dict[str, list[ReplicaRecord]] = defaultdict(list)
            removals = volumes.removals(self.store, bound, None if nodes is None else [n.name for n in node_records])
            for r in bound:
                if r.workload not in workloads:
                    continue
                if lifecycle.is_terminating(r) and (r.stop_revision or self.may_stop(r, now_ms)):
                    stopping[r.node].append(r)
                else:
                    wanted[r.node].append(r)
            for n in node_records:
                replicas = sorted(wanted.get(n.name, []), key=lambda r: r.id)
                removing = sorted(removals.get(n.name, []), key=lambda v: v.name)
                d = digest(replicas, [v.name for v in removing])
                floor = floors.get(n.name, 0)
                revision = n.desired_revision
                if d != n.desired_hash or revision <= floor or revision == 0:
                    n = self.store.get_node(n.name)
                    revision = n.desired_revision = max(revision, floor) + 1
                    n.desired_hash = d
                    self.store.put_node(n)
                for r in stopping.get(n.name, []):
                    if not r.stop_revision:
                        lifecycle.stopping_from(self.store, self.store.get_replica(r.id), revision)
                volumes.removing_from(self.store, removing, revision)
                out[n.name] = NodeSet(revision, replicas, [v.name for v in removing])
        return out

    @staticmethod
    def message(ns: NodeSet, revisions: Revisions, box: SecretBox, claims: volumes.Claims) -> agent_pb2.DesiredSet:
        """Raises mounts.ContentError when a replica's content cannot be built."""
        specs = []
        for r in ns.replicas:
            spec = revisions.of(r.workload, r.revision)
            if spec is not None:
                c = container_spec(spec.workload, spec.template_hash, r)
                template = spec.workload.spec.template
                if template.volumes or template.env_refs or template.env_from:
                    claimed = {v.volume: v.name for v in claims.bound(r.workload, r.index, template)}
                    mounts.fill(c, template, spec.refs, box, claimed)
                specs.append(c)
        return agent_pb2.DesiredSet(revision=ns.revision, replicas=specs, remove_volumes=ns.remove_volumes)
