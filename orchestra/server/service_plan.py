"""Services in an apply: `plan(state, services, workloads, now) -> [ServiceChange]` checks what only
the plane can check and decides every record; it writes nothing. `commit` writes that plan in the
caller's transaction. Every problem of every service is reported at once, and nothing is stored
when there is one (the apply's workloads neither).

What the plane refuses, beyond the manifest's own rules (orchestra.spec.service):
- a selector that matches no workload, stored or in the same apply: nearly always a typo, and a
  service that silently has no endpoints is the hardest thing to debug; apply a service together
  with its workloads (or after them). A service whose workloads go later stays, and says so.
- a service named like a workload it does not select: `web` would mean two things;
- a service named like a replica (`web-0` while workload web exists): replicas have their id as
  hostname, and the two names would clash in the containers' view;
- a nodePort that another service publishes already.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.events import NORMAL, EventLog
from orchestra.service_network import service_addresses
from orchestra.spec import codec
from orchestra.spec.model import Workload
from orchestra.spec.service import Service
from orchestra.store.base import Store
from orchestra.store.records import ServiceRecord


class ServicesRefused(Exception):
    """str(): every problem, one per line."""


@dataclass
class ServiceChange:
    service: Service
    action: str                      # created | configured | unchanged
    record: ServiceRecord            # as it will be stored


@dataclass
class State:
    """What the plan reads: the stored services and workloads (those being deleted left out)."""
    services: dict[str, ServiceRecord]
    parsed: dict[str, Service]
    workloads: dict[str, Workload]

    @staticmethod
    def read(store: Store, catalog: WorkloadCatalog) -> "State":
        services = {s.name: s for s in store.list(ServiceRecord)}
        workloads = {w.name: catalog.workload(w) for w in store.list_workloads() if not w.deleting}
        return State(services, {n: codec.from_json(s.spec_json, "<stored>") for n, s in services.items()}, workloads)


def selected(service: Service, workloads: dict[str, Workload]) -> list[str]:
    return sorted(name for name, w in workloads.items() if service.matches(w.labels))


def _replica_name(name: str, workloads: dict[str, Workload]) -> str:
    """The workload whose replica `name` would be (web-0 of web), or ""."""
    base, dash, index = name.rpartition("-")
    return base if dash and index.isdigit() and base in workloads and str(int(index)) == index else ""


def plan(state: State, services: list[Service], workloads: list[Workload], now_ms: int) -> list[ServiceChange]:
    problems: list[str] = []
    every = {**state.workloads, **{w.name: w for w in workloads}}
    published: dict[int, str] = {}
    for name, s in state.parsed.items():
        for p in s.publish:
            published[p.node_port] = name
    applied = {s.name for s in services}
    for name in applied:        # what the services of this apply publish replaces what they published
        published = {port: owner for port, owner in published.items() if owner != name}
    taken = {r.virtual_address for n, r in state.services.items()}
    free = (a for a in service_addresses() if a not in taken)
    changes = []
    for s in services:
        where = f"service {s.name}"
        matched = selected(s, every)
        sel = ",".join(f"{k}={v}" for k, v in sorted(s.selector.items()))
        if not matched:
            problems.append(f"{where}: spec.selector {sel} matches no workload (workloads' metadata.labels); "
                            f"apply the service together with its workloads, or fix the selector")
        if s.name in every and s.name not in matched:
            problems.append(f"{where}: workload {s.name} has the same name but spec.selector {sel} does not select "
                            f"it: the name {s.name} would lead to other replicas than workload {s.name}'s; rename "
                            f"the service, or select that workload")
        owner = _replica_name(s.name, every)
        if owner:
            problems.append(f"{where}: {s.name} is the name (and hostname) of a replica of workload {owner}; "
                            f"choose another name")
        for p in s.publish:
            other = published.get(p.node_port)
            if other is not None and other != s.name:
                problems.append(f"{where}: spec.publish nodePort {p.node_port} is already published by service "
                                f"{other}")
            else:
                published[p.node_port] = s.name
        old = state.services.get(s.name)
        text = codec.to_json(s)
        if old is None:
            address = next(free, None)
            if address is None:
                problems.append(f"{where}: no virtual address is free (every address of the service range is taken)")
                continue
            rec = ServiceRecord(name=s.name, spec_json=text, virtual_address=address, created_at_ms=now_ms,
                                updated_at_ms=now_ms)
            changes.append(ServiceChange(s, "created", rec))
        elif old.spec_json == text:
            changes.append(ServiceChange(s, "unchanged", old))
        else:
            changes.append(ServiceChange(s, "configured", dataclasses.replace(
                old, spec_json=text, generation=old.generation + 1, updated_at_ms=now_ms)))
    if problems:
        raise ServicesRefused("\n".join(problems))
    return changes


def commit(store: Store, events: EventLog, changes: list[ServiceChange]) -> None:
    for c in changes:
        if c.action == "unchanged":
            continue
        store.put(c.record)
        ports = ", ".join(f"{p.port}->{p.target_port}" for p in c.service.ports)
        events.emit("Service", c.service.name, NORMAL, "Created" if c.action == "created" else "Configured",
                    f"service {c.service.name} {c.action} at {c.record.virtual_address} (ports {ports})")
