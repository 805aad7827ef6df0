"""The state interface of the plane. Every backend implements `Store`; one contract test
suite (tests/unit/store/test_contract.py) runs against each of them.

A backend keeps collections of records (orchestra.store.records), each record a JSON
document under its class's KIND and its key, plus an append-only event log. It implements
five primitives (`get`, `list`, `put`, `delete`, `transaction`) and the events; the typed
methods below (`get_node`, `list_replicas`, ...) are written once, here, on top of them.

Atomicity: each method is atomic on its own; `transaction()` groups several calls into one
all-or-nothing change (nested `transaction()` blocks join the outer one). While a
transaction is open, other threads' calls wait, so a read-modify-write inside it is safe.
"""
from __future__ import annotations

import abc
import operator
from contextlib import AbstractContextManager
from typing import Any, Iterable, Sequence, TypeVar

from orchestra.store.records import (EventRecord, JoinTokenRecord, NodeRecord, ReplicaRecord, RevisionRecord,
                                     RevokedCertificateRecord, WorkloadRecord)

# Events kept; older ones are dropped when a new one is added.
DEFAULT_EVENT_RETENTION = 10_000

R = TypeVar("R")


_BY_WORKLOAD_INDEX = operator.attrgetter("workload", "index")    # a listing of 10,000: no lambda per record


class Store(abc.ABC):
    # -- primitives ---------------------------------------------------------------------------
    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All calls inside commit together, or none does (an exception rolls back)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    @abc.abstractmethod
    def get(self, cls: type[R], key: str) -> R | None:
        """The record of class `cls` with `key`, or None."""

    @abc.abstractmethod
    def list(self, cls: type[R], **where: str) -> list[R]:
        """Every record of `cls`, sorted by key; `where` filters on the indexed fields
        `workload` and `node` (equality; "" is a value like any other)."""

    @abc.abstractmethod
    def put(self, record: Any) -> None:
        """Insert or replace by key."""

    @abc.abstractmethod
    def delete(self, cls: type, key: str) -> bool:
        """True when there was such a record."""

    # -- events -------------------------------------------------------------------------------
    @abc.abstractmethod
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        """Appends an event; returns its id (ids grow). Keeps only the newest `retention` events."""

    @abc.abstractmethod
    def list_events(self, after_id: int = 0, obj: str = "", limit: int = 0) -> list[EventRecord]:
        """Events with id > after_id (for object `obj` when given), oldest first; limit 0: all."""

    @abc.abstractmethod
    def last_event_id(self) -> int: ...

    @abc.abstractmethod
    def put_events(self, events: Sequence[EventRecord]) -> None:
        """Adds events with the ids they carry (higher than any stored: orchestra.store.cache gives them),
        keeping only the newest `retention` as add_event does."""

    # -- batches (what orchestra.store.cache writes) -----------------------------------------
    def apply_batch(self, puts: Sequence[Any], deletes: Sequence[tuple[type, str]],
                    events: Sequence[EventRecord]) -> None:
        """Records put, records deleted and events added, as ONE all-or-nothing change."""
        with self.transaction():
            for record in puts:
                self.put(record)
            for cls, key in deletes:
                self.delete(cls, key)
            if events:
                self.put_events(events)

    def flush(self) -> None:
        """Returns once everything written so far is durable: at once for a backend whose every
        commit is (a cache in front of one waits for its queue)."""

    # -- reading without copies ---------------------------------------------------------------
    # For readers that change nothing (controller passes, the user API's listings): a store that
    # keeps its records in memory (orchestra.store.cache) returns its own objects, without a copy
    # each; they must not be changed nor put back (get or list the record to change it). Any other
    # store returns the copies of get and list.
    def view(self, cls: type[R], **where: str) -> list[R]:
        """As `list`, read-only."""
        return self.list(cls, **where)

    def peek(self, cls: type[R], key: str) -> R | None:
        """As `get`, read-only."""
        return self.get(cls, key)

    def count(self, cls: type[R], **where: str) -> int:
        """How many records `list` would return."""
        return len(self.list(cls, **where))

    def glance(self, cls: type[R], key: str) -> R | None:
        """As `peek`, but it never waits for another thread (an event loop may call it): it may show
        what a transaction still open elsewhere has changed, or None where it cannot tell at once.
        For hints that are checked again before anything is written."""
        return self.peek(cls, key)

    def view_nodes(self) -> list[NodeRecord]:
        return self.view(NodeRecord)

    def view_workloads(self) -> list[WorkloadRecord]:
        return self.view(WorkloadRecord)

    def view_replicas(self, workload: str = "", node: str = "", bound: bool | None = None) -> list[ReplicaRecord]:
        return self._replicas(self.view, workload, node, bound)

    # -- nodes --------------------------------------------------------------------------------
    def get_node(self, name: str) -> NodeRecord | None:
        return self.get(NodeRecord, name)

    def list_nodes(self) -> list[NodeRecord]:
        """Sorted by name."""
        return self.list(NodeRecord)

    def put_node(self, node: NodeRecord) -> None:
        self.put(node)

    def delete_node(self, name: str) -> bool:
        return self.delete(NodeRecord, name)

    # -- workloads ----------------------------------------------------------------------------
    def get_workload(self, name: str) -> WorkloadRecord | None:
        return self.get(WorkloadRecord, name)

    def list_workloads(self) -> list[WorkloadRecord]:
        """Sorted by name."""
        return self.list(WorkloadRecord)

    def put_workload(self, workload: WorkloadRecord) -> None:
        self.put(workload)

    def delete_workload(self, name: str) -> bool:
        """Deletes the workload with all its replicas and revisions."""
        with self.transaction():
            for r in self.list(ReplicaRecord, workload=name):
                self.delete(ReplicaRecord, r.id)
            for rev in self.list(RevisionRecord, workload=name):
                self.delete(RevisionRecord, rev.key)
            return self.delete(WorkloadRecord, name)

    # -- revisions ----------------------------------------------------------------------------
    def list_revisions(self, workload: str) -> list[RevisionRecord]:
        """Oldest first."""
        return self.list(RevisionRecord, workload=workload)

    def get_revision(self, workload: str, number: int) -> RevisionRecord | None:
        return self.get(RevisionRecord, RevisionRecord(workload, number, "", "").key)

    # -- replicas -----------------------------------------------------------------------------
    def get_replica(self, replica_id: str) -> ReplicaRecord | None:
        return self.get(ReplicaRecord, replica_id)

    def list_replicas(self, workload: str = "", node: str = "", bound: bool | None = None) -> list[ReplicaRecord]:
        """Filtered by workload and/or node when given, and to bound (True) or unbound (False) replicas;
        sorted by (workload, index)."""
        return self._replicas(self.list, workload, node, bound)

    def _replicas(self, lister, workload: str, node: str, bound: bool | None) -> list[ReplicaRecord]:
        where = {}
        if workload:
            where["workload"] = workload
        if node:
            where["node"] = node
        elif bound is False:
            where["node"] = ""
        found = lister(ReplicaRecord, **where)
        if bound is True:
            found = [r for r in found if r.node]
        found.sort(key=_BY_WORKLOAD_INDEX)
        return found

    def put_replica(self, replica: ReplicaRecord) -> None:
        self.put(replica)

    def put_replicas(self, replicas: Iterable[ReplicaRecord]) -> None:
        with self.transaction():
            for r in replicas:
                self.put(r)

    def delete_replica(self, replica_id: str) -> bool:
        return self.delete(ReplicaRecord, replica_id)

    # -- join tokens (node enrolment) and revoked certificates --------------------------------
    def put_join_token(self, token: JoinTokenRecord) -> None:
        self.put(token)

    def get_join_token(self, token_id: str) -> JoinTokenRecord | None:
        return self.get(JoinTokenRecord, token_id)

    def list_join_tokens(self) -> list[JoinTokenRecord]:
        return self.list(JoinTokenRecord)

    def revoke_join_token(self, token_id: str) -> bool:
        with self.transaction():
            t = self.get(JoinTokenRecord, token_id)
            if t is None:
                return False
            t.revoked = True
            self.put(t)
            return True

    def revoke_certificate(self, serial: str, time_ms: int, reason: str = "") -> None:
        """Idempotent: the first revocation's time and reason are kept."""
        with self.transaction():
            if self.get(RevokedCertificateRecord, serial) is None:
                self.put(RevokedCertificateRecord(serial=serial, revoked_at_ms=time_ms, reason=reason))

    def is_certificate_revoked(self, serial: str) -> bool:
        return self.get(RevokedCertificateRecord, serial) is not None

    def list_revoked_certificates(self) -> list[str]:
        return [r.serial for r in self.list(RevokedCertificateRecord)]
