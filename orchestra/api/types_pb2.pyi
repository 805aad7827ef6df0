from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Resources(_message.Message):
    __slots__ = ("cpu_millis", "memory_bytes")
    CPU_MILLIS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    cpu_millis: int
    memory_bytes: int
    def __init__(self, cpu_millis: _Optional[int] = ..., memory_bytes: _Optional[int] = ...) -> None: ...

class Port(_message.Message):
    __slots__ = ("container_port", "host_port", "host_ip", "protocol")
    CONTAINER_PORT_FIELD_NUMBER: _ClassVar[int]
    HOST_PORT_FIELD_NUMBER: _ClassVar[int]
    HOST_IP_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    container_port: int
    host_port: int
    host_ip: str
    protocol: str
    def __init__(self, container_port: _Optional[int] = ..., host_port: _Optional[int] = ..., host_ip: _Optional[str] = ..., protocol: _Optional[str] = ...) -> None: ...

class Taint(_message.Message):
    __slots__ = ("key", "value", "effect")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EFFECT_FIELD_NUMBER: _ClassVar[int]
    key: str
    value: str
    effect: str
    def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ..., effect: _Optional[str] = ...) -> None: ...

class NodeFacts(_message.Message):
    __slots__ = ("hostname", "cpus", "memory_bytes", "kernel", "os", "docker_version", "hypervisor", "agent_version", "architecture")
    HOSTNAME_FIELD_NUMBER: _ClassVar[int]
    CPUS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    KERNEL_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    DOCKER_VERSION_FIELD_NUMBER: _ClassVar[int]
    HYPERVISOR_FIELD_NUMBER: _ClassVar[int]
    AGENT_VERSION_FIELD_NUMBER: _ClassVar[int]
    ARCHITECTURE_FIELD_NUMBER: _ClassVar[int]
    hostname: str
    cpus: int
    memory_bytes: int
    kernel: str
    os: str
    docker_version: str
    hypervisor: str
    agent_version: str
    architecture: str
    def __init__(self, hostname: _Optional[str] = ..., cpus: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., kernel: _Optional[str] = ..., os: _Optional[str] = ..., docker_version: _Optional[str] = ..., hypervisor: _Optional[str] = ..., agent_version: _Optional[str] = ..., architecture: _Optional[str] = ...) -> None: ...

class NodeUsage(_message.Message):
    __slots__ = ("cpu_percent", "memory_used_bytes", "memory_total_bytes", "sampled_at_ms", "agent_memory_bytes")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_USED_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_TOTAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    AGENT_MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    memory_used_bytes: int
    memory_total_bytes: int
    sampled_at_ms: int
    agent_memory_bytes: int
    def __init__(self, cpu_percent: _Optional[float] = ..., memory_used_bytes: _Optional[int] = ..., memory_total_bytes: _Optional[int] = ..., sampled_at_ms: _Optional[int] = ..., agent_memory_bytes: _Optional[int] = ...) -> None: ...

class ContainerUsage(_message.Message):
    __slots__ = ("cpu_percent", "memory_bytes", "memory_limit_bytes", "sampled_at_ms")
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    MEMORY_LIMIT_BYTES_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    cpu_percent: float
    memory_bytes: int
    memory_limit_bytes: int
    sampled_at_ms: int
    def __init__(self, cpu_percent: _Optional[float] = ..., memory_bytes: _Optional[int] = ..., memory_limit_bytes: _Optional[int] = ..., sampled_at_ms: _Optional[int] = ...) -> None: ...

class Node(_message.Message):
    __slots__ = ("name", "labels", "facts", "capacity", "allocated", "status", "schedulable", "taints", "last_heartbeat_ms", "usage", "runtime_status", "replica_count", "desired_revision", "registered_at_ms", "draining", "advertise_address")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULABLE_FIELD_NUMBER: _ClassVar[int]
    TAINTS_FIELD_NUMBER: _ClassVar[int]
    LAST_HEARTBEAT_MS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_STATUS_FIELD_NUMBER: _ClassVar[int]
    REPLICA_COUNT_FIELD_NUMBER: _ClassVar[int]
    DESIRED_REVISION_FIELD_NUMBER: _ClassVar[int]
    REGISTERED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    DRAINING_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    facts: NodeFacts
    capacity: Resources
    allocated: Resources
    status: str
    schedulable: bool
    taints: _containers.RepeatedCompositeFieldContainer[Taint]
    last_heartbeat_ms: int
    usage: NodeUsage
    runtime_status: str
    replica_count: int
    desired_revision: int
    registered_at_ms: int
    draining: bool
    advertise_address: str
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., facts: _Optional[_Union[NodeFacts, _Mapping]] = ..., capacity: _Optional[_Union[Resources, _Mapping]] = ..., allocated: _Optional[_Union[Resources, _Mapping]] = ..., status: _Optional[str] = ..., schedulable: _Optional[bool] = ..., taints: _Optional[_Iterable[_Union[Taint, _Mapping]]] = ..., last_heartbeat_ms: _Optional[int] = ..., usage: _Optional[_Union[NodeUsage, _Mapping]] = ..., runtime_status: _Optional[str] = ..., replica_count: _Optional[int] = ..., desired_revision: _Optional[int] = ..., registered_at_ms: _Optional[int] = ..., draining: _Optional[bool] = ..., advertise_address: _Optional[str] = ...) -> None: ...

class Replica(_message.Message):
    __slots__ = ("id", "workload", "index", "node", "phase", "reason", "exit_code", "restarts", "container_id", "created_at_ms", "updated_at_ms", "usage", "next_restart_ms", "requests", "incarnation", "revision", "ready", "ready_since_ms", "probes", "placement", "pinned_node")
    ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RESTART_MS_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    READY_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    PLACEMENT_FIELD_NUMBER: _ClassVar[int]
    PINNED_NODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    workload: str
    index: int
    node: str
    phase: str
    reason: str
    exit_code: int
    restarts: int
    container_id: str
    created_at_ms: int
    updated_at_ms: int
    usage: ContainerUsage
    next_restart_ms: int
    requests: Resources
    incarnation: int
    revision: int
    ready: bool
    ready_since_ms: int
    probes: _containers.RepeatedCompositeFieldContainer[ProbeResult]
    placement: PlacementExplanation
    pinned_node: str
    def __init__(self, id: _Optional[str] = ..., workload: _Optional[str] = ..., index: _Optional[int] = ..., node: _Optional[str] = ..., phase: _Optional[str] = ..., reason: _Optional[str] = ..., exit_code: _Optional[int] = ..., restarts: _Optional[int] = ..., container_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., usage: _Optional[_Union[ContainerUsage, _Mapping]] = ..., next_restart_ms: _Optional[int] = ..., requests: _Optional[_Union[Resources, _Mapping]] = ..., incarnation: _Optional[int] = ..., revision: _Optional[int] = ..., ready: _Optional[bool] = ..., ready_since_ms: _Optional[int] = ..., probes: _Optional[_Iterable[_Union[ProbeResult, _Mapping]]] = ..., placement: _Optional[_Union[PlacementExplanation, _Mapping]] = ..., pinned_node: _Optional[str] = ...) -> None: ...

class ProbeResult(_message.Message):
    __slots__ = ("probe", "result", "message", "consecutive_failures", "consecutive_successes", "last_run_ms", "last_change_ms", "action")
    PROBE_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_FAILURES_FIELD_NUMBER: _ClassVar[int]
    CONSECUTIVE_SUCCESSES_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_CHANGE_MS_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    probe: str
    result: str
    message: str
    consecutive_failures: int
    consecutive_successes: int
    last_run_ms: int
    last_change_ms: int
    action: str
    def __init__(self, probe: _Optional[str] = ..., result: _Optional[str] = ..., message: _Optional[str] = ..., consecutive_failures: _Optional[int] = ..., consecutive_successes: _Optional[int] = ..., last_run_ms: _Optional[int] = ..., last_change_ms: _Optional[int] = ..., action: _Optional[str] = ...) -> None: ...

class PlacementExplanation(_message.Message):
    __slots__ = ("node", "summary", "nodes_total", "nodes_feasible", "rejections", "scores", "preempted", "decided_at_ms", "unschedulable")
    NODE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    NODES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    NODES_FEASIBLE_FIELD_NUMBER: _ClassVar[int]
    REJECTIONS_FIELD_NUMBER: _ClassVar[int]
    SCORES_FIELD_NUMBER: _ClassVar[int]
    PREEMPTED_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UNSCHEDULABLE_FIELD_NUMBER: _ClassVar[int]
    node: str
    summary: str
    nodes_total: int
    nodes_feasible: int
    rejections: _containers.RepeatedCompositeFieldContainer[PlacementRejection]
    scores: _containers.RepeatedCompositeFieldContainer[NodeScore]
    preempted: _containers.RepeatedScalarFieldContainer[str]
    decided_at_ms: int
    unschedulable: bool
    def __init__(self, node: _Optional[str] = ..., summary: _Optional[str] = ..., nodes_total: _Optional[int] = ..., nodes_feasible: _Optional[int] = ..., rejections: _Optional[_Iterable[_Union[PlacementRejection, _Mapping]]] = ..., scores: _Optional[_Iterable[_Union[NodeScore, _Mapping]]] = ..., preempted: _Optional[_Iterable[str]] = ..., decided_at_ms: _Optional[int] = ..., unschedulable: _Optional[bool] = ...) -> None: ...

class PlacementRejection(_message.Message):
    __slots__ = ("filter", "reason", "count", "nodes", "detail")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    filter: str
    reason: str
    count: int
    nodes: _containers.RepeatedScalarFieldContainer[str]
    detail: str
    def __init__(self, filter: _Optional[str] = ..., reason: _Optional[str] = ..., count: _Optional[int] = ..., nodes: _Optional[_Iterable[str]] = ..., detail: _Optional[str] = ...) -> None: ...

class NodeScore(_message.Message):
    __slots__ = ("node", "total", "parts")
    class PartsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NODE_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    PARTS_FIELD_NUMBER: _ClassVar[int]
    node: str
    total: float
    parts: _containers.ScalarMap[str, float]
    def __init__(self, node: _Optional[str] = ..., total: _Optional[float] = ..., parts: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("id", "time_ms", "kind", "object", "type", "reason", "message")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: int
    time_ms: int
    kind: str
    object: str
    type: str
    reason: str
    message: str
    def __init__(self, id: _Optional[int] = ..., time_ms: _Optional[int] = ..., kind: _Optional[str] = ..., object: _Optional[str] = ..., type: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TerminalSize(_message.Message):
    __slots__ = ("rows", "cols")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    COLS_FIELD_NUMBER: _ClassVar[int]
    rows: int
    cols: int
    def __init__(self, rows: _Optional[int] = ..., cols: _Optional[int] = ...) -> None: ...

class ExecExit(_message.Message):
    __slots__ = ("exit_code", "error")
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    exit_code: int
    error: str
    def __init__(self, exit_code: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class ServicePort(_message.Message):
    __slots__ = ("name", "port", "target_port", "protocol", "node_port")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    TARGET_PORT_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    NODE_PORT_FIELD_NUMBER: _ClassVar[int]
    name: str
    port: int
    target_port: int
    protocol: str
    node_port: int
    def __init__(self, name: _Optional[str] = ..., port: _Optional[int] = ..., target_port: _Optional[int] = ..., protocol: _Optional[str] = ..., node_port: _Optional[int] = ...) -> None: ...

class Endpoint(_message.Message):
    __slots__ = ("replica_id", "workload", "node", "address", "relay_port", "incarnation", "ready", "reason")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RELAY_PORT_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    workload: str
    node: str
    address: str
    relay_port: int
    incarnation: int
    ready: bool
    reason: str
    def __init__(self, replica_id: _Optional[str] = ..., workload: _Optional[str] = ..., node: _Optional[str] = ..., address: _Optional[str] = ..., relay_port: _Optional[int] = ..., incarnation: _Optional[int] = ..., ready: _Optional[bool] = ..., reason: _Optional[str] = ...) -> None: ...
