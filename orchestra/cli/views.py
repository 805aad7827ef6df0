"""Rows of the tables that `get`, `describe` and `top` print: one function per kind of object."""
from __future__ import annotations

import json
import time

from orchestra.api import orchestra_pb2 as pb
from orchestra.api import types_pb2 as t
from orchestra.cli.tables import age, duration, labels_text, percent, shorten
from orchestra.spec.names import taint_text
from orchestra.spec.quantities import format_cpu, format_memory

NODE_HEADERS = ("name", "status", "replicas", "cpu", "memory", "age")
NODE_WIDE = ("labels", "taints", "os", "kernel", "docker", "hypervisor", "runtime", "address")
WORKLOAD_HEADERS = ("name", "ready", "up-to-date", "available", "pending", "image", "age")
WORKLOAD_WIDE = ("revision", "rollout", "tenant", "cpu", "memory", "strategy", "labels")
REPLICA_HEADERS = ("name", "workload", "node", "phase", "ready", "restarts", "age")
REPLICA_WIDE = ("revision", "incarnation", "container", "reason")
PLANE_HEADERS = ("name", "address", "role", "leading", "age")
PLANE_WIDE = ("leader-since",)
SERVICE_HEADERS = ("name", "address", "ports", "endpoints", "age")
SERVICE_WIDE = ("selector", "workloads")


def node_status(n: t.Node) -> str:
    status = n.status or "Unknown"
    return status if n.schedulable else f"{status},SchedulingDisabled"


def node_row(n: t.Node, wide: bool, now_ms: int | None = None) -> list[str]:
    row = [n.name, node_status(n), str(n.replica_count),
           f"{format_cpu(n.allocated.cpu_millis)}/{format_cpu(n.capacity.cpu_millis)}",
           f"{format_memory(n.allocated.memory_bytes)}/{format_memory(n.capacity.memory_bytes)}",
           age(n.registered_at_ms, now_ms)]
    if wide:
        taints = ",".join(taint_text(x.key, x.value, x.effect) for x in n.taints)
        row += [labels_text(n.labels), taints or "<none>", n.facts.os or "-", n.facts.kernel or "-",
                n.facts.docker_version or "-", n.facts.hypervisor or "none", n.runtime_status or "-",
                n.advertise_address or "-"]
    return row


def json_doc(text: str) -> dict:
    """A stored manifest (canonical JSON), or {} if it cannot be read."""
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def workload_spec(info: pb.WorkloadInfo) -> dict:
    """The stored manifest of a workload (canonical JSON), or {} if it cannot be read."""
    return json_doc(info.workload_json)


def service_ports(info: pb.ServiceInfo) -> str:
    """80->8080/tcp, 443->8443/tcp (node 30443)"""
    return ", ".join(f"{p.port}->{p.target_port}/{p.protocol or 'tcp'}" + (f" (node {p.node_port})" if p.node_port else "")
                     for p in info.ports) or "<none>"


def service_row(info: pb.ServiceInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    ready = sum(1 for e in info.endpoints if e.ready)
    row = [info.name, info.virtual_address or "-", service_ports(info),
           f"{ready}/{len(info.endpoints)}" if info.endpoints else "<none>", age(info.created_at_ms, now_ms)]
    if wide:
        selector = json_doc(info.service_json).get("spec", {}).get("selector", {})
        row += [labels_text(selector), ",".join(info.workloads) or "<none>"]
    return row


def workload_row(info: pb.WorkloadInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    spec = workload_spec(info).get("spec", {})
    template = spec.get("template", {})
    ready = f"{info.succeeded}/{info.desired} completed" if info.mode == "job" else f"{info.ready}/{info.desired}"
    row = [info.name + (" (deleting)" if info.deleting else ""), ready,
           str(info.up_to_date), str(info.available), str(info.pending), template.get("image", "-"),
           age(info.created_at_ms, now_ms)]
    if wide:
        res = template.get("resources", {})
        placement = spec.get("placement", {})
        row += [str(info.revision), info.rollout.state or "-", spec.get("tenant") or "-", _cpu(res.get("cpu")),
                _memory(res.get("memory")),
                placement.get("strategy") or "default",
                labels_text(workload_spec(info).get("metadata", {}).get("labels", {}))]
    return row


def _cpu(value) -> str:
    from orchestra.spec.quantities import QuantityError, parse_cpu
    try:
        return format_cpu(parse_cpu(value))
    except QuantityError:
        return "-"


def _memory(value) -> str:
    from orchestra.spec.quantities import QuantityError, parse_memory
    try:
        return format_memory(parse_memory(value))
    except QuantityError:
        return "-"


def phase(r: t.Replica, now_ms: int | None = None) -> str:
    """The phase, and for a replica waiting to be restarted, how long until the next try."""
    if r.phase == "BackOff" and r.next_restart_ms:
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        return f"BackOff (retry in {duration(max(0, r.next_restart_ms - now_ms) / 1000)})"
    return r.phase


def replica_row(r: t.Replica, wide: bool, now_ms: int | None = None) -> list[str]:
    row = [r.id, r.workload, r.node or "<none>", phase(r, now_ms), "yes" if r.ready else "no", str(r.restarts),
           age(r.created_at_ms, now_ms)]
    if wide:
        row += [str(r.revision), str(r.incarnation), r.container_id[:12] or "-", shorten(r.reason, 100) or "-"]
    return row


def node_usage_row(n: t.Node) -> list[str]:
    u = n.usage
    if not u.sampled_at_ms:
        return [n.name, "-", "-", "-"]
    mem_pct = 100.0 * u.memory_used_bytes / u.memory_total_bytes if u.memory_total_bytes else 0.0
    return [n.name, percent(u.cpu_percent), f"{format_memory(u.memory_used_bytes)}/{format_memory(u.memory_total_bytes)}",
            percent(mem_pct)]


def replica_usage_row(r: t.Replica) -> list[str]:
    u = r.usage
    if not u.sampled_at_ms:
        return [r.id, r.node or "<none>", "-", "-", "-"]
    limit = u.memory_limit_bytes or r.requests.memory_bytes
    mem_pct = 100.0 * u.memory_bytes / limit if limit else 0.0
    return [r.id, r.node or "<none>", percent(u.cpu_percent),
            f"{format_memory(u.memory_bytes)}/{format_memory(limit) if limit else '-'}", percent(mem_pct)]


def event_row(e: t.Event, now_ms: int | None = None) -> list[str]:
    return [age(e.time_ms, now_ms), e.type, e.reason, f"{e.kind}/{e.object}", shorten(e.message, 120)]


def plane_row(p: pb.PlaneInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    """A plane: whether it leads and for how long; AGE is how long it has been a candidate."""
    row = [p.name, p.address or "-", "leader" if p.leader else "follower",
           age(p.leader_since_ms, now_ms) if p.leader else "-", age(p.started_ms, now_ms)]
    if wide:
        row.append(time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(p.leader_since_ms / 1000))
                   if p.leader and p.leader_since_ms else "-")
    return row


CONFIG_HEADERS = ("name", "keys", "size", "version", "used-by", "age")
CONFIG_WIDE = ("labels", "key-names")
SECRET_HEADERS = CONFIG_HEADERS
SECRET_WIDE = ("labels", "key-sizes")
VOLUME_HEADERS = ("name", "workload", "replica", "node", "state", "age")
VOLUME_WIDE = ("volume", "message")


def _size(n: int) -> str:
    return f"{n}B" if n < 1024 else format_memory(n)


def config_row(c: pb.ConfigInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    sizes = {k: len(v.encode()) for k, v in c.data.items()}
    row = [c.name, str(len(sizes)), _size(sum(sizes.values())), str(c.version), ",".join(c.used_by) or "<none>",
           age(c.created_at_ms, now_ms)]
    if wide:
        row += [labels_text(c.labels), ",".join(sorted(sizes)) or "<none>"]
    return row


def secret_row(s: pb.SecretInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    """Keys and sizes: nothing else of a secret ever reaches the CLI."""
    row = [s.name, str(len(s.sizes)), _size(sum(s.sizes.values())), str(s.version), ",".join(s.used_by) or "<none>",
           age(s.created_at_ms, now_ms)]
    if wide:
        row += [labels_text(s.labels), ",".join(f"{k}({_size(v)})" for k, v in sorted(s.sizes.items())) or "<none>"]
    return row


def volume_row(v: pb.VolumeInfo, wide: bool, now_ms: int | None = None) -> list[str]:
    row = [v.name, v.workload, v.replica or "<released>", v.node or "<none>", v.state, age(v.created_at_ms, now_ms)]
    if wide:
        row += [v.volume, shorten(v.message, 100) or "-"]
    return row
