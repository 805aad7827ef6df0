"""The records the plane keeps. Plain mutable dataclasses: a backend returns fresh copies,
so a caller may change one and `put` it back inside a transaction.

Every record class names its collection (`KIND`) and how its key is made (`key`); the
store keeps each as a JSON document (orchestra.store.codec), so a new field needs a default
and nothing else. The fields named `workload` and `node` are indexed by the backends.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from orchestra.spec.model import Resources, Taint

READY = "Ready"
NOT_READY = "NotReady"

PENDING = "Pending"
SCHEDULED = "Scheduled"
STARTING = "Starting"
RUNNING = "Running"
EXITED = "Exited"
FAILED = "Failed"
BACKOFF = "BackOff"
LOST = "Lost"
# Phases an agent may report; the rest belong to the plane.
AGENT_PHASES = (STARTING, RUNNING, EXITED, FAILED, BACKOFF)


@dataclass
class NodeRecord:
    KIND: ClassVar[str] = "nodes"
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    facts: dict = field(default_factory=dict)          # NodeFacts fields by proto name
    capacity: Resources = Resources()
    status: str = NOT_READY
    schedulable: bool = True
    taints: list[Taint] = field(default_factory=list)
    last_heartbeat_ms: int = 0
    usage: dict = field(default_factory=dict)          # NodeUsage fields by proto name
    runtime_status: str = ""
    desired_revision: int = 0
    desired_hash: str = ""                              # digest of the set published as desired_revision
    agent_instance: str = ""
    registered_at_ms: int = 0

    @property
    def key(self) -> str:
        return self.name


@dataclass
class WorkloadRecord:
    KIND: ClassVar[str] = "workloads"
    name: str
    spec_json: str                                      # canonical JSON (sorted keys, compact)
    generation: int = 1
    created_at_ms: int = 0
    updated_at_ms: int = 0
    # The generation at which what a container runs (template, tenant) last changed: replicas built
    # from an older generation are re-created, the others keep running through e.g. a scale-up.
    template_generation: int = 1

    @property
    def key(self) -> str:
        return self.name


@dataclass
class ReplicaRecord:
    KIND: ClassVar[str] = "replicas"
    id: str
    workload: str
    index: int
    node: str = ""
    phase: str = PENDING
    reason: str = ""
    exit_code: int = 0
    restarts: int = 0
    container_id: str = ""
    generation: int = 1
    created_at_ms: int = 0
    updated_at_ms: int = 0
    usage: dict = field(default_factory=dict)           # ContainerUsage fields by proto name
    next_restart_ms: int = 0
    requests: Resources = Resources()
    incarnation: int = 0

    @property
    def key(self) -> str:
        return self.id


@dataclass
class EventRecord:
    id: int
    time_ms: int
    kind: str            # Workload | Replica | Node | Cluster
    object: str
    type: str            # Normal | Warning
    reason: str
    message: str


@dataclass
class JoinTokenRecord:
    KIND: ClassVar[str] = "join_tokens"
    id: str
    secret_hash: str
    expires_at_ms: int
    labels: dict[str, str] = field(default_factory=dict)
    revoked: bool = False
    created_at_ms: int = 0

    @property
    def key(self) -> str:
        return self.id


@dataclass
class RevokedCertificateRecord:
    KIND: ClassVar[str] = "revoked_certificates"
    serial: str
    revoked_at_ms: int = 0
    reason: str = ""

    @property
    def key(self) -> str:
        return self.serial

