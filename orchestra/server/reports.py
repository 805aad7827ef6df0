"""What the plane does with an agent's messages: registration (Hello), heartbeats, replica
status reports and usage samples. Plain functions over the store, so tests call them
directly.

The acceptance rule for a replica status (docs/internals.md): it counts only when the
replica is bound to the reporting node with the same incarnation. Anything else describes
a container the plane no longer wants there, and is dropped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from orchestra.api import agent_pb2
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.messages import message_to_dict, resources_from_pb, taints_from_pb
from orchestra.store.base import Store
from orchestra.store.records import AGENT_PHASES, BACKOFF, EXITED, FAILED, READY, RUNNING, NodeRecord

NODE_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")


class Refused(Exception):
    """The plane will not serve this agent; the message goes into a Refusal."""


def register_node(store: Store, events: EventLog, hello: agent_pb2.Hello, now_ms: int) -> NodeRecord:
    """Upsert the node from its Hello; it is Ready from now. Cordoning (schedulable) is the plane's
    own and survives re-registration."""
    name = hello.node_name
    if not NODE_NAME.match(name):
        raise Refused(f"invalid node name {name!r}: use 1-253 letters, digits, '.', '_' or '-', "
                      f"starting and ending with a letter or digit")
    if hello.capacity.cpu_millis < 0 or hello.capacity.memory_bytes < 0:
        raise Refused(f"node {name}: negative capacity")
    with store.transaction():
        rec = store.get_node(name)
        new = rec is None
        if new:
            rec = NodeRecord(name=name, registered_at_ms=now_ms)
        was_ready = rec.status == READY
        rec.labels = dict(hello.labels)
        rec.facts = message_to_dict(hello.facts)
        rec.capacity = resources_from_pb(hello.capacity)
        rec.taints = taints_from_pb(hello.taints)
        rec.agent_instance = hello.agent_instance
        rec.status = READY
        rec.last_heartbeat_ms = now_ms
        store.put_node(rec)
        if new:
            events.emit("Node", name, NORMAL, "NodeRegistered",
                        f"node {name} registered ({rec.capacity.cpu_millis}m CPU, "
                        f"{rec.capacity.memory_bytes} bytes memory)")
        elif not was_ready:
            events.emit("Node", name, NORMAL, "NodeReady", f"node {name} is Ready (agent {hello.agent_instance})")
    return rec


def record_runtime_status(store: Store, events: EventLog, node: str, runtime_status: str) -> None:
    if not runtime_status:
        return
    with store.transaction():
        rec = store.get_node(node)
        if rec is None or rec.runtime_status == runtime_status:
            return
        rec.runtime_status = runtime_status
        store.put_node(rec)
        healthy = runtime_status == "available"
        events.emit("Node", node, NORMAL if healthy else WARNING,
                    "RuntimeAvailable" if healthy else "RuntimeUnavailable", f"node {node}: runtime {runtime_status}")


@dataclass
class StatusOutcome:
    accepted: list[str]
    dropped: list[str]
    changed: bool


def accept_status(store: Store, events: EventLog, failures: FailureCounter, node: str,
                  report: agent_pb2.StatusReport, now_ms: int) -> StatusOutcome:
    accepted, dropped, changed = [], [], False
    with store.transaction():
        for st in report.replicas:
            r = store.get_replica(st.replica_id)
            if r is None or r.node != node or r.incarnation != st.incarnation or st.phase not in AGENT_PHASES:
                dropped.append(st.replica_id)
                if r is not None and _foreign_claim(r.node, r.incarnation, node, st.incarnation):
                    events.emit("Node", node, WARNING, "ForeignReport",
                                f"node {node} reported replica {r.id} incarnation {st.incarnation}, which is "
                                f"{'bound to node ' + r.node if r.node else 'not bound to any node'} at "
                                f"incarnation {r.incarnation}; report refused")
                continue
            accepted.append(r.id)
            before = (r.phase, r.reason, r.exit_code, r.restarts, r.container_id, r.next_restart_ms)
            # Restarts only grow within one incarnation; a restarted agent counts from 0 again.
            after = (st.phase, st.reason, st.exit_code, max(st.restarts, r.restarts), st.container_id,
                     st.next_restart_ms)
            if before == after:
                continue
            failed_now = (st.phase in (FAILED, BACKOFF) and r.phase != st.phase) or \
                (st.phase == EXITED and st.exit_code != 0 and r.phase != EXITED) or st.restarts > r.restarts
            r.phase, r.reason, r.exit_code, r.restarts, r.container_id, r.next_restart_ms = after
            r.updated_at_ms = now_ms
            store.put_replica(r)
            changed = True
            if failed_now:
                failures.record(now_ms, node, r.workload)
            if before[0] != st.phase:
                _phase_event(events, r.id, node, st)
    if report.runtime_status:
        record_runtime_status(store, events, node, report.runtime_status)
    return StatusOutcome(accepted, dropped, changed)


def _foreign_claim(bound_node: str, bound_incarnation: int, node: str, incarnation: int) -> bool:
    """A report no honest agent sends: about the current binding of another node, or about a
    binding that was never made. (An older incarnation is only stale, e.g. after a partition.)"""
    return incarnation > bound_incarnation or (incarnation == bound_incarnation and bound_node != node)


def _phase_event(events: EventLog, replica: str, node: str, st: agent_pb2.ReplicaStatus) -> None:
    detail = f": {st.reason}" if st.reason else ""
    if st.phase == RUNNING:
        events.emit("Replica", replica, NORMAL, "Started", f"{replica} running on {node}")
    elif st.phase == FAILED:
        events.emit("Replica", replica, WARNING, "Failed", f"{replica} failed on {node}{detail}")
    elif st.phase == BACKOFF:
        events.emit("Replica", replica, WARNING, "BackOff",
                    f"{replica} restarting on {node} after {st.restarts} restarts{detail}")
    elif st.phase == EXITED:
        events.emit("Replica", replica, NORMAL if st.exit_code == 0 else WARNING, "Exited",
                    f"{replica} exited with code {st.exit_code} on {node}{detail}")


def record_usage(store: Store, node: str, report: agent_pb2.UsageReport) -> int:
    """Store node and per-replica usage; per-replica samples count only for replicas bound to `node`.
    Returns how many replica samples were kept."""
    kept = 0
    with store.transaction():
        rec = store.get_node(node)
        if rec is None:
            return 0
        if report.HasField("node"):
            rec.usage = message_to_dict(report.node)
            store.put_node(rec)
        for ru in report.replicas:
            r = store.get_replica(ru.replica_id)
            if r is None or r.node != node:
                continue
            r.usage = message_to_dict(ru.usage)
            store.put_replica(r)
            kept += 1
    return kept
