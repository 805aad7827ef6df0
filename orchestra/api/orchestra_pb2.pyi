from orchestra.api import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ApplyRequest(_message.Message):
    __slots__ = ("documents_json", "dry_run")
    DOCUMENTS_JSON_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    documents_json: _containers.RepeatedScalarFieldContainer[str]
    dry_run: bool
    def __init__(self, documents_json: _Optional[_Iterable[str]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PlannedPlacement(_message.Message):
    __slots__ = ("replica", "node", "explanation", "detail")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    replica: str
    node: str
    explanation: str
    detail: _types_pb2.PlacementExplanation
    def __init__(self, replica: _Optional[str] = ..., node: _Optional[str] = ..., explanation: _Optional[str] = ..., detail: _Optional[_Union[_types_pb2.PlacementExplanation, _Mapping]] = ...) -> None: ...

class ApplyResult(_message.Message):
    __slots__ = ("workload", "action", "generation", "placements", "removed_replicas", "revision", "new_revision", "replaced_replicas", "rollout", "kind", "virtual_address", "cause")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    PLACEMENTS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    NEW_REVISION_FIELD_NUMBER: _ClassVar[int]
    REPLACED_REPLICAS_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    workload: str
    action: str
    generation: int
    placements: _containers.RepeatedCompositeFieldContainer[PlannedPlacement]
    removed_replicas: _containers.RepeatedScalarFieldContainer[str]
    revision: int
    new_revision: bool
    replaced_replicas: _containers.RepeatedScalarFieldContainer[str]
    rollout: str
    kind: str
    virtual_address: str
    cause: str
    def __init__(self, workload: _Optional[str] = ..., action: _Optional[str] = ..., generation: _Optional[int] = ..., placements: _Optional[_Iterable[_Union[PlannedPlacement, _Mapping]]] = ..., removed_replicas: _Optional[_Iterable[str]] = ..., revision: _Optional[int] = ..., new_revision: _Optional[bool] = ..., replaced_replicas: _Optional[_Iterable[str]] = ..., rollout: _Optional[str] = ..., kind: _Optional[str] = ..., virtual_address: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class ApplyResponse(_message.Message):
    __slots__ = ("results", "dry_run")
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[ApplyResult]
    dry_run: bool
    def __init__(self, results: _Optional[_Iterable[_Union[ApplyResult, _Mapping]]] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("names", "objects", "volumes")
    NAMES_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    objects: _containers.RepeatedCompositeFieldContainer[ObjectRef]
    volumes: bool
    def __init__(self, names: _Optional[_Iterable[str]] = ..., objects: _Optional[_Iterable[_Union[ObjectRef, _Mapping]]] = ..., volumes: _Optional[bool] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ("deleted", "not_found", "deleted_objects", "not_found_objects")
    DELETED_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_FIELD_NUMBER: _ClassVar[int]
    DELETED_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_OBJECTS_FIELD_NUMBER: _ClassVar[int]
    deleted: _containers.RepeatedScalarFieldContainer[str]
    not_found: _containers.RepeatedScalarFieldContainer[str]
    deleted_objects: _containers.RepeatedCompositeFieldContainer[ObjectRef]
    not_found_objects: _containers.RepeatedCompositeFieldContainer[ObjectRef]
    def __init__(self, deleted: _Optional[_Iterable[str]] = ..., not_found: _Optional[_Iterable[str]] = ..., deleted_objects: _Optional[_Iterable[_Union[ObjectRef, _Mapping]]] = ..., not_found_objects: _Optional[_Iterable[_Union[ObjectRef, _Mapping]]] = ...) -> None: ...

class ObjectRef(_message.Message):
    __slots__ = ("kind", "name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    kind: str
    name: str
    def __init__(self, kind: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class WorkloadInfo(_message.Message):
    __slots__ = ("name", "workload_json", "generation", "desired", "running", "pending", "created_at_ms", "updated_at_ms", "revision", "ready", "up_to_date", "available", "rollout", "deleting", "mode", "succeeded", "failed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_JSON_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    UP_TO_DATE_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    ROLLOUT_FIELD_NUMBER: _ClassVar[int]
    DELETING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    name: str
    workload_json: str
    generation: int
    desired: int
    running: int
    pending: int
    created_at_ms: int
    updated_at_ms: int
    revision: int
    ready: int
    up_to_date: int
    available: int
    rollout: RolloutStatus
    deleting: bool
    mode: str
    succeeded: int
    failed: int
    def __init__(self, name: _Optional[str] = ..., workload_json: _Optional[str] = ..., generation: _Optional[int] = ..., desired: _Optional[int] = ..., running: _Optional[int] = ..., pending: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., revision: _Optional[int] = ..., ready: _Optional[int] = ..., up_to_date: _Optional[int] = ..., available: _Optional[int] = ..., rollout: _Optional[_Union[RolloutStatus, _Mapping]] = ..., deleting: _Optional[bool] = ..., mode: _Optional[str] = ..., succeeded: _Optional[int] = ..., failed: _Optional[int] = ...) -> None: ...

class RolloutStatus(_message.Message):
    __slots__ = ("workload", "revision", "state", "message", "desired", "updated", "ready", "available", "old", "started_at_ms", "last_progress_ms", "stable_revision", "paused")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    UPDATED_FIELD_NUMBER: _ClassVar[int]
    READY_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    OLD_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    LAST_PROGRESS_MS_FIELD_NUMBER: _ClassVar[int]
    STABLE_REVISION_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    workload: str
    revision: int
    state: str
    message: str
    desired: int
    updated: int
    ready: int
    available: int
    old: int
    started_at_ms: int
    last_progress_ms: int
    stable_revision: int
    paused: bool
    def __init__(self, workload: _Optional[str] = ..., revision: _Optional[int] = ..., state: _Optional[str] = ..., message: _Optional[str] = ..., desired: _Optional[int] = ..., updated: _Optional[int] = ..., ready: _Optional[int] = ..., available: _Optional[int] = ..., old: _Optional[int] = ..., started_at_ms: _Optional[int] = ..., last_progress_ms: _Optional[int] = ..., stable_revision: _Optional[int] = ..., paused: _Optional[bool] = ...) -> None: ...

class RolloutRequest(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: str
    def __init__(self, workload: _Optional[str] = ...) -> None: ...

class DrainNodeRequest(_message.Message):
    __slots__ = ("name", "include_daemons")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DAEMONS_FIELD_NUMBER: _ClassVar[int]
    name: str
    include_daemons: bool
    def __init__(self, name: _Optional[str] = ..., include_daemons: _Optional[bool] = ...) -> None: ...

class UndoRolloutRequest(_message.Message):
    __slots__ = ("workload", "to_revision")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    TO_REVISION_FIELD_NUMBER: _ClassVar[int]
    workload: str
    to_revision: int
    def __init__(self, workload: _Optional[str] = ..., to_revision: _Optional[int] = ...) -> None: ...

class PauseRolloutRequest(_message.Message):
    __slots__ = ("workload", "paused")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    workload: str
    paused: bool
    def __init__(self, workload: _Optional[str] = ..., paused: _Optional[bool] = ...) -> None: ...

class Revision(_message.Message):
    __slots__ = ("number", "created_at_ms", "change", "origin", "template_json")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_JSON_FIELD_NUMBER: _ClassVar[int]
    number: int
    created_at_ms: int
    change: str
    origin: str
    template_json: str
    def __init__(self, number: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., change: _Optional[str] = ..., origin: _Optional[str] = ..., template_json: _Optional[str] = ...) -> None: ...

class ListRevisionsResponse(_message.Message):
    __slots__ = ("revisions", "current")
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[Revision]
    current: int
    def __init__(self, revisions: _Optional[_Iterable[_Union[Revision, _Mapping]]] = ..., current: _Optional[int] = ...) -> None: ...

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

class RecordEventRequest(_message.Message):
    __slots__ = ("kind", "object", "type", "reason", "message")
    KIND_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    object: str
    type: str
    reason: str
    message: str
    def __init__(self, kind: _Optional[str] = ..., object: _Optional[str] = ..., type: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

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

class ListPlanesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PlaneInfo(_message.Message):
    __slots__ = ("name", "address", "leader", "leader_since_ms", "started_ms")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    LEADER_FIELD_NUMBER: _ClassVar[int]
    LEADER_SINCE_MS_FIELD_NUMBER: _ClassVar[int]
    STARTED_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    leader: bool
    leader_since_ms: int
    started_ms: int
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., leader: _Optional[bool] = ..., leader_since_ms: _Optional[int] = ..., started_ms: _Optional[int] = ...) -> None: ...

class ListPlanesResponse(_message.Message):
    __slots__ = ("planes", "store", "answered_by", "election")
    PLANES_FIELD_NUMBER: _ClassVar[int]
    STORE_FIELD_NUMBER: _ClassVar[int]
    ANSWERED_BY_FIELD_NUMBER: _ClassVar[int]
    ELECTION_FIELD_NUMBER: _ClassVar[int]
    planes: _containers.RepeatedCompositeFieldContainer[PlaneInfo]
    store: str
    answered_by: str
    election: str
    def __init__(self, planes: _Optional[_Iterable[_Union[PlaneInfo, _Mapping]]] = ..., store: _Optional[str] = ..., answered_by: _Optional[str] = ..., election: _Optional[str] = ...) -> None: ...

class ListConfigsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListConfigsResponse(_message.Message):
    __slots__ = ("configs",)
    CONFIGS_FIELD_NUMBER: _ClassVar[int]
    configs: _containers.RepeatedCompositeFieldContainer[ConfigInfo]
    def __init__(self, configs: _Optional[_Iterable[_Union[ConfigInfo, _Mapping]]] = ...) -> None: ...

class ConfigInfo(_message.Message):
    __slots__ = ("name", "labels", "data", "version", "used_by", "created_at_ms", "updated_at_ms")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class DataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    data: _containers.ScalarMap[str, str]
    version: int
    used_by: _containers.RepeatedScalarFieldContainer[str]
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., data: _Optional[_Mapping[str, str]] = ..., version: _Optional[int] = ..., used_by: _Optional[_Iterable[str]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class ListSecretsRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListSecretsResponse(_message.Message):
    __slots__ = ("secrets",)
    SECRETS_FIELD_NUMBER: _ClassVar[int]
    secrets: _containers.RepeatedCompositeFieldContainer[SecretInfo]
    def __init__(self, secrets: _Optional[_Iterable[_Union[SecretInfo, _Mapping]]] = ...) -> None: ...

class SecretInfo(_message.Message):
    __slots__ = ("name", "labels", "sizes", "version", "used_by", "created_at_ms", "updated_at_ms")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class SizesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    SIZES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    USED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    name: str
    labels: _containers.ScalarMap[str, str]
    sizes: _containers.ScalarMap[str, int]
    version: int
    used_by: _containers.RepeatedScalarFieldContainer[str]
    created_at_ms: int
    updated_at_ms: int
    def __init__(self, name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., sizes: _Optional[_Mapping[str, int]] = ..., version: _Optional[int] = ..., used_by: _Optional[_Iterable[str]] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("workload", "node")
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    workload: str
    node: str
    def __init__(self, workload: _Optional[str] = ..., node: _Optional[str] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes",)
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[VolumeInfo]
    def __init__(self, volumes: _Optional[_Iterable[_Union[VolumeInfo, _Mapping]]] = ...) -> None: ...

class VolumeInfo(_message.Message):
    __slots__ = ("name", "workload", "index", "replica", "volume", "node", "state", "created_at_ms", "updated_at_ms", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    workload: str
    index: int
    replica: str
    volume: str
    node: str
    state: str
    created_at_ms: int
    updated_at_ms: int
    message: str
    def __init__(self, name: _Optional[str] = ..., workload: _Optional[str] = ..., index: _Optional[int] = ..., replica: _Optional[str] = ..., volume: _Optional[str] = ..., node: _Optional[str] = ..., state: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class MoveReplicaRequest(_message.Message):
    __slots__ = ("replica",)
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    replica: str
    def __init__(self, replica: _Optional[str] = ...) -> None: ...

class MoveReplicaResponse(_message.Message):
    __slots__ = ("replica", "released", "node", "explanation")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    replica: str
    released: _containers.RepeatedCompositeFieldContainer[VolumeInfo]
    node: str
    explanation: str
    def __init__(self, replica: _Optional[str] = ..., released: _Optional[_Iterable[_Union[VolumeInfo, _Mapping]]] = ..., node: _Optional[str] = ..., explanation: _Optional[str] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("command", "stdin", "stdin_eof", "resize")
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    STDIN_EOF_FIELD_NUMBER: _ClassVar[int]
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    command: ExecCommand
    stdin: bytes
    stdin_eof: bool
    resize: _types_pb2.TerminalSize
    def __init__(self, command: _Optional[_Union[ExecCommand, _Mapping]] = ..., stdin: _Optional[bytes] = ..., stdin_eof: _Optional[bool] = ..., resize: _Optional[_Union[_types_pb2.TerminalSize, _Mapping]] = ...) -> None: ...

class ExecCommand(_message.Message):
    __slots__ = ("replica", "command", "tty", "stdin", "size")
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    replica: str
    command: _containers.RepeatedScalarFieldContainer[str]
    tty: bool
    stdin: bool
    size: _types_pb2.TerminalSize
    def __init__(self, replica: _Optional[str] = ..., command: _Optional[_Iterable[str]] = ..., tty: _Optional[bool] = ..., stdin: _Optional[bool] = ..., size: _Optional[_Union[_types_pb2.TerminalSize, _Mapping]] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("stdout", "stderr", "exit")
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_FIELD_NUMBER: _ClassVar[int]
    stdout: bytes
    stderr: bytes
    exit: _types_pb2.ExecExit
    def __init__(self, stdout: _Optional[bytes] = ..., stderr: _Optional[bytes] = ..., exit: _Optional[_Union[_types_pb2.ExecExit, _Mapping]] = ...) -> None: ...

class ListServicesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListServicesResponse(_message.Message):
    __slots__ = ("services",)
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedCompositeFieldContainer[ServiceInfo]
    def __init__(self, services: _Optional[_Iterable[_Union[ServiceInfo, _Mapping]]] = ...) -> None: ...

class ServiceInfo(_message.Message):
    __slots__ = ("name", "service_json", "virtual_address", "ports", "endpoints", "workloads", "generation", "created_at_ms", "updated_at_ms", "endpoints_revision")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SERVICE_JSON_FIELD_NUMBER: _ClassVar[int]
    VIRTUAL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_FIELD_NUMBER: _ClassVar[int]
    WORKLOADS_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINTS_REVISION_FIELD_NUMBER: _ClassVar[int]
    name: str
    service_json: str
    virtual_address: str
    ports: _containers.RepeatedCompositeFieldContainer[_types_pb2.ServicePort]
    endpoints: _containers.RepeatedCompositeFieldContainer[_types_pb2.Endpoint]
    workloads: _containers.RepeatedScalarFieldContainer[str]
    generation: int
    created_at_ms: int
    updated_at_ms: int
    endpoints_revision: int
    def __init__(self, name: _Optional[str] = ..., service_json: _Optional[str] = ..., virtual_address: _Optional[str] = ..., ports: _Optional[_Iterable[_Union[_types_pb2.ServicePort, _Mapping]]] = ..., endpoints: _Optional[_Iterable[_Union[_types_pb2.Endpoint, _Mapping]]] = ..., workloads: _Optional[_Iterable[str]] = ..., generation: _Optional[int] = ..., created_at_ms: _Optional[int] = ..., updated_at_ms: _Optional[int] = ..., endpoints_revision: _Optional[int] = ...) -> None: ...

class ServiceDescription(_message.Message):
    __slots__ = ("service", "events")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    service: ServiceInfo
    events: _containers.RepeatedCompositeFieldContainer[_types_pb2.Event]
    def __init__(self, service: _Optional[_Union[ServiceInfo, _Mapping]] = ..., events: _Optional[_Iterable[_Union[_types_pb2.Event, _Mapping]]] = ...) -> None: ...

class ImageLoadRequest(_message.Message):
    __slots__ = ("start", "chunk")
    START_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    start: ImageLoadStart
    chunk: bytes
    def __init__(self, start: _Optional[_Union[ImageLoadStart, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ImageLoadStart(_message.Message):
    __slots__ = ("nodes", "size", "sha256", "name")
    NODES_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedScalarFieldContainer[str]
    size: int
    sha256: str
    name: str
    def __init__(self, nodes: _Optional[_Iterable[str]] = ..., size: _Optional[int] = ..., sha256: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ImageLoadResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeImageLoad]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeImageLoad, _Mapping]]] = ...) -> None: ...

class NodeImageLoad(_message.Message):
    __slots__ = ("node", "images", "error")
    NODE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    node: str
    images: _containers.RepeatedScalarFieldContainer[str]
    error: str
    def __init__(self, node: _Optional[str] = ..., images: _Optional[_Iterable[str]] = ..., error: _Optional[str] = ...) -> None: ...

class ListImagesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListImagesResponse(_message.Message):
    __slots__ = ("nodes",)
    NODES_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[NodeImages]
    def __init__(self, nodes: _Optional[_Iterable[_Union[NodeImages, _Mapping]]] = ...) -> None: ...

class NodeImages(_message.Message):
    __slots__ = ("node", "status", "reported", "images")
    NODE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REPORTED_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    node: str
    status: str
    reported: bool
    images: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, node: _Optional[str] = ..., status: _Optional[str] = ..., reported: _Optional[bool] = ..., images: _Optional[_Iterable[str]] = ...) -> None: ...
