"""Workload controller: a workload's desired replicas <-> replica records.

Replica ids are `<workload>-<index>`; a scale-down retires the highest indices; a new
generation is rolled out by bumping the generation of the existing replicas, which
changes their ContainerSpec so the agent re-creates the container.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Callable

from orchestra.server.events import NORMAL, EventLog
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import parse_document
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import PENDING, SCHEDULED, ReplicaRecord, WorkloadRecord


class InvalidWorkload(ValueError):
    """A workload document the plane will not store; the message says why."""


def canonical_json(w: Workload) -> str:
    return json.dumps(w.to_dict(), sort_keys=True, separators=(",", ":"))


def container_part(doc: dict) -> str:
    """What of a canonical workload document ends up in its containers: a change here re-creates them;
    any other change (replicas, placement, priority, labels) leaves running containers alone."""
    spec = doc.get("spec", {})
    return json.dumps([spec.get("template"), spec.get("tenant")], sort_keys=True)


def parse_workload_json(text: str, index: int) -> Workload:
    """Validate one workload document of an Apply request (1-based `index`)."""
    source = f"request document {index}"
    try:
        data = json.loads(text)
    except RecursionError as exc:
        raise InvalidWorkload(f"{source}: JSON nested too deeply") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidWorkload(f"{source}: not valid JSON: {exc}") from exc
    try:
        return parse_document(data, source=source, index=index)
    except ManifestError as exc:
        raise InvalidWorkload(str(exc)) from exc


def parse_apply_documents(texts: list[str]) -> list[Workload]:
    """All-or-nothing validation of an Apply request."""
    if not texts:
        raise InvalidWorkload("the request holds no workload")
    workloads, seen = [], {}
    for i, text in enumerate(texts, start=1):
        w = parse_workload_json(text, i)
        if w.name in seen:
            raise InvalidWorkload(f"request documents {seen[w.name]} and {i} both define workload {w.name!r}")
        seen[w.name] = i
        workloads.append(w)
    return workloads


class WorkloadCatalog:
    """Parsed workloads by name, re-parsed only when the stored JSON changes."""

    def __init__(self, store: Store):
        self.store = store
        self._cache: dict[str, tuple[str, Workload]] = {}
        self._lock = threading.Lock()

    def parse(self, rec: WorkloadRecord) -> Workload:
        with self._lock:
            hit = self._cache.get(rec.name)
            if hit and hit[0] == rec.spec_json:
                return hit[1]
        w = Workload.from_dict(json.loads(rec.spec_json))
        with self._lock:
            self._cache[rec.name] = (rec.spec_json, w)
        return w

    def all(self) -> dict[str, tuple[WorkloadRecord, Workload]]:
        return {rec.name: (rec, self.parse(rec)) for rec in self.store.list_workloads()}


@dataclass
class ReconcileResult:
    created: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    regenerated: list[str] = field(default_factory=list)


def replica_id(workload: str, index: int) -> str:
    return f"{workload}-{index}"


def reconcile_workload(store: Store, events: EventLog, rec: WorkloadRecord, w: Workload, now_ms: int) -> ReconcileResult:
    """Make the replica records of one workload match its spec. Call inside a transaction."""
    out = ReconcileResult()
    existing = {r.index: r for r in store.list_replicas(workload=rec.name)}
    want = w.spec.replicas
    for index in range(want):
        r = existing.get(index)
        if r is None:
            r = ReplicaRecord(id=replica_id(rec.name, index), workload=rec.name, index=index, phase=PENDING,
                              reason="waiting to be scheduled", generation=rec.generation,
                              requests=w.spec.template.resources, created_at_ms=now_ms, updated_at_ms=now_ms)
            store.put_replica(r)
            out.created.append(r.id)
        elif r.generation < rec.template_generation or r.requests != w.spec.template.resources:
            r.generation = rec.generation
            r.requests = w.spec.template.resources
            if r.node:
                r.phase = SCHEDULED
                r.reason = f"re-creating for generation {rec.generation}"
            r.updated_at_ms = now_ms
            store.put_replica(r)
            out.regenerated.append(r.id)
    for index in sorted(i for i in existing if i >= want):
        r = existing[index]
        store.delete_replica(r.id)
        out.removed.append(r.id)
        # On the workload: the replica's own events disappear from `describe` with it.
        events.emit("Workload", rec.name, NORMAL, "Retired",
                    f"replica {r.id} retired by a scale-down of {rec.name} to {want}")
    return out


@dataclass
class StoredWorkload:
    name: str
    action: str            # created | configured | unchanged
    generation: int
    reconcile: ReconcileResult


def store_workloads(store: Store, events: EventLog, workloads: list[Workload], now_ms: int) -> list[StoredWorkload]:
    """Store validated workloads and their replica records in ONE transaction."""
    results = []
    with store.transaction():
        for w in workloads:
            text = canonical_json(w)
            old = store.get_workload(w.name)
            if old is None:
                rec = WorkloadRecord(name=w.name, spec_json=text, generation=1, created_at_ms=now_ms,
                                     updated_at_ms=now_ms, template_generation=1)
                action = "created"
            elif old.spec_json != text:
                generation = old.generation + 1
                same_containers = container_part(json.loads(old.spec_json)) == container_part(json.loads(text))
                rec = WorkloadRecord(name=w.name, spec_json=text, generation=generation,
                                     created_at_ms=old.created_at_ms, updated_at_ms=now_ms,
                                     template_generation=old.template_generation if same_containers else generation)
                action = "configured"
            else:
                rec, action = old, "unchanged"
            if action != "unchanged":
                store.put_workload(rec)
                events.emit("Workload", w.name, NORMAL, "Created" if action == "created" else "Configured",
                            f"workload {w.name} {action} (generation {rec.generation}, {w.spec.replicas} replicas)")
            results.append(StoredWorkload(w.name, action, rec.generation,
                                          reconcile_workload(store, events, rec, w, now_ms)))
    return results


def delete_workloads(store: Store, events: EventLog, names: list[str]) -> tuple[list[str], list[str]]:
    deleted, not_found = [], []
    with store.transaction():
        for name in names:
            if store.delete_workload(name):
                deleted.append(name)
                events.emit("Workload", name, NORMAL, "Deleted", f"workload {name} deleted with its replicas")
            else:
                not_found.append(name)
    return deleted, not_found


def reconcile_all(store: Store, events: EventLog, catalog: WorkloadCatalog, clock_ms: Callable[[], int]) -> None:
    """Level-triggered pass over every workload (repairs whatever a crash may have left)."""
    for name, (rec, w) in catalog.all().items():
        with store.transaction():
            current = store.get_workload(name)
            if current is None or current.spec_json != rec.spec_json:
                continue  # changed meanwhile; the next pass sees the new one
            reconcile_workload(store, events, current, w, clock_ms())
