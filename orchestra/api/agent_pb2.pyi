from orchestra.api import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JoinRequest(_message.Message):
    __slots__ = ("token", "node_name", "csr_pem")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    CSR_PEM_FIELD_NUMBER: _ClassVar[int]
    token: str
    node_name: str
    csr_pem: bytes
    def __init__(self, token: _Optional[str] = ..., node_name: _Optional[str] = ..., csr_pem: _Optional[bytes] = ...) -> None: ...

class JoinResponse(_message.Message):
    __slots__ = ("certificate_pem", "ca_pem", "labels")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CERTIFICATE_PEM_FIELD_NUMBER: _ClassVar[int]
    CA_PEM_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    certificate_pem: bytes
    ca_pem: bytes
    labels: _containers.ScalarMap[str, str]
    def __init__(self, certificate_pem: _Optional[bytes] = ..., ca_pem: _Optional[bytes] = ..., labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class AgentMessage(_message.Message):
    __slots__ = ("hello", "heartbeat", "status", "usage", "log", "exec", "images", "image_load")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    EXEC_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    IMAGE_LOAD_FIELD_NUMBER: _ClassVar[int]
    hello: Hello
    heartbeat: Heartbeat
    status: StatusReport
    usage: UsageReport
    log: LogData
    exec: ExecOutput
    images: ImageInventory
    image_load: ImageLoadStatus
    def __init__(self, hello: _Optional[_Union[Hello, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., status: _Optional[_Union[StatusReport, _Mapping]] = ..., usage: _Optional[_Union[UsageReport, _Mapping]] = ..., log: _Optional[_Union[LogData, _Mapping]] = ..., exec: _Optional[_Union[ExecOutput, _Mapping]] = ..., images: _Optional[_Union[ImageInventory, _Mapping]] = ..., image_load: _Optional[_Union[ImageLoadStatus, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("node_name", "labels", "facts", "capacity", "agent_instance", "last_revision", "taints", "advertise_address", "relay_port", "last_endpoints_revision", "images")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    FACTS_FIELD_NUMBER: _ClassVar[int]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    AGENT_INSTANCE_FIELD_NUMBER: _ClassVar[int]
    LAST_REVISION_FIELD_NUMBER: _ClassVar[int]
    TAINTS_FIELD_NUMBER: _ClassVar[int]
    ADVERTISE_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    RELAY_PORT_FIELD_NUMBER: _ClassVar[int]
    LAST_ENDPOINTS_REVISION_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    node_name: str
    labels: _containers.ScalarMap[str, str]
    facts: _types_pb2.NodeFacts
    capacity: _types_pb2.Resources
    agent_instance: str
    last_revision: int
    taints: _containers.RepeatedCompositeFieldContainer[_types_pb2.Taint]
    advertise_address: str
    relay_port: int
    last_endpoints_revision: int
    images: ImageInventory
    def __init__(self, node_name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., facts: _Optional[_Union[_types_pb2.NodeFacts, _Mapping]] = ..., capacity: _Optional[_Union[_types_pb2.Resources, _Mapping]] = ..., agent_instance: _Optional[str] = ..., last_revision: _Optional[int] = ..., taints: _Optional[_Iterable[_Union[_types_pb2.Taint, _Mapping]]] = ..., advertise_address: _Optional[str] = ..., relay_port: _Optional[int] = ..., last_endpoints_revision: _Optional[int] = ..., images: _Optional[_Union[ImageInventory, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("seq", "runtime_status", "applied_revision", "endpoints_revision")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_STATUS_FIELD_NUMBER: _ClassVar[int]
    APPLIED_REVISION_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_REVISION_FIELD_NUMBER: _ClassVar[int]
    seq: int
    runtime_status: str
    applied_revision: int
    endpoints_revision: int
    def __init__(self, seq: _Optional[int] = ..., runtime_status: _Optional[str] = ..., applied_revision: _Optional[int] = ..., endpoints_revision: _Optional[int] = ...) -> None: ...

class ReplicaStatus(_message.Message):
    __slots__ = ("replica_id", "phase", "reason", "exit_code", "restarts", "container_id", "next_restart_ms", "incarnation", "ready", "probes")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NEXT_RESTART_MS_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    PROBES_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    phase: str
    reason: str
    exit_code: int
    restarts: int
    container_id: str
    next_restart_ms: int
    incarnation: int
    ready: bool
    probes: _containers.RepeatedCompositeFieldContainer[_types_pb2.ProbeResult]
    def __init__(self, replica_id: _Optional[str] = ..., phase: _Optional[str] = ..., reason: _Optional[str] = ..., exit_code: _Optional[int] = ..., restarts: _Optional[int] = ..., container_id: _Optional[str] = ..., next_restart_ms: _Optional[int] = ..., incarnation: _Optional[int] = ..., ready: _Optional[bool] = ..., probes: _Optional[_Iterable[_Union[_types_pb2.ProbeResult, _Mapping]]] = ...) -> None: ...

class StatusReport(_message.Message):
    __slots__ = ("revision", "replicas", "runtime_status", "volumes", "volumes_listed")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_STATUS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_LISTED_FIELD_NUMBER: _ClassVar[int]
    revision: int
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaStatus]
    runtime_status: str
    volumes: _containers.RepeatedScalarFieldContainer[str]
    volumes_listed: bool
    def __init__(self, revision: _Optional[int] = ..., replicas: _Optional[_Iterable[_Union[ReplicaStatus, _Mapping]]] = ..., runtime_status: _Optional[str] = ..., volumes: _Optional[_Iterable[str]] = ..., volumes_listed: _Optional[bool] = ...) -> None: ...

class ReplicaUsage(_message.Message):
    __slots__ = ("replica_id", "usage")
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    usage: _types_pb2.ContainerUsage
    def __init__(self, replica_id: _Optional[str] = ..., usage: _Optional[_Union[_types_pb2.ContainerUsage, _Mapping]] = ...) -> None: ...

class UsageReport(_message.Message):
    __slots__ = ("node", "replicas")
    NODE_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    node: _types_pb2.NodeUsage
    replicas: _containers.RepeatedCompositeFieldContainer[ReplicaUsage]
    def __init__(self, node: _Optional[_Union[_types_pb2.NodeUsage, _Mapping]] = ..., replicas: _Optional[_Iterable[_Union[ReplicaUsage, _Mapping]]] = ...) -> None: ...

class LogData(_message.Message):
    __slots__ = ("request_id", "replica_id", "data", "eof", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EOF_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    replica_id: str
    data: bytes
    eof: bool
    error: str
    def __init__(self, request_id: _Optional[str] = ..., replica_id: _Optional[str] = ..., data: _Optional[bytes] = ..., eof: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class PlaneMessage(_message.Message):
    __slots__ = ("welcome", "desired", "log_request", "log_cancel", "refusal", "exec_start", "exec_input", "exec_resize", "exec_cancel", "endpoints", "image_transfer", "image_chunk", "image_cancel")
    WELCOME_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    LOG_REQUEST_FIELD_NUMBER: _ClassVar[int]
    LOG_CANCEL_FIELD_NUMBER: _ClassVar[int]
    REFUSAL_FIELD_NUMBER: _ClassVar[int]
    EXEC_START_FIELD_NUMBER: _ClassVar[int]
    EXEC_INPUT_FIELD_NUMBER: _ClassVar[int]
    EXEC_RESIZE_FIELD_NUMBER: _ClassVar[int]
    EXEC_CANCEL_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    IMAGE_TRANSFER_FIELD_NUMBER: _ClassVar[int]
    IMAGE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    IMAGE_CANCEL_FIELD_NUMBER: _ClassVar[int]
    welcome: Welcome
    desired: DesiredSet
    log_request: LogRequest
    log_cancel: LogCancel
    refusal: Refusal
    exec_start: ExecStart
    exec_input: ExecInput
    exec_resize: ExecResize
    exec_cancel: ExecCancel
    endpoints: Endpoints
    image_transfer: ImageTransfer
    image_chunk: ImageChunk
    image_cancel: ImageCancel
    def __init__(self, welcome: _Optional[_Union[Welcome, _Mapping]] = ..., desired: _Optional[_Union[DesiredSet, _Mapping]] = ..., log_request: _Optional[_Union[LogRequest, _Mapping]] = ..., log_cancel: _Optional[_Union[LogCancel, _Mapping]] = ..., refusal: _Optional[_Union[Refusal, _Mapping]] = ..., exec_start: _Optional[_Union[ExecStart, _Mapping]] = ..., exec_input: _Optional[_Union[ExecInput, _Mapping]] = ..., exec_resize: _Optional[_Union[ExecResize, _Mapping]] = ..., exec_cancel: _Optional[_Union[ExecCancel, _Mapping]] = ..., endpoints: _Optional[_Union[Endpoints, _Mapping]] = ..., image_transfer: _Optional[_Union[ImageTransfer, _Mapping]] = ..., image_chunk: _Optional[_Union[ImageChunk, _Mapping]] = ..., image_cancel: _Optional[_Union[ImageCancel, _Mapping]] = ...) -> None: ...

class Welcome(_message.Message):
    __slots__ = ("node_name", "heartbeat_interval_ms", "usage_interval_ms")
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    USAGE_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    node_name: str
    heartbeat_interval_ms: int
    usage_interval_ms: int
    def __init__(self, node_name: _Optional[str] = ..., heartbeat_interval_ms: _Optional[int] = ..., usage_interval_ms: _Optional[int] = ...) -> None: ...

class ContainerSpec(_message.Message):
    __slots__ = ("replica_id", "workload", "index", "image", "command", "env", "ports", "resources", "restart_policy", "tenant", "read_only_root_fs", "add_capabilities", "incarnation", "revision", "template_hash", "startup_probe", "readiness_probe", "liveness_probe", "termination_grace_seconds", "volume_mounts", "file_mounts", "secret_env")
    class EnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SecretEnvEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    RESTART_POLICY_FIELD_NUMBER: _ClassVar[int]
    TENANT_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_ROOT_FS_FIELD_NUMBER: _ClassVar[int]
    ADD_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_HASH_FIELD_NUMBER: _ClassVar[int]
    STARTUP_PROBE_FIELD_NUMBER: _ClassVar[int]
    READINESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    LIVENESS_PROBE_FIELD_NUMBER: _ClassVar[int]
    TERMINATION_GRACE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    FILE_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    SECRET_ENV_FIELD_NUMBER: _ClassVar[int]
    replica_id: str
    workload: str
    index: int
    image: str
    command: _containers.RepeatedScalarFieldContainer[str]
    env: _containers.ScalarMap[str, str]
    ports: _containers.RepeatedCompositeFieldContainer[_types_pb2.Port]
    resources: _types_pb2.Resources
    restart_policy: str
    tenant: str
    read_only_root_fs: bool
    add_capabilities: _containers.RepeatedScalarFieldContainer[str]
    incarnation: int
    revision: int
    template_hash: str
    startup_probe: Probe
    readiness_probe: Probe
    liveness_probe: Probe
    termination_grace_seconds: int
    volume_mounts: _containers.RepeatedCompositeFieldContainer[VolumeMount]
    file_mounts: _containers.RepeatedCompositeFieldContainer[FileMount]
    secret_env: _containers.ScalarMap[str, bytes]
    def __init__(self, replica_id: _Optional[str] = ..., workload: _Optional[str] = ..., index: _Optional[int] = ..., image: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., env: _Optional[_Mapping[str, str]] = ..., ports: _Optional[_Iterable[_Union[_types_pb2.Port, _Mapping]]] = ..., resources: _Optional[_Union[_types_pb2.Resources, _Mapping]] = ..., restart_policy: _Optional[str] = ..., tenant: _Optional[str] = ..., read_only_root_fs: _Optional[bool] = ..., add_capabilities: _Optional[_Iterable[str]] = ..., incarnation: _Optional[int] = ..., revision: _Optional[int] = ..., template_hash: _Optional[str] = ..., startup_probe: _Optional[_Union[Probe, _Mapping]] = ..., readiness_probe: _Optional[_Union[Probe, _Mapping]] = ..., liveness_probe: _Optional[_Union[Probe, _Mapping]] = ..., termination_grace_seconds: _Optional[int] = ..., volume_mounts: _Optional[_Iterable[_Union[VolumeMount, _Mapping]]] = ..., file_mounts: _Optional[_Iterable[_Union[FileMount, _Mapping]]] = ..., secret_env: _Optional[_Mapping[str, bytes]] = ...) -> None: ...

class VolumeMount(_message.Message):
    __slots__ = ("name", "volume", "mount_path", "read_only")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    name: str
    volume: str
    mount_path: str
    read_only: bool
    def __init__(self, name: _Optional[str] = ..., volume: _Optional[str] = ..., mount_path: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class FileMount(_message.Message):
    __slots__ = ("name", "mount_path", "secret", "files")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    name: str
    mount_path: str
    secret: bool
    files: _containers.RepeatedCompositeFieldContainer[FileEntry]
    def __init__(self, name: _Optional[str] = ..., mount_path: _Optional[str] = ..., secret: _Optional[bool] = ..., files: _Optional[_Iterable[_Union[FileEntry, _Mapping]]] = ...) -> None: ...

class FileEntry(_message.Message):
    __slots__ = ("path", "content")
    PATH_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    path: str
    content: bytes
    def __init__(self, path: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class Probe(_message.Message):
    __slots__ = ("exec", "http_get", "tcp_socket", "initial_delay_seconds", "period_seconds", "timeout_seconds", "success_threshold", "failure_threshold")
    EXEC_FIELD_NUMBER: _ClassVar[int]
    HTTP_GET_FIELD_NUMBER: _ClassVar[int]
    TCP_SOCKET_FIELD_NUMBER: _ClassVar[int]
    INITIAL_DELAY_SECONDS_FIELD_NUMBER: _ClassVar[int]
    PERIOD_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FAILURE_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    exec: ExecAction
    http_get: HttpGetAction
    tcp_socket: TcpSocketAction
    initial_delay_seconds: int
    period_seconds: int
    timeout_seconds: int
    success_threshold: int
    failure_threshold: int
    def __init__(self, exec: _Optional[_Union[ExecAction, _Mapping]] = ..., http_get: _Optional[_Union[HttpGetAction, _Mapping]] = ..., tcp_socket: _Optional[_Union[TcpSocketAction, _Mapping]] = ..., initial_delay_seconds: _Optional[int] = ..., period_seconds: _Optional[int] = ..., timeout_seconds: _Optional[int] = ..., success_threshold: _Optional[int] = ..., failure_threshold: _Optional[int] = ...) -> None: ...

class ExecAction(_message.Message):
    __slots__ = ("command",)
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    command: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, command: _Optional[_Iterable[str]] = ...) -> None: ...

class HttpGetAction(_message.Message):
    __slots__ = ("path", "port")
    PATH_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    path: str
    port: int
    def __init__(self, path: _Optional[str] = ..., port: _Optional[int] = ...) -> None: ...

class TcpSocketAction(_message.Message):
    __slots__ = ("port",)
    PORT_FIELD_NUMBER: _ClassVar[int]
    port: int
    def __init__(self, port: _Optional[int] = ...) -> None: ...

class DesiredSet(_message.Message):
    __slots__ = ("revision", "replicas", "remove_volumes")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    REMOVE_VOLUMES_FIELD_NUMBER: _ClassVar[int]
    revision: int
    replicas: _containers.RepeatedCompositeFieldContainer[ContainerSpec]
    remove_volumes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, revision: _Optional[int] = ..., replicas: _Optional[_Iterable[_Union[ContainerSpec, _Mapping]]] = ..., remove_volumes: _Optional[_Iterable[str]] = ...) -> None: ...

class LogRequest(_message.Message):
    __slots__ = ("request_id", "replica_id", "follow", "tail")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    replica_id: str
    follow: bool
    tail: int
    def __init__(self, request_id: _Optional[str] = ..., replica_id: _Optional[str] = ..., follow: _Optional[bool] = ..., tail: _Optional[int] = ...) -> None: ...

class LogCancel(_message.Message):
    __slots__ = ("request_id",)
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    def __init__(self, request_id: _Optional[str] = ...) -> None: ...

class Refusal(_message.Message):
    __slots__ = ("reason",)
    REASON_FIELD_NUMBER: _ClassVar[int]
    reason: str
    def __init__(self, reason: _Optional[str] = ...) -> None: ...

class ExecStart(_message.Message):
    __slots__ = ("exec_id", "replica_id", "incarnation", "command", "tty", "stdin", "size", "output_window", "stdin_window")
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    REPLICA_ID_FIELD_NUMBER: _ClassVar[int]
    INCARNATION_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_WINDOW_FIELD_NUMBER: _ClassVar[int]
    STDIN_WINDOW_FIELD_NUMBER: _ClassVar[int]
    exec_id: str
    replica_id: str
    incarnation: int
    command: _containers.RepeatedScalarFieldContainer[str]
    tty: bool
    stdin: bool
    size: _types_pb2.TerminalSize
    output_window: int
    stdin_window: int
    def __init__(self, exec_id: _Optional[str] = ..., replica_id: _Optional[str] = ..., incarnation: _Optional[int] = ..., command: _Optional[_Iterable[str]] = ..., tty: _Optional[bool] = ..., stdin: _Optional[bool] = ..., size: _Optional[_Union[_types_pb2.TerminalSize, _Mapping]] = ..., output_window: _Optional[int] = ..., stdin_window: _Optional[int] = ...) -> None: ...

class ExecInput(_message.Message):
    __slots__ = ("exec_id", "stdin", "stdin_eof", "output_credit")
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    STDIN_EOF_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_CREDIT_FIELD_NUMBER: _ClassVar[int]
    exec_id: str
    stdin: bytes
    stdin_eof: bool
    output_credit: int
    def __init__(self, exec_id: _Optional[str] = ..., stdin: _Optional[bytes] = ..., stdin_eof: _Optional[bool] = ..., output_credit: _Optional[int] = ...) -> None: ...

class ExecResize(_message.Message):
    __slots__ = ("exec_id", "size")
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    exec_id: str
    size: _types_pb2.TerminalSize
    def __init__(self, exec_id: _Optional[str] = ..., size: _Optional[_Union[_types_pb2.TerminalSize, _Mapping]] = ...) -> None: ...

class ExecCancel(_message.Message):
    __slots__ = ("exec_id",)
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    exec_id: str
    def __init__(self, exec_id: _Optional[str] = ...) -> None: ...

class ExecOutput(_message.Message):
    __slots__ = ("exec_id", "stdout", "stderr", "stdin_credit", "exit", "error")
    EXEC_ID_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    STDIN_CREDIT_FIELD_NUMBER: _ClassVar[int]
    EXIT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    exec_id: str
    stdout: bytes
    stderr: bytes
    stdin_credit: int
    exit: _types_pb2.ExecExit
    error: str
    def __init__(self, exec_id: _Optional[str] = ..., stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., stdin_credit: _Optional[int] = ..., exit: _Optional[_Union[_types_pb2.ExecExit, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class Endpoints(_message.Message):
    __slots__ = ("revision", "services")
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    revision: int
    services: _containers.RepeatedCompositeFieldContainer[ServiceRoute]
    def __init__(self, revision: _Optional[int] = ..., services: _Optional[_Iterable[_Union[ServiceRoute, _Mapping]]] = ...) -> None: ...

class ServiceRoute(_message.Message):
    __slots__ = ("name", "virtual_address", "ports", "endpoints")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    name: str
    virtual_address: str
    ports: _containers.RepeatedCompositeFieldContainer[_types_pb2.ServicePort]
    endpoints: _containers.RepeatedCompositeFieldContainer[_types_pb2.Endpoint]
    def __init__(self, name: _Optional[str] = ..., virtual_address: _Optional[str] = ..., ports: _Optional[_Iterable[_Union[_types_pb2.ServicePort, _Mapping]]] = ..., endpoints: _Optional[_Iterable[_Union[_types_pb2.Endpoint, _Mapping]]] = ...) -> None: ...

class ImageInventory(_message.Message):
    __slots__ = ("images",)
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, images: _Optional[_Iterable[str]] = ...) -> None: ...

class ImageTransfer(_message.Message):
    __slots__ = ("load_id", "size", "sha256", "window")
    LOAD_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    load_id: str
    size: int
    sha256: str
    window: int
    def __init__(self, load_id: _Optional[str] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., window: _Optional[int] = ...) -> None: ...

class ImageChunk(_message.Message):
    __slots__ = ("load_id", "data", "last")
    LOAD_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    load_id: str
    data: bytes
    last: bool
    def __init__(self, load_id: _Optional[str] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ...) -> None: ...

class ImageCancel(_message.Message):
    __slots__ = ("load_id", "reason")
    LOAD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    load_id: str
    reason: str
    def __init__(self, load_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ImageLoadStatus(_message.Message):
    __slots__ = ("load_id", "credit", "done", "images", "error")
    LOAD_ID_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    DONE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    load_id: str
    credit: int
    done: bool
    images: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, load_id: _Optional[str] = ..., credit: _Optional[int] = ..., done: _Optional[bool] = ..., images: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...
