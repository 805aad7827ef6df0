"""Parsed workloads, each parsed once per stored form: the plane reads a workload's manifest on
every controller pass, and parsing it each time would cost more than the pass itself."""
from __future__ import annotations

import threading

from dataclasses import dataclass, field

from orchestra.spec import codec
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import RevisionRecord, WorkloadRecord

_LIMIT = 100_000     # parsed forms kept; a plane with more workloads re-parses the rest


class WorkloadCatalog:
    def __init__(self):
        self._parsed: dict[str, Workload] = {}
        self._lock = threading.Lock()

    def parse_json(self, text: str) -> Workload:
        with self._lock:
            hit = self._parsed.get(text)
        if hit is not None:
            return hit
        w = codec.from_json(text, "<stored>")
        with self._lock:
            if len(self._parsed) >= _LIMIT:
                self._parsed.clear()
            self._parsed[text] = w
        return w

    def workload(self, rec: WorkloadRecord) -> Workload:
        return self.parse_json(rec.spec_json)

    def revision(self, rev: RevisionRecord) -> Workload:
        return self.parse_json(rev.spec_json)


@dataclass(frozen=True)
class RevisionSpec:
    workload: Workload          # the workload as it was at that revision
    template_hash: str          # as stored with the revision: the same for the revision's whole life
    refs: dict = field(default_factory=dict)   # what it reads of configs and secrets (orchestra.server.configs)


class Revisions:
    """Each replica's spec for one pass over the store: its revision's, looked up once per revision."""

    def __init__(self, store: Store, catalog: WorkloadCatalog):
        self.store = store
        self.catalog = catalog
        self._records: dict[str, WorkloadRecord | None] = {}     # looked up when first needed
        self._found: dict[tuple[str, int], RevisionSpec | None] = {}

    def of(self, workload: str, revision: int) -> RevisionSpec | None:
        key = (workload, revision)
        if key not in self._found:
            self._found[key] = self._look_up(workload, revision)
        return self._found[key]

    def _look_up(self, workload: str, revision: int) -> RevisionSpec | None:
        if workload not in self._records:       # read only: the store's own records (Store.peek), no copies
            self._records[workload] = self.store.peek(WorkloadRecord, workload)
        rec = self._records[workload]
        if rec is None:
            return None
        rev = self.store.peek(RevisionRecord, RevisionRecord(workload, revision, "", "").key)
        if rev is not None:
            return RevisionSpec(self.catalog.revision(rev), rev.template_hash, rev.refs)
        # Pruned (never while a replica runs it) or not yet written: the workload's current form.
        w = self.catalog.workload(rec)
        return RevisionSpec(w, codec.template_hash(w))
