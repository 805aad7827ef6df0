"""Configs and secrets in an apply: `plan(state, box, objects, workloads, now) -> ConfigPlan` decides
every Config and Secret record, which stored workloads a changed one rolls out, and what each
planned workload's revision keeps of the configs and secrets it reads; it writes nothing. `commit`
writes the records in the caller's transaction (orchestra.server.apply_plan writes the workloads'
revisions). Every problem of every workload is reported at once, and nothing is stored when there
is one (the apply's other documents neither).

What the plane refuses, beyond the manifest's own rules (orchestra.spec.configs, orchestra.spec.volumes):
a reference to a config, secret or key that exists neither in the store nor in the same apply, a
key that would make an invalid variable name, a secret value that a variable cannot hold.

A changed Config or Secret (its data, not only its labels: a new version) gives every stored
workload that uses it a new revision, rolled out as usual; a job is left as it is: it runs with
the content it started with, as its template cannot change once it runs either (apply_plan).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from orchestra.security.secret_box import SecretBox
from orchestra.server import configs
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.events import NORMAL, EventLog
from orchestra.spec import volumes
from orchestra.spec.configs import Config, Secret
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import ConfigRecord, SecretRecord


class ConfigsRefused(Exception):
    """str(): every problem, one per line."""


@dataclass
class ObjectChange:
    kind: str                                  # Config | Secret
    name: str
    action: str                                # created | configured | unchanged
    record: ConfigRecord | SecretRecord
    new_version: bool = False                  # its data changed (not only its labels)


@dataclass
class ConfigPlan:
    changes: list[ObjectChange] = field(default_factory=list)
    rolled: list[Workload] = field(default_factory=list)    # stored workloads a changed object rolls out
    causes: dict[str, str] = field(default_factory=dict)    # rolled workload -> e.g. "secret db changed"
    refs: dict[str, dict] = field(default_factory=dict)     # workload -> the snapshot its revision keeps


@dataclass
class State:
    """What the plan reads: the stored configs, secrets and workloads (those being deleted left out)."""
    configs: dict[str, ConfigRecord]
    secrets: dict[str, SecretRecord]
    workloads: dict[str, Workload]

    @staticmethod
    def read(store: Store, catalog: WorkloadCatalog, objects: bool = True) -> "State":
        """`objects`: the apply holds configs or secrets. Without them no stored workload can roll, and
        the stored workloads are not read (a single-workload apply must not cost one per workload)."""
        return State({c.name: c for c in store.list(ConfigRecord)}, {s.name: s for s in store.list(SecretRecord)},
                     {w.name: catalog.workload(w) for w in store.view_workloads() if not w.deleting} if objects else {})


def plan(state: State, box: SecretBox, objects: Iterable[Config | Secret], workloads: list[Workload],
         now_ms: int) -> ConfigPlan:
    """`workloads`: the apply's own. Raises ConfigsRefused, or SecretUnreadable when a stored secret
    that a workload reads cannot be opened with the plane's keys."""
    out = ConfigPlan(changes=[_change(state, box, doc, now_ms) for doc in objects])
    changed = {(c.kind, c.name) for c in out.changes if c.new_version}
    applied = {w.name for w in workloads}
    for name, w in sorted(state.workloads.items()) if changed else ():
        if name in applied or w.spec.mode == "job":
            continue
        used = sorted(volumes.used_objects(w.spec.template) & changed)
        if used:
            out.rolled.append(w)
            out.causes[name] = ", ".join(f"{kind.lower()} {n} changed" for kind, n in used)
    objs = configs.Objects(state.configs, state.secrets, box, [(c.kind, c.name, c.record) for c in out.changes])
    problems: list[str] = []
    for w in [*workloads, *out.rolled]:
        resolved, found = configs.resolve(w, objs)
        out.refs[w.name] = resolved.refs
        problems += found
    if problems:
        raise ConfigsRefused("\n".join(problems))
    return out


def _change(state: State, box: SecretBox, doc: Config | Secret, now_ms: int) -> ObjectChange:
    if isinstance(doc, Config):
        old = state.configs.get(doc.name)
        digest = configs.config_digest(dict(doc.data))
        rec = ConfigRecord(name=doc.name, data=dict(doc.data), labels=dict(doc.labels), digest=digest,
                           created_at_ms=now_ms, updated_at_ms=now_ms)
    else:
        old = state.secrets.get(doc.name)
        digest = box.digest(doc.data)
        rec = SecretRecord(name=doc.name, key_id=box.key_id, digest=digest, sizes=doc.sizes(),
                           labels=dict(doc.labels), created_at_ms=now_ms, updated_at_ms=now_ms)
        # Sealed again only when it changed: a re-apply of the same secret writes nothing.
        rec.sealed = old.sealed if old is not None and old.digest == digest and old.key_id == box.key_id \
            else box.seal(doc.name, doc.data)
    if old is None:
        return ObjectChange(doc.KIND, doc.name, "created", rec)
    rec.created_at_ms, rec.version = old.created_at_ms, old.version
    if old.digest == digest:
        if dict(old.labels) == rec.labels:
            return ObjectChange(doc.KIND, doc.name, "unchanged", old)
        return ObjectChange(doc.KIND, doc.name, "configured", rec)   # labels only: no new version
    rec.version = old.version + 1
    return ObjectChange(doc.KIND, doc.name, "configured", rec, new_version=True)


def commit(store: Store, events: EventLog, p: ConfigPlan) -> None:
    for c in p.changes:
        if c.action == "unchanged":
            continue
        store.put(c.record)
        keys = ", ".join(sorted(c.record.data if c.kind == volumes.CONFIG else c.record.sizes)) or "none"
        events.emit(c.kind, c.name, NORMAL, "Created" if c.action == "created" else "Configured",
                    f"{c.kind.lower()} {c.name} {c.action} (version {c.record.version}; keys: {keys})")
