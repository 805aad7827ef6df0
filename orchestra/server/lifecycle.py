"""The one home of a replica's transitions. Every change of a replica record's phase, node or
readiness goes through a function here; controllers, the agent hub and user commands decide
WHEN, this module says WHAT changes and which event tells of it.

    create --> Pending --bind--> Scheduled --report--> Starting / Running / Exited / BackOff / Failed
                  ^                 |
                  +--- lose/preempt-+        (lose: the node went NotReady; the replica is
                                              rescheduled with the next incarnation)
    retire --> Terminating --confirm_gone--> removed      (unbound: removed at once)

Each function works inside the caller's transaction and writes what it changed. A replica's
revision never changes: a rollout retires old-revision replicas and creates new ones.
"""
from __future__ import annotations

from typing import Iterable

from orchestra.api import agent_pb2
from orchestra.phase import AGENT_PHASES, Phase
from orchestra.server import metrics
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.messages import message_to_dict
from orchestra.spec.model import Resources
from orchestra.store.base import Store
from orchestra.store.records import ReplicaRecord, WorkloadRecord


def replica_id(workload: str, index: int) -> str:
    return f"{workload}-{index}"


def free_indices(taken: Iterable[int], count: int) -> list[int]:
    """The `count` lowest indices not in `taken` (names stay short: web-0, web-1, ...)."""
    taken = set(taken)
    out, i = [], 0
    while len(out) < count:
        if i not in taken:
            out.append(i)
        i += 1
    return out


def is_terminating(r: ReplicaRecord) -> bool:
    return r.phase == Phase.TERMINATING


def is_available(r: ReplicaRecord, now_ms: int, min_ready_ms: int) -> bool:
    """Ready (and not on its way out) for at least min_ready_ms."""
    return r.ready and not is_terminating(r) and r.ready_since_ms > 0 and now_ms - r.ready_since_ms >= min_ready_ms


def _clear_binding(r: ReplicaRecord) -> None:
    r.node = ""
    r.container_id = ""
    r.ready = False
    r.ready_since_ms = 0
    r.probes = []
    r.stop_revision = 0


# -- the plane's transitions ------------------------------------------------------------------

def create(store: Store, workload: WorkloadRecord, index: int, requests: Resources, now_ms: int,
           pinned: str = "", job: bool = False) -> ReplicaRecord:
    """A new replica of the workload's current revision, Pending (a daemon's pinned to its node)."""
    r = ReplicaRecord(id=replica_id(workload.name, index), workload=workload.name, index=index,
                      phase=Phase.PENDING, reason="waiting to be scheduled", revision=workload.revision,
                      requests=requests, created_at_ms=now_ms, updated_at_ms=now_ms,
                      incarnation=int(workload.last_incarnations.get(str(index), 0)), pinned_node=pinned, job=job)
    store.put_replica(r)
    return r


def bind(store: Store, events: EventLog, r: ReplicaRecord, node: str, line: str, placement: dict,
         now_ms: int) -> None:
    """Bound to `node` with the next incarnation: the container of any earlier binding is not this one."""
    _clear_binding(r)
    r.node = node
    r.incarnation += 1
    r.phase = Phase.SCHEDULED
    r.reason = line
    r.placement = placement
    r.exit_code = 0
    r.restarts = 0
    r.next_restart_ms = 0
    r.updated_at_ms = now_ms
    store.put_replica(r)
    events.emit("Replica", r.id, NORMAL, "Scheduled", f"{r.id} bound to {node}" + (f": {line}" if line else ""))


def unplaced(store: Store, events: EventLog, r: ReplicaRecord, line: str, placement: dict, now_ms: int) -> None:
    """No node can take it now: the reason is kept, and written and told again only when it changes."""
    if r.reason == line and r.placement.get("summary") == line:
        return
    r.reason = line
    r.placement = placement
    r.updated_at_ms = now_ms
    store.put_replica(r)
    events.emit("Replica", r.id, WARNING, "FailedScheduling", line)


def preempt(store: Store, events: EventLog, r: ReplicaRecord, by: str, why: str, now_ms: int) -> None:
    node = r.node
    _clear_binding(r)
    r.phase = Phase.PENDING
    r.reason = f"preempted on {node} by {by}: {why}"
    r.updated_at_ms = now_ms
    store.put_replica(r)
    events.emit("Replica", r.id, WARNING, "Preempted", r.reason)


def lose(store: Store, events: EventLog, r: ReplicaRecord, node: str, now_ms: int) -> None:
    """Its node went NotReady: back to Pending to be placed elsewhere, or gone if it was retired."""
    if is_terminating(r):
        remove(store, events, r, f"its node {node} became NotReady before it confirmed the stop")
        return
    metrics.lost(r.id, now_ms)
    _clear_binding(r)
    r.phase = Phase.PENDING
    r.reason = f"lost: node {node} became NotReady; waiting to be rescheduled"
    r.updated_at_ms = now_ms
    store.put_replica(r)
    events.emit("Replica", r.id, WARNING, "Lost", f"{r.id} lost with node {node} (NotReady); rescheduling")


def retire(store: Store, events: EventLog, r: ReplicaRecord, why: str, now_ms: int) -> None:
    """No longer wanted. On a node it is Terminating until its agent has stopped the container
    ("done" means seen on the node); never placed, it is removed at once."""
    if is_terminating(r):
        return
    if not r.node:
        remove(store, events, r, why)
        return
    r.phase = Phase.TERMINATING
    r.reason = why
    r.ready = False
    r.ready_since_ms = 0
    r.stop_revision = 0
    r.updated_at_ms = now_ms
    store.put_replica(r)
    events.emit("Replica", r.id, NORMAL, "Stopping", f"{r.id} on {r.node}: {why}")


def remove(store: Store, events: EventLog, r: ReplicaRecord, why: str) -> None:
    store.delete_replica(r.id)
    metrics.forget(r.id)
    w = store.get_workload(r.workload)
    if w is not None and r.incarnation:
        w.last_incarnations[str(r.index)] = max(r.incarnation, int(w.last_incarnations.get(str(r.index), 0)))
        store.put_workload(w)
    where = f" from {r.node}" if r.node else ""
    events.emit("Replica", r.id, NORMAL, "Removed", f"{r.id} removed{where}: {why}")


def stopping_from(store: Store, r: ReplicaRecord, revision: int) -> None:
    """The publisher dropped a Terminating replica from its node's set at `revision`."""
    r.stop_revision = revision
    store.put_replica(r)


# -- what agents report ---------------------------------------------------------------------

def is_foreign_claim(r: ReplicaRecord, node: str, incarnation: int) -> bool:
    """A report no honest agent sends: about the current binding of another node, or about a
    binding that was never made. (An older incarnation is only stale, e.g. after a partition.)"""
    return incarnation > r.incarnation or (incarnation == r.incarnation and r.node != node)


def accepts(r: ReplicaRecord | None, node: str, st: agent_pb2.ReplicaStatus) -> bool:
    """A status counts only from the node the replica is bound to, about the same incarnation."""
    return r is not None and r.node == node and r.incarnation == st.incarnation and st.phase in AGENT_PHASES


def reported_as_stored(r: ReplicaRecord, st: agent_pb2.ReplicaStatus) -> bool:
    """An accepted status of a replica that is not Terminating says nothing its record does not
    (accept_report would write nothing): most reports, which agents repeat every 10 s."""
    after, probes = _reported(r, st)
    return after == _as_stored(r) and probes == r.probes


def _as_stored(r: ReplicaRecord) -> tuple:
    return (r.phase, r.reason, r.exit_code, r.restarts, r.container_id, r.next_restart_ms, r.ready)


def _reported(r: ReplicaRecord, st: agent_pb2.ReplicaStatus) -> tuple[tuple, list[dict]]:
    """What an accepted status of a replica that is not Terminating makes of its record (in _as_stored's
    order), and its probes."""
    probes = [message_to_dict(p) for p in st.probes] if st.probes else []
    ready = st.ready and st.phase == Phase.RUNNING
    if not ready and _readiness_unknown(st) and r.ready and st.container_id == r.container_id:
        # A restarted agent has not probed the container it adopted yet: it was ready a moment ago,
        # and nothing says it stopped being (an agent restart must not take replicas out of service).
        ready = True
    phase = Phase(st.phase)
    if r.job and phase == Phase.EXITED:
        # A job's replica that ended is done: Succeeded, or Failed for good (its agent does not restart it).
        phase = Phase.SUCCEEDED if st.exit_code == 0 else Phase.FAILED
    # Restarts only grow within one incarnation; a restarted agent counts from 0 again.
    return (phase, st.reason, st.exit_code, max(st.restarts, r.restarts), st.container_id,
            st.next_restart_ms, ready), probes


def accept_report(store: Store, events: EventLog, failures: FailureCounter, r: ReplicaRecord, node: str,
                  st: agent_pb2.ReplicaStatus, now_ms: int) -> bool:
    """Take one accepted status into the record; True if anything a user sees changed."""
    if is_terminating(r):
        # On its way out: only what identifies the container still matters.
        before = (r.container_id, r.probes)
        r.container_id = st.container_id or r.container_id
        r.probes = [message_to_dict(p) for p in st.probes]
        if before == (r.container_id, r.probes):
            return False
        store.put_replica(r)
        return True
    after, probes = _reported(r, st)
    ready = after[-1]
    before = _as_stored(r)
    if before == after and probes == r.probes:
        return False
    failed_now = (st.phase in (Phase.FAILED, Phase.BACKOFF) and r.phase != st.phase) or \
        (st.phase == Phase.EXITED and st.exit_code != 0 and r.phase != Phase.EXITED) or st.restarts > r.restarts
    metrics.reported(r, st, now_ms)
    old_phase, old_probes = r.phase, r.probes
    r.phase, r.reason, r.exit_code, r.restarts, r.container_id, r.next_restart_ms, r.ready = after
    if ready and not r.ready_since_ms:
        r.ready_since_ms = now_ms
    elif not ready:
        r.ready_since_ms = 0
    r.probes = probes
    if before != after:
        r.updated_at_ms = now_ms
    store.put_replica(r)
    if failed_now:
        failures.record(now_ms, node, r.workload)
    if old_phase != r.phase:
        _phase_event(events, r.id, node, st, r.phase)
    _probe_events(events, r.id, node, old_probes, probes)
    return before != after


def _readiness_unknown(st: agent_pb2.ReplicaStatus) -> bool:
    return st.phase == Phase.RUNNING and any(p.probe in ("readiness", "healthcheck", "startup") and p.result == "Unknown"
                                             for p in st.probes)


def confirm_gone(store: Store, events: EventLog, node: str, report_revision: int, reported: set[str],
                 terminating: Iterable[ReplicaRecord]) -> list[str]:
    """Terminating replicas of `node` whose containers a full report shows gone: a report made at or
    after the revision that dropped them, that does not mention them. Returns the ids removed."""
    gone = []
    for r in terminating:
        if r.node == node and r.stop_revision and report_revision >= r.stop_revision and r.id not in reported:
            remove(store, events, r, "its container is gone")
            gone.append(r.id)
    return gone


def _phase_event(events: EventLog, replica: str, node: str, st: agent_pb2.ReplicaStatus, phase: Phase) -> None:
    detail = f": {st.reason}" if st.reason else ""
    if phase == Phase.SUCCEEDED:
        events.emit("Replica", replica, NORMAL, "Completed", f"{replica} completed on {node} (exit code 0)")
    elif phase == Phase.FAILED and st.phase == Phase.EXITED:
        events.emit("Replica", replica, WARNING, "Failed", f"{replica} failed on {node}: exited with code "
                                                            f"{st.exit_code}")
    elif st.phase == Phase.RUNNING:
        events.emit("Replica", replica, NORMAL, "Started", f"{replica} running on {node}")
    elif st.phase == Phase.FAILED:
        events.emit("Replica", replica, WARNING, "Failed", f"{replica} failed on {node}{detail}")
    elif st.phase == Phase.BACKOFF:
        events.emit("Replica", replica, WARNING, "BackOff",
                    f"{replica} restarting on {node} after {st.restarts} restarts{detail}")
    elif st.phase == Phase.EXITED:
        events.emit("Replica", replica, NORMAL if st.exit_code == 0 else WARNING, "Exited",
                    f"{replica} exited with code {st.exit_code} on {node}{detail}")


def _probe_events(events: EventLog, replica: str, node: str, old: list[dict], new: list[dict]) -> None:
    """An Unhealthy event, with what the check said, each time a probe turns to failure."""
    before = {p.get("probe"): p.get("result") for p in old}
    for p in new:
        if p.get("result") == "Failure" and before.get(p.get("probe")) != "Failure":
            what = p.get("action") or p.get("probe")
            events.emit("Replica", replica, WARNING, "Unhealthy",
                        f"{replica} on {node}: {p.get('probe')} probe {what} failed "
                        f"{p.get('consecutive_failures', 1)} times: {p.get('message') or 'no output'}")
