"""The state interface of the plane. Every backend implements `Store`; one contract test
suite (tests/unit/store/test_contract.py) runs against each of them.

Atomicity: each method is atomic on its own; `transaction()` groups several calls into one
all-or-nothing change (nested `transaction()` blocks join the outer one). While a
transaction is open, other threads' calls wait, so a read-modify-write inside it is safe.
"""
from __future__ import annotations

import abc
from contextlib import AbstractContextManager
from typing import Iterable

from orchestra.store.records import EventRecord, JoinTokenRecord, NodeRecord, ReplicaRecord, WorkloadRecord

# Events kept; older ones are dropped when a new one is added.
DEFAULT_EVENT_RETENTION = 10_000


class Store(abc.ABC):
    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All calls inside commit together, or none does (an exception rolls back)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    # nodes
    @abc.abstractmethod
    def get_node(self, name: str) -> NodeRecord | None: ...

    @abc.abstractmethod
    def list_nodes(self) -> list[NodeRecord]:
        """Sorted by name."""

    @abc.abstractmethod
    def put_node(self, node: NodeRecord) -> None:
        """Insert or replace by name."""

    @abc.abstractmethod
    def delete_node(self, name: str) -> bool: ...

    # workloads
    @abc.abstractmethod
    def get_workload(self, name: str) -> WorkloadRecord | None: ...

    @abc.abstractmethod
    def list_workloads(self) -> list[WorkloadRecord]:
        """Sorted by name."""

    @abc.abstractmethod
    def put_workload(self, workload: WorkloadRecord) -> None: ...

    @abc.abstractmethod
    def delete_workload(self, name: str) -> bool:
        """Deletes the workload and all its replicas."""

    # replicas
    @abc.abstractmethod
    def get_replica(self, replica_id: str) -> ReplicaRecord | None: ...

    @abc.abstractmethod
    def list_replicas(self, workload: str = "", node: str = "", bound: bool | None = None) -> list[ReplicaRecord]:
        """Filtered by workload and/or node when given, and to bound (True) or unbound (False) replicas;
        sorted by (workload, index)."""

    @abc.abstractmethod
    def put_replica(self, replica: ReplicaRecord) -> None: ...

    @abc.abstractmethod
    def delete_replica(self, replica_id: str) -> bool: ...

    # events
    @abc.abstractmethod
    def add_event(self, time_ms: int, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        """Appends an event; returns its id (ids grow). Keeps only the newest `retention` events."""

    @abc.abstractmethod
    def list_events(self, after_id: int = 0, obj: str = "", limit: int = 0) -> list[EventRecord]:
        """Events with id > after_id (for object `obj` when given), oldest first; limit 0: all."""

    @abc.abstractmethod
    def last_event_id(self) -> int: ...

    # join tokens (node enrolment) and revoked certificates
    @abc.abstractmethod
    def put_join_token(self, token: JoinTokenRecord) -> None: ...

    @abc.abstractmethod
    def get_join_token(self, token_id: str) -> JoinTokenRecord | None: ...

    @abc.abstractmethod
    def list_join_tokens(self) -> list[JoinTokenRecord]: ...

    @abc.abstractmethod
    def revoke_join_token(self, token_id: str) -> bool: ...

    @abc.abstractmethod
    def revoke_certificate(self, serial: str, time_ms: int, reason: str = "") -> None: ...

    @abc.abstractmethod
    def is_certificate_revoked(self, serial: str) -> bool: ...

    @abc.abstractmethod
    def list_revoked_certificates(self) -> list[str]: ...

    # conveniences built on the above
    def put_replicas(self, replicas: Iterable[ReplicaRecord]) -> None:
        with self.transaction():
            for r in replicas:
                self.put_replica(r)
