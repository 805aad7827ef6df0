"""The records the plane keeps. Plain mutable dataclasses: a backend returns fresh copies,
so a caller may change one and `put_*` it back inside a transaction."""
from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class WorkloadRecord:
    name: str
    spec_json: str                                      # canonical JSON (sorted keys, compact)
    generation: int = 1
    created_at_ms: int = 0
    updated_at_ms: int = 0
    # The generation at which what a container runs (template, tenant) last changed: replicas built
    # from an older generation are re-created, the others keep running through e.g. a scale-up.
    template_generation: int = 1


@dataclass
class ReplicaRecord:
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
    id: str
    secret_hash: str
    expires_at_ms: int
    labels: dict[str, str] = field(default_factory=dict)
    revoked: bool = False
    created_at_ms: int = 0
