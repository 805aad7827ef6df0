"""Translation between store records / the workload model and protobuf messages."""
from __future__ import annotations

from typing import Iterable

from google.protobuf import json_format

from orchestra.api import agent_pb2, orchestra_pb2, types_pb2
from orchestra.spec.model import Resources, Taint, Workload
from orchestra.store.records import EventRecord, NodeRecord, ReplicaRecord, WorkloadRecord


def resources_pb(r: Resources) -> types_pb2.Resources:
    return types_pb2.Resources(cpu_millis=r.cpu_millis, memory_bytes=r.memory_bytes)


def resources_from_pb(r: types_pb2.Resources) -> Resources:
    return Resources(int(r.cpu_millis), int(r.memory_bytes))


def taints_from_pb(taints: Iterable[types_pb2.Taint]) -> list[Taint]:
    return [Taint(key=t.key, value=t.value, effect=t.effect or "NoSchedule") for t in taints]


def message_to_dict(msg) -> dict:
    """Proto fields by their proto names; defaults left out (that is what the store keeps)."""
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def node_pb(n: NodeRecord, bound: Iterable[ReplicaRecord] = ()) -> types_pb2.Node:
    bound = list(bound)
    allocated = Resources()
    for r in bound:
        allocated = allocated + r.requests
    msg = types_pb2.Node(
        name=n.name, labels=n.labels, capacity=resources_pb(n.capacity), allocated=resources_pb(allocated),
        status=n.status, schedulable=n.schedulable,
        taints=[types_pb2.Taint(key=t.key, value=t.value, effect=t.effect) for t in n.taints],
        last_heartbeat_ms=n.last_heartbeat_ms, runtime_status=n.runtime_status, replica_count=len(bound),
        desired_revision=n.desired_revision, registered_at_ms=n.registered_at_ms)
    json_format.ParseDict(n.facts, msg.facts, ignore_unknown_fields=True)
    json_format.ParseDict(n.usage, msg.usage, ignore_unknown_fields=True)
    return msg


def replica_pb(r: ReplicaRecord) -> types_pb2.Replica:
    msg = types_pb2.Replica(
        id=r.id, workload=r.workload, index=r.index, node=r.node, phase=r.phase, reason=r.reason,
        exit_code=r.exit_code, restarts=r.restarts, container_id=r.container_id, revision=r.generation,
        created_at_ms=r.created_at_ms, updated_at_ms=r.updated_at_ms, next_restart_ms=r.next_restart_ms,
        requests=resources_pb(r.requests), incarnation=r.incarnation)
    json_format.ParseDict(r.usage, msg.usage, ignore_unknown_fields=True)
    return msg


def event_pb(e: EventRecord) -> types_pb2.Event:
    return types_pb2.Event(id=e.id, time_ms=e.time_ms, kind=e.kind, object=e.object, type=e.type,
                           reason=e.reason, message=e.message)


def workload_info_pb(w: WorkloadRecord, desired: int, replicas: Iterable[ReplicaRecord]) -> orchestra_pb2.WorkloadInfo:
    replicas = list(replicas)
    return orchestra_pb2.WorkloadInfo(
        name=w.name, workload_json=w.spec_json, generation=w.generation, desired=desired,
        running=sum(1 for r in replicas if r.phase == "Running"),
        pending=sum(1 for r in replicas if r.phase == "Pending"),
        created_at_ms=w.created_at_ms, updated_at_ms=w.updated_at_ms)


def container_spec(w: Workload, r: ReplicaRecord) -> agent_pb2.ContainerSpec:
    """What the agent runs for replica `r` of workload `w`."""
    import hashlib, json
    t = w.spec.template
    doc = w.to_dict()["spec"]
    template_hash = hashlib.sha256(json.dumps([doc["template"], doc["tenant"]], sort_keys=True).encode()).hexdigest()
    return agent_pb2.ContainerSpec(
        replica_id=r.id, workload=w.name, index=r.index, revision=r.generation, template_hash=template_hash,
        image=t.image,
        command=list(t.command), env=dict(t.env),
        ports=[types_pb2.Port(container_port=p.container_port, host_port=p.host_port, host_ip=p.host_ip,
                              protocol=p.protocol) for p in t.ports],
        resources=resources_pb(t.resources), restart_policy=t.restart_policy, tenant=w.spec.tenant,
        read_only_root_fs=t.read_only_root_fs, add_capabilities=list(t.add_capabilities),
        incarnation=r.incarnation)
