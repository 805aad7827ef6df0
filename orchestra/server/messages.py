"""Translation between store records / the workload model and protobuf messages."""
from __future__ import annotations

import json
import threading
from typing import Iterable

from google.protobuf import descriptor, json_format

from orchestra.api import agent_pb2, orchestra_pb2, types_pb2
from orchestra.scheduler.explanation import Explanation
from orchestra.spec.model import Probe, Resources, Taint, Workload
from orchestra.store.records import (VOLUME_RELEASED, ConfigRecord, EventRecord, NodeRecord, ReplicaRecord,
                                     RevisionRecord, SecretRecord, VolumeRecord, WorkloadRecord)


_FD = descriptor.FieldDescriptor
_INTS = {_FD.CPPTYPE_INT32, _FD.CPPTYPE_INT64, _FD.CPPTYPE_UINT32, _FD.CPPTYPE_UINT64}
_SIMPLE = {_FD.CPPTYPE_FLOAT: float, _FD.CPPTYPE_DOUBLE: float, _FD.CPPTYPE_BOOL: bool, _FD.CPPTYPE_STRING: str,
           **{t: int for t in _INTS}}


class _Unusual(Exception):
    """A value fill_from_dict leaves to json_format (enums, bytes, well-known types, a mistyped value)."""


def _converter(field):
    conv = _SIMPLE.get(field.cpp_type)
    if conv is None or field.type == _FD.TYPE_BYTES:
        return None

    def convert(value):
        if conv is str and not isinstance(value, str):
            raise _Unusual(field.name)
        if conv is int and isinstance(value, float) and not value.is_integer():
            raise _Unusual(field.name)
        return conv(value)
    return convert


_PLANS: dict = {}


def _repeated(field) -> bool:
    is_repeated = getattr(field, "is_repeated", None)     # protobuf >= 5.29; `label` before
    return bool(is_repeated) if is_repeated is not None else field.label == _FD.LABEL_REPEATED


def _plan(desc) -> dict:
    """Per message type, per field name: how a stored value is set (built once per type)."""
    plan = _PLANS.get(desc.full_name)
    if plan is not None:
        return plan
    plan = {}
    for field in desc.fields:
        sub = field.message_type
        if sub is not None and sub.full_name.startswith("google.protobuf."):
            plan[field.name] = ("unusual", None, None)
        elif sub is not None and sub.GetOptions().map_entry:
            key_conv, value_field = _converter(sub.fields_by_name["key"]), sub.fields_by_name["value"]
            if value_field.message_type is not None:
                plan[field.name] = ("map_msg", key_conv, value_field.message_type)
            else:
                plan[field.name] = ("map", key_conv, _converter(value_field))
        elif _repeated(field):
            plan[field.name] = ("list_msg", None, sub) if sub is not None else ("list", _converter(field), None)
        elif sub is not None:
            plan[field.name] = ("msg", None, sub)
        else:
            plan[field.name] = ("scalar", _converter(field), None)
    _PLANS[desc.full_name] = plan
    return plan


def _fill(msg, d: dict) -> None:
    plan = _plan(msg.DESCRIPTOR)
    for key, value in d.items():
        how = plan.get(key)
        if how is None:
            continue                    # ignore_unknown_fields, as the stored dicts are read
        kind, conv, _ = how
        if kind == "scalar":
            if conv is None:
                raise _Unusual(key)
            setattr(msg, key, conv(value))
        elif kind == "msg":
            _fill(getattr(msg, key), value)
        elif kind == "list_msg":
            target = getattr(msg, key)
            for v in value:
                _fill(target.add(), v)
        elif kind == "list":
            if conv is None:
                raise _Unusual(key)
            getattr(msg, key).extend([conv(v) for v in value])
        elif kind == "map":
            if conv is None or how[2] is None:
                raise _Unusual(key)
            target = getattr(msg, key)
            for k, v in value.items():
                target[conv(k)] = how[2](v)
        elif kind == "map_msg":
            if conv is None:
                raise _Unusual(key)
            target = getattr(msg, key)
            for k, v in value.items():
                _fill(target[conv(k)], v)
        else:
            raise _Unusual(key)


def fill_from_dict(d: dict, msg) -> None:
    """json_format.ParseDict(d, msg, ignore_unknown_fields=True) for what message_to_dict wrote, several
    times faster (the user API's listings convert every node's facts and usage and every
    replica's placement): plain fields by hand, and anything unusual (enums, bytes, well-known
    types) by json_format."""
    if not d:
        return
    scratch = type(msg)()
    try:
        _fill(scratch, d)
    except (_Unusual, TypeError, ValueError):
        json_format.ParseDict(d, msg, ignore_unknown_fields=True)
        return
    msg.MergeFrom(scratch)


def resources_pb(r: Resources) -> types_pb2.Resources:
    return types_pb2.Resources(cpu_millis=r.cpu_millis, memory_bytes=r.memory_bytes)


def resources_from_pb(r: types_pb2.Resources) -> Resources:
    return Resources(int(r.cpu_millis), int(r.memory_bytes))


def taints_from_pb(taints: Iterable[types_pb2.Taint]) -> list[Taint]:
    return [Taint(key=t.key, value=t.value, effect=t.effect or "NoSchedule") for t in taints]


def message_to_dict(msg) -> dict:
    """Proto fields by their proto names; defaults left out (that is what the store keeps)."""
    return json_format.MessageToDict(msg, preserving_proto_field_name=True)


def node_pb(n: NodeRecord, bound: Iterable[ReplicaRecord] = (), usage: types_pb2.NodeUsage | None = None,
            heard_ms: int = 0) -> types_pb2.Node:
    """`usage`: the node's last sample (orchestra.server.usage_book); `heard_ms`: when its agent was
    last heard of, if later than the record says (liveness keeps that in memory)."""
    msg = _node_base(n, *allocated(bound))
    _node_now(msg, n, usage, heard_ms)
    return msg


def allocated(bound: Iterable[ReplicaRecord]) -> tuple[int, int, int]:
    """How many replicas, and the CPU millis and memory bytes they request."""
    count = cpu = mem = 0
    for r in bound:
        count += 1
        cpu += r.requests.cpu_millis
        mem += r.requests.memory_bytes
    return count, cpu, mem


def _node_base(n: NodeRecord, count: int, cpu: int, mem: int) -> types_pb2.Node:
    msg = types_pb2.Node(
        name=n.name, labels=n.labels, capacity=resources_pb(n.capacity),
        allocated=types_pb2.Resources(cpu_millis=cpu, memory_bytes=mem),
        status=n.status, schedulable=n.schedulable,
        taints=[types_pb2.Taint(key=t.key, value=t.value, effect=t.effect) for t in n.taints],
        last_heartbeat_ms=n.last_heartbeat_ms, runtime_status=n.runtime_status, replica_count=count,
        desired_revision=n.desired_revision, registered_at_ms=n.registered_at_ms, draining=n.draining,
        advertise_address=n.advertise_address)
    fill_from_dict(n.facts, msg.facts)
    return msg


def _node_now(msg: types_pb2.Node, n: NodeRecord, usage: types_pb2.NodeUsage | None, heard_ms: int) -> None:
    """What changes every few seconds without the record: the usage sample, when last heard of."""
    if heard_ms > n.last_heartbeat_ms:
        msg.last_heartbeat_ms = heard_ms
    if usage is not None and usage.ListFields():
        msg.usage.CopyFrom(usage)


class _Kept:
    """Messages kept per key while what they were built from stays the same (`stamp`: records are
    the store's own, never changed in place: orchestra.store.cache, so `is` tells)."""

    def __init__(self):
        self._kept: dict[str, tuple[object, object, object]] = {}
        self._lock = threading.Lock()

    def _base(self, key: str, record, extra, build):
        hit = self._kept.get(key)
        if hit is not None and hit[0] is record and hit[1] == extra:
            return hit[2]
        base = build()
        with self._lock:
            self._kept[key] = (record, extra, base)
        return base

    def keep_only(self, keys: set[str]) -> None:
        """Forget what is gone (called now and then, with every key that is not)."""
        with self._lock:
            self._kept = {k: v for k, v in self._kept.items() if k in keys}

    def __len__(self) -> int:
        return len(self._kept)


class NodeMessages(_Kept):
    """node_pb of each node, kept while its record and what its replicas request stay the same; the
    usage sample and when it was last heard of are set on the copy added to a listing (building
    1,000 node messages again was most of ListNodes)."""

    def add_to(self, into, n: NodeRecord, held: tuple[int, int, int], usage: types_pb2.NodeUsage | None,
               heard_ms: int) -> None:
        """Adds the node's message to `into` (a repeated Node field); `held`: allocated(its replicas)."""
        msg = into.add()
        msg.CopyFrom(self._base(n.name, n, held, lambda: _node_base(n, *held)))
        _node_now(msg, n, usage, heard_ms)


def replica_pb(r: ReplicaRecord, usage: types_pb2.ContainerUsage | None = None) -> types_pb2.Replica:
    """`usage`: the replica's last sample (orchestra.server.usage_book)."""
    msg = types_pb2.Replica(
        id=r.id, workload=r.workload, index=r.index, node=r.node, phase=r.phase, reason=r.reason,
        exit_code=r.exit_code, restarts=r.restarts, container_id=r.container_id, revision=r.revision,
        created_at_ms=r.created_at_ms, updated_at_ms=r.updated_at_ms, next_restart_ms=r.next_restart_ms,
        requests=resources_pb(r.requests), incarnation=r.incarnation, ready=r.ready, ready_since_ms=r.ready_since_ms,
        pinned_node=r.pinned_node)
    if usage is not None and usage.ListFields():
        msg.usage.CopyFrom(usage)
    for p in r.probes:
        fill_from_dict(p, msg.probes.add())
    fill_from_dict(r.placement, msg.placement)
    return msg


class ReplicaMessages(_Kept):
    """replica_pb of each replica, kept while its record stays the same, its usage sample copied in:
    a listing of 10,000 replicas converted each one again (its placement explanation most of all),
    and the user API's p99 was that. Samples change every few seconds, so they are not kept."""

    def add_to(self, into, r: ReplicaRecord, usage: types_pb2.ContainerUsage | None) -> None:
        """Adds the replica's message to `into` (a repeated Replica field): one copy of the kept one,
        where a copy with the sample and then another into the response was most of a listing."""
        msg = into.add()
        msg.CopyFrom(self._base(r.id, r, None, lambda: replica_pb(r)))
        if usage is not None and usage.ListFields():
            msg.usage.CopyFrom(usage)


# Node names kept per rejection reason in a stored explanation: enough to act on, bounded.
NAMES_PER_REJECTION = 30


def placement_dict(e: Explanation, line: str, now_ms: int) -> dict:
    """A scheduler Explanation as PlacementExplanation fields (what a replica record keeps)."""
    msg = types_pb2.PlacementExplanation(
        node=e.node or "", summary=line, nodes_total=e.nodes_total, nodes_feasible=e.nodes_feasible,
        preempted=list(e.preempted), decided_at_ms=now_ms, unschedulable=e.unschedulable,
        rejections=[types_pb2.PlacementRejection(filter=x.filter, reason=x.reason, count=x.count,
                                                 nodes=list(x.nodes[:NAMES_PER_REJECTION]), detail=x.detail)
                    for x in e.rejections],
        scores=[types_pb2.NodeScore(node=sc.node, total=sc.total, parts=dict(sc.parts)) for sc in e.top])
    return message_to_dict(msg)


def placement_pb(e: Explanation, line: str, now_ms: int) -> types_pb2.PlacementExplanation:
    msg = types_pb2.PlacementExplanation()
    json_format.ParseDict(placement_dict(e, line, now_ms), msg)
    return msg


def event_pb(e: EventRecord) -> types_pb2.Event:
    return types_pb2.Event(id=e.id, time_ms=e.time_ms, kind=e.kind, object=e.object, type=e.type,
                           reason=e.reason, message=e.message)


def rollout_pb(w: WorkloadRecord, counts) -> orchestra_pb2.RolloutStatus:
    return orchestra_pb2.RolloutStatus(
        workload=w.name, revision=w.revision, state=w.rollout_state, message=w.rollout_message,
        desired=counts.desired, updated=counts.up_to_date, ready=counts.ready, available=counts.available,
        old=counts.old, started_at_ms=w.rollout_started_ms, last_progress_ms=w.rollout_progress_ms,
        stable_revision=w.stable_revision, paused=w.paused)


def workload_info_pb(w: WorkloadRecord, counts) -> orchestra_pb2.WorkloadInfo:
    """`counts`: orchestra.server.service.Counts."""
    return orchestra_pb2.WorkloadInfo(
        name=w.name, workload_json=w.spec_json, generation=w.generation, desired=counts.desired,
        running=counts.running, pending=counts.pending, created_at_ms=w.created_at_ms,
        updated_at_ms=w.updated_at_ms, revision=w.revision, ready=counts.ready, up_to_date=counts.up_to_date,
        available=counts.available, rollout=rollout_pb(w, counts), deleting=w.deleting,
        succeeded=counts.succeeded, failed=counts.failed)


def revision_pb(r: RevisionRecord) -> orchestra_pb2.Revision:
    return orchestra_pb2.Revision(number=r.number, created_at_ms=r.created_at_ms, change=r.change, origin=r.origin,
                                  template_json=json.dumps(json.loads(r.spec_json)["spec"]["template"],
                                                           sort_keys=True, separators=(",", ":")))


def _probe_pb(p: Probe | None) -> agent_pb2.Probe | None:
    if p is None:
        return None
    msg = agent_pb2.Probe(initial_delay_seconds=p.initial_delay_seconds, period_seconds=p.period_seconds,
                          timeout_seconds=p.timeout_seconds, success_threshold=p.success_threshold,
                          failure_threshold=p.failure_threshold)
    if p.action == "exec":
        msg.exec.command.extend(p.command)
    elif p.action == "httpGet":
        msg.http_get.path, msg.http_get.port = p.path, p.port
    else:
        msg.tcp_socket.port = p.port
    return msg


def container_spec(w: Workload, template_hash: str, r: ReplicaRecord) -> agent_pb2.ContainerSpec:
    """What the agent runs for replica `r`; `w` is the workload as of the replica's revision."""
    t = w.spec.template
    return agent_pb2.ContainerSpec(
        replica_id=r.id, workload=w.name, index=r.index, revision=r.revision, template_hash=template_hash,
        image=t.image, command=list(t.command), env=dict(t.env),
        ports=[types_pb2.Port(container_port=p.container_port, host_port=p.host_port, host_ip=p.host_ip,
                              protocol=p.protocol) for p in t.ports],
        resources=resources_pb(t.resources), restart_policy=t.restart_policy, tenant=w.spec.tenant,
        read_only_root_fs=t.read_only_root_fs, add_capabilities=list(t.add_capabilities),
        incarnation=r.incarnation, readiness_probe=_probe_pb(t.readiness_probe),
        liveness_probe=_probe_pb(t.liveness_probe), startup_probe=_probe_pb(t.startup_probe),
        termination_grace_seconds=t.termination_grace_period_seconds)


def config_info_pb(c: ConfigRecord, used_by: Iterable[str]) -> orchestra_pb2.ConfigInfo:
    return orchestra_pb2.ConfigInfo(name=c.name, labels=c.labels, data=c.data, version=c.version,
                                    used_by=list(used_by), created_at_ms=c.created_at_ms,
                                    updated_at_ms=c.updated_at_ms)


def secret_info_pb(s: SecretRecord, used_by: Iterable[str]) -> orchestra_pb2.SecretInfo:
    """Keys and sizes: a secret's values never go into a user's answer."""
    return orchestra_pb2.SecretInfo(name=s.name, labels=s.labels, sizes=s.sizes, version=s.version,
                                    used_by=list(used_by), created_at_ms=s.created_at_ms,
                                    updated_at_ms=s.updated_at_ms)


def volume_info_pb(v: VolumeRecord) -> orchestra_pb2.VolumeInfo:
    return orchestra_pb2.VolumeInfo(name=v.name, workload=v.workload, index=v.index,
                                    replica=v.replica if v.state != VOLUME_RELEASED else "", volume=v.volume,
                                    node=v.node, state=v.state, created_at_ms=v.created_at_ms,
                                    updated_at_ms=v.updated_at_ms, message=v.message)
