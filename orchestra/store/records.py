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

# Node status. Replica phases: orchestra.phase.Phase.
READY = "Ready"
NOT_READY = "NotReady"


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
    last_heartbeat_ms: int = 0                          # when it became Ready (the API shows liveness's later time)
    runtime_status: str = ""
    desired_revision: int = 0
    desired_hash: str = ""                              # digest of the set published as desired_revision
    agent_instance: str = ""
    registered_at_ms: int = 0
    draining: bool = False                              # orchestra drain: its replicas move elsewhere
    drain_daemons: bool = False                         # ... its daemon replicas too (--include-daemons)
    advertise_address: str = ""                         # where other nodes reach it (service traffic)
    relay_port: int = 0                                 # its relay for service connections (0: none)
    images: list[str] = field(default_factory=list)     # its engine's images, canonical (agent.proto ImageInventory)
    images_reported: bool = False                       # False: its agent never said (the scheduler does not check)

    @property
    def key(self) -> str:
        return self.name


@dataclass
class WorkloadRecord:
    KIND: ClassVar[str] = "workloads"
    name: str
    spec_json: str                                      # canonical JSON (orchestra.spec.codec)
    generation: int = 1                                 # grows with every change of spec_json
    created_at_ms: int = 0
    updated_at_ms: int = 0
    revision: int = 1                                   # the revision new replicas are made of
    stable_revision: int = 0                            # the newest revision whose rollout completed
    paused: bool = False                                # rollout paused (orchestra rollout pause)
    deleting: bool = False                              # deleted; kept until its replicas are gone
    rollout_state: str = ""                             # orchestra.server.rollout: Progressing | Complete | ...
    rollout_message: str = ""
    rollout_started_ms: int = 0
    rollout_progress_ms: int = 0                        # when the rollout last made progress
    rollout_progress_key: str = ""                      # the counts that progress is measured on
    rollout_failure: str = ""                           # why the rollout failed (state Failed)
    daemon_nodes: int = 0                               # a daemon: the nodes it should run on, last counted
    # index -> the last incarnation of a removed replica with that index: a new replica that reuses
    # the index starts above it, so that a late report about the old container is only stale.
    last_incarnations: dict = field(default_factory=dict)

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
    phase: str = "Pending"                              # orchestra.phase.Phase
    reason: str = ""
    exit_code: int = 0
    restarts: int = 0
    container_id: str = ""
    revision: int = 1                                   # of its workload; fixed for the replica's life
    created_at_ms: int = 0
    updated_at_ms: int = 0
    next_restart_ms: int = 0
    requests: Resources = Resources()
    incarnation: int = 0
    ready: bool = False
    ready_since_ms: int = 0                             # plane clock; 0 while not ready
    probes: list = field(default_factory=list)          # ProbeResult fields by proto name, as last reported
    placement: dict = field(default_factory=dict)       # PlacementExplanation fields by proto name
    # Terminating: the desired revision of its node from which it is no longer in the node's set
    # (0 until the publisher drops it). A report at or after it that does not list the replica
    # means its container is gone.
    stop_revision: int = 0
    pinned_node: str = ""                               # a daemon's replica runs on this node only
    job: bool = False                                   # a job's replica: it ends Succeeded or Failed

    @property
    def key(self) -> str:
        return self.id


@dataclass
class RevisionRecord:
    """A numbered template of a workload (orchestra.spec.codec.revision_part), kept for history,
    rollback, and for the containers of replicas that still run it."""
    KIND: ClassVar[str] = "revisions"
    workload: str
    number: int
    spec_json: str                                      # the whole workload as it was applied then
    template_hash: str
    created_at_ms: int = 0
    change: str = ""                                    # against the revision before
    origin: str = "apply"                               # apply | undo to N | automatic rollback to N
    # What the revision's template reads of configs and secrets, as they were when it was made
    # (orchestra.server.configs): "config/NAME" -> {digest, data}, "secret/NAME" -> {digest, sealed, key_id}.
    refs: dict = field(default_factory=dict, repr=False)

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.number:012d}"


@dataclass
class ServiceRecord:
    """A Service (orchestra.spec.service) and the virtual address it keeps for its whole life."""
    KIND: ClassVar[str] = "services"
    name: str
    spec_json: str                                      # canonical JSON (orchestra.spec.codec)
    virtual_address: str = ""
    generation: int = 1
    created_at_ms: int = 0
    updated_at_ms: int = 0

    @property
    def key(self) -> str:
        return self.name


@dataclass
class EndpointsRecord:
    """The cluster's Endpoints revision (it grows when the set changes, across plane restarts) and a
    digest of the set published as it."""
    KIND: ClassVar[str] = "endpoints"
    name: str = "cluster"
    revision: int = 0
    digest: str = ""

    @property
    def key(self) -> str:
        return self.name


@dataclass
class ConfigRecord:
    KIND: ClassVar[str] = "configs"
    name: str
    data: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    digest: str = ""                                    # sha256 of the canonical data
    version: int = 1                                    # grows with every change of data
    created_at_ms: int = 0
    updated_at_ms: int = 0

    @property
    def key(self) -> str:
        return self.name


@dataclass
class SecretRecord:
    """A Secret, sealed (orchestra.security.secret_box): its values are never stored in clear."""
    KIND: ClassVar[str] = "secrets"
    name: str
    sealed: str = field(default="", repr=False)         # AES-256-GCM of the data, the name bound in
    key_id: str = ""                                    # which plane key sealed it
    digest: str = ""                                    # HMAC of the data (never a plain hash)
    sizes: dict[str, int] = field(default_factory=dict)  # key -> bytes: what users may see of it
    labels: dict[str, str] = field(default_factory=dict)
    version: int = 1
    created_at_ms: int = 0
    updated_at_ms: int = 0

    @property
    def key(self) -> str:
        return self.name


# VolumeRecord.state
VOLUME_BOUND = "Bound"          # holds the data of its replica (pinned to `node` once placed)
VOLUME_RELEASED = "Released"    # left behind by a move; its data stays on `node` until deleted
VOLUME_DELETING = "Deleting"    # its node's agent is asked to remove it; gone once a report shows so


@dataclass
class VolumeRecord:
    """One replica's named volume: a Docker volume on `node`. Its identity is (workload, index,
    volume): a rollout replaces a replica index for index, so the successor of web-0 is web-0 again
    and finds its data (orchestra.server.volumes)."""
    KIND: ClassVar[str] = "volumes"
    name: str                                           # the Docker volume: orchestra.<replica>.<volume>[.<claim>]
    workload: str
    index: int
    volume: str                                         # its name in the template
    node: str = ""                                      # where its data is ("" until first placed)
    state: str = VOLUME_BOUND
    claim: int = 1                                      # 2, 3, ... after a move or a delete (a new, empty volume)
    message: str = ""
    created_at_ms: int = 0
    updated_at_ms: int = 0
    stop_revision: int = 0                              # Deleting: the node revision that asked to remove it

    @property
    def key(self) -> str:
        return self.name

    @property
    def replica(self) -> str:
        return f"{self.workload}-{self.index}"


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



@dataclass
class ClusterKeysRecord:
    """The key material every plane of a cluster shares, sealed with the plane token
    (orchestra.security.cluster_keys); one record, written by the cluster's first plane."""
    KIND: ClassVar[str] = "cluster_keys"
    name: str
    sealed: str                                         # base64 of nonce + AES-256-GCM ciphertext
    ca_fingerprint: str                                 # of the CA inside: which cluster it is
    created_at_ms: int = 0
    created_by: str = ""                                # the plane that made it

    @property
    def key(self) -> str:
        return self.name
