"""Endpoints controller: each Service's endpoints are the ready replicas of the workloads whose
metadata.labels match its selector, on Ready nodes that advertise an address. The whole set of
every service is one `Endpoints` message with one cluster-wide revision (grows when the set
changes, persisted), sent to every connected agent when it changes, and again every RESEND_MS
until the agent's heartbeats acknowledge that revision: level-triggered, like the desired sets.

It also holds the rule that makes a rollout lose no request: a Terminating replica of a workload
that a service selects may be stopped only once every connected node has acknowledged (in its
heartbeats) an Endpoints revision without it, or once `stop_wait_ms` (the node grace) has passed
since it left the endpoints, so that a silent node cannot hold stops up for ever. The publisher
asks `may_stop` and keeps the replica in its node's desired set until then.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

from orchestra.api import agent_pb2, types_pb2
from orchestra.server import lifecycle
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.sessions import SessionRegistry
from orchestra.spec.model import Workload
from orchestra.spec.service import Service
from orchestra.store.base import Store
from orchestra.store.records import READY, EndpointsRecord, NodeRecord, ReplicaRecord, ServiceRecord

RESEND_MS = 5_000
RECOMPUTE_EVERY_MS = 2_000


def ports_pb(s: Service) -> list[types_pb2.ServicePort]:
    return [types_pb2.ServicePort(name=p.name, port=p.port, target_port=p.target_port, protocol=p.protocol,
                                  node_port=s.node_port(p.port)) for p in s.ports]


def endpoints_of(s: Service, workloads: dict[str, Workload], replicas: Iterable[ReplicaRecord],
                 nodes: dict[str, NodeRecord]) -> list[types_pb2.Endpoint]:
    """Every replica the selector reaches (not Terminating), each ready or not and why."""
    chosen = {name for name, w in workloads.items() if s.matches(w.labels)}
    out = []
    for r in replicas:
        if r.workload not in chosen or lifecycle.is_terminating(r):
            continue
        n = nodes.get(r.node) if r.node else None
        reason = ""
        if n is None:
            reason = f"{r.phase}: not on a node"
        elif n.status != READY:
            reason = f"node {n.name} is {n.status}"
        elif not n.advertise_address or not n.relay_port:
            reason = f"node {n.name} advertises no address for service traffic"
        elif not r.ready:
            reason = f"{r.phase}, not ready" + (f": {r.reason}" if r.reason else "")
        out.append(types_pb2.Endpoint(
            replica_id=r.id, workload=r.workload, node=r.node, address=n.advertise_address if n else "",
            relay_port=n.relay_port if n else 0, incarnation=r.incarnation, ready=not reason, reason=reason))
    out.sort(key=lambda e: e.replica_id)
    return out


@dataclass
class Snapshot:
    """Everything one computation reads."""
    services: list[tuple[ServiceRecord, Service]]
    workloads: dict[str, Workload]
    replicas: list[ReplicaRecord]
    nodes: dict[str, NodeRecord]
    labels: dict[str, dict]             # every workload's labels, deleted ones too (their replicas still stop)

    @staticmethod
    def read(store: Store, catalog: WorkloadCatalog) -> "Snapshot":
        """Only the replicas of workloads some service selects (and none at all without services):
        this is read on every change, and a cluster of 10,000 replicas is mostly not behind one."""
        services = [(rec, catalog.parse_json(rec.spec_json)) for rec in store.list(ServiceRecord)]
        if not services:
            return Snapshot([], {}, [], {}, {})
        every = {w.name: (w, catalog.workload(w)) for w in store.view_workloads()}
        workloads = {name: w for name, (rec, w) in every.items() if not rec.deleting}
        labels = {name: dict(w.labels) for name, (_, w) in every.items()}
        selected = [name for name, lb in labels.items() if any(s.matches(lb) for _, s in services)]
        replicas = [r for name in selected for r in store.view_replicas(workload=name)]    # read only
        return Snapshot(services, workloads, replicas, {n.name: n for n in store.view_nodes()}, labels)


def routes(snap: Snapshot) -> list[agent_pb2.ServiceRoute]:
    """What every agent routes by: each service with its ready endpoints."""
    out = []
    for rec, s in snap.services:
        ready = [e for e in endpoints_of(s, snap.workloads, snap.replicas, snap.nodes) if e.ready]
        out.append(agent_pb2.ServiceRoute(name=rec.name, virtual_address=rec.virtual_address, ports=ports_pb(s),
                                          endpoints=ready))
    return out


def digest(services: list[agent_pb2.ServiceRoute]) -> str:
    h = hashlib.sha256()
    for s in services:
        h.update(s.SerializeToString(deterministic=True))
        h.update(b"\n")
    return h.hexdigest()


class EndpointsController:
    def __init__(self, store: Store, catalog: WorkloadCatalog, sessions: SessionRegistry,
                 clock_ms: Callable[[], int], stop_wait_ms: int, resend_ms: int = RESEND_MS):
        self.store = store
        self.catalog = catalog
        self.sessions = sessions
        self.clock_ms = clock_ms
        self.stop_wait_ms = stop_wait_ms
        self.resend_ms = resend_ms
        self.revision = 0
        self._services: list[agent_pb2.ServiceRoute] = []
        self._floor = 0
        self._dirty = True
        self._last_compute_ms = 0
        # Terminating replicas that services may route to -> (first revision without them, since when).
        self._leaving: dict[str, tuple[int, int]] = {}
        self._held_nodes: set[str] = set()     # the nodes of those replicas
        self._lock = threading.RLock()

    def mark(self) -> None:
        self._dirty = True

    def floor(self, revision: int) -> None:
        """An agent has applied `revision` (e.g. of a plane whose store was replaced): go above it."""
        with self._lock:
            if revision >= self.revision:
                self._floor = max(self._floor, revision)
                self._dirty = True

    def message(self) -> agent_pb2.PlaneMessage:
        with self._lock:
            return agent_pb2.PlaneMessage(endpoints=agent_pb2.Endpoints(revision=self.revision,
                                                                        services=self._services))

    def run_once(self, now_ms: int, node: str = "") -> bool:
        """Recompute when something changed (or it is due), then send every connected agent (or only
        `node`'s) the set when it has not got this revision yet or it is due again. True when the
        revision changed."""
        changed = False
        with self._lock:
            if self._dirty or now_ms - self._last_compute_ms >= RECOMPUTE_EVERY_MS or not self.revision:
                self._dirty = False
                self._last_compute_ms = now_ms
                reloads = getattr(self.store, "reloads", 0)
                changed = self._recompute(now_ms)
            if changed:
                self.store.flush()      # no agent routes by a revision that could still be lost
                if getattr(self.store, "reloads", 0) != reloads:
                    # Memory was read back since (a batch failed): the revision may be gone with it.
                    self._dirty = True
                    return False
            msg = None
            for s in self.sessions.all():
                if node and s.node != node:
                    continue
                due = s.endpoints_ack != self.revision and now_ms - s.last_sent_endpoints_ms >= self.resend_ms
                if s.last_sent_endpoints != self.revision or due:
                    msg = msg or self.message()
                    s.last_sent_endpoints = self.revision
                    s.last_sent_endpoints_ms = now_ms
                    s.send(msg)
        return changed

    def _recompute(self, now_ms: int) -> bool:
        with self.store.transaction():
            snap = Snapshot.read(self.store, self.catalog)
            services = routes(snap)
            d = digest(services)
            rec = self.store.get(EndpointsRecord, "cluster") or EndpointsRecord()
            bumped = d != rec.digest or rec.revision <= self._floor or rec.revision == 0
            if bumped:
                rec.revision = max(rec.revision, self._floor) + 1
                rec.digest = d
                self.store.put(rec)
            self.revision, self._services = rec.revision, services
            self._track_leaving(snap, now_ms)
        return bumped

    def _track_leaving(self, snap: Snapshot, now_ms: int) -> None:
        routed = {name for name, labels in snap.labels.items() if any(s.matches(labels) for _, s in snap.services)}
        held = [r for r in snap.replicas if lifecycle.is_terminating(r) and r.workload in routed]
        leaving = {r.id for r in held}
        self._held_nodes = {r.node for r in held if r.node}
        for rid in list(self._leaving):
            if rid not in leaving:
                del self._leaving[rid]
        for rid in leaving:
            self._leaving.setdefault(rid, (self.revision, now_ms))

    def acknowledged(self, revision: int) -> bool:
        return all(s.endpoints_ack >= revision for s in self.sessions.all())

    def may_stop(self, r: ReplicaRecord, now_ms: int) -> bool:
        """A Terminating replica may get its SIGTERM: no connected node routes to it any more."""
        with self._lock:
            entry = self._leaving.get(r.id)
        if entry is None:
            return True
        revision, since = entry
        return self.acknowledged(revision) or now_ms - since >= self.stop_wait_ms

    def waiting(self) -> bool:
        """Some Terminating replica is still held for acknowledgements."""
        with self._lock:
            return bool(self._leaving)

    def held_nodes(self) -> set[str]:
        """The nodes of the Terminating replicas held for acknowledgements."""
        with self._lock:
            return set(self._held_nodes)

