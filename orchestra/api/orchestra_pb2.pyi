from orchestra.api import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyRequest(_message.Message):
    __slots__ = ("workloads_json", "dry_run")
    WORKLOADS_JSON_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    workloads_json: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    def __init__(self, workloads_json: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PlannedPlacement(_message.Message):
    __slots__ = ("replica", "node", "explanation")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    replica: str
    node: str
    explanation: str
    def __init__(self, replica: _Optional[str] = ..., node: _Optional[str] = ..., explanation: _Optional[str] = ...) -> None: ...

class ApplyResult(_message.Message):
    __slots__ = ("workload", "action", "generation", "placements", "removed_replicas")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    workload: str
    action: str
    generation: int
    placements: _containers.RepeatedCompositeFieldContainer[PlannedPlacement]
    removed_replicas: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, workload: _Optional[str] = ..., action: _Optional[str] = ..., generation: _Optional[int] = ..., placements: _Optional[_Iterable[_Union[PlannedPlacement, _Mapping]]] = ..., removed_replicas: _Optional[_Iterable[str]] = ...) -> None: ...

class ApplyResponse(_message.Message):
    __slots__ = ("results", "dry_run")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ApplyResult]
    dry_run: bool
    def __init__(self, results: _Optional[_Iterable[_Union[ApplyResult, _Mapping]]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("names",)
    NAMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, names: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("deleted", "not_found")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedScalarFieldContainer[str]
    not_found: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, deleted: _Optional[_Iterable[str]] = ..., not_found: _Optional[_Iterable[str]] = ...) -> None: ...

class WorkloadInfo(_message.Message):
    __slots__ = ("name", "workload_json", "generation", "desired", "running", "pending", "created_at_ms", "updated_at_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    workload_json: str
    generation: int
    desired: int
    running: int
    pending: int
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, name: _Optional[str] = ..., workload_json: _Optional[str] = ..., generation: _Optional[int] = ..., desired: _Optional[int] = ..., running: _Optional[int] = ..., pending: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class ListWorkloadsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListWorkloadsResponse(_message.Message):
    __slots__ = ("workloads",)
    WORKLOADS_FIELD_NUMBER: _ClassVar[int]
    workloads: _containers.RepeatedCompositeFieldContainer[WorkloadInfo]
    def __init__(self, workloads: _Optional[_Iterable[_Union[WorkloadInfo, _Mapping]]] = ...) -> None: ...

class ListReplicasRequest(_message.Message):
    __slots__ = ("workload", "node")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    workload: str
    node: str
    def __init__(self, workload: _Optional[str] = ..., node: _Optional[str] = ...) -> None: ...

class ListReplicasResponse(_message.Message):
    __slots__ = ("replicas",)
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    replicas: _containers.RepeatedCompositeFieldContainer[_types_pb2.Replica]
    def __init__(self, replicas: _Optional[_Iterable[_Union[_types_pb2.Replica, _Mapping]]] = ...) -> None: ...

class ListNodesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListNodesResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[_types_pb2.Node]
    def __init__(self, nodes: _Optional[_Iterable[_Union[_types_pb2.Node, _Mapping]]] = ...) -> None: ...

class DescribeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WorkloadDescription(_message.Message):
    __slots__ = ("workload", "replicas", "events")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    workload: WorkloadInfo
    replicas: _containers.RepeatedCompositeFieldContainer[_types_pb2.Replica]
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.Event]
    def __init__(self, workload: _Optional[_Union[WorkloadInfo, _Mapping]] = ..., replicas: _Optional[_Iterable[_Union[_types_pb2.Replica, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_types_pb2.Event, _Mapping]]] = ...) -> None: ...

class NodeDescription(_message.Message):
    __slots__ = ("node", "replicas", "events")
    NODE_FIELD_NUMBER: _ClassVar[int]
    REPLICAS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    node: _types_pb2.Node
    replicas: _containers.RepeatedCompositeFieldContainer[_types_pb2.Replica]
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.Event]
    def __init__(self, node: _Optional[_Union[_types_pb2.Node, _Mapping]] = ..., replicas: _Optional[_Iterable[_Union[_types_pb2.Replica, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[_types_pb2.Event, _Mapping]]] = ...) -> None: ...

class SetNodeSchedulableRequest(_message.Message):
    __slots__ = ("name", "schedulable")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCHEDULABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    schedulable: bool
    def __init__(self, name: _Optional[str] = ..., schedulable: _Optional[bool] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ("object", "limit")
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    object: str
    limit: int
    def __init__(self, object: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ("events", "last_id")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    LAST_ID_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.Event]
    last_id: int
    def __init__(self, events: _Optional[_Iterable[_Union[_types_pb2.Event, _Mapping]]] = ..., last_id: _Optional[int] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("after_id", "object")
    AFTER_ID_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    after_id: int
    object: str
    def __init__(self, after_id: _Optional[int] = ..., object: _Optional[str] = ...) -> None: ...

class LogsRequest(_message.Message):
    __slots__ = ("workload", "replica", "follow", "tail")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    workload: str
    replica: str
    follow: bool
    tail: int
    def __init__(self, workload: _Optional[str] = ..., replica: _Optional[str] = ..., follow: _Optional[bool] = ..., tail: _Optional[int] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("replica", "data")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    replica: str
    data: bytes
    def __init__(self, replica: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...
