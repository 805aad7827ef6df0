"""The plane: store + controllers + agent sessions, with the operations the servicers expose.

Controllers are level-triggered over the store: a background loop runs them every tick
(and at once when something asks for it), so work left by a crash resumes on restart.
Controller passes are serialised by one lock; each pass writes in its own transactions.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable, Iterator

from orchestra.api import agent_pb2, orchestra_pb2, types_pb2
from orchestra.scheduler import schedule
from orchestra.server import messages
from orchestra.server.desired import current_workloads, desired_message, sync_revisions
from orchestra.security.policy import SecurityPolicy, check_workload
from orchestra.server.errors import FailedPrecondition, InvalidArgument, NotFound, ProtocolError, Unavailable
from orchestra.server.events import EventLog, NORMAL
from orchestra.server.failures import FailureCounter
from orchestra.server.liveness import Liveness
from orchestra.server.reports import accept_status, record_runtime_status, record_usage, register_node
from orchestra.server.scheduling import build_view, run_scheduling_pass
from orchestra.server.sessions import AgentSession, LogEnd, LogRelay, SessionRegistry
from orchestra.server.workloads import (InvalidWorkload, canonical_json, delete_workloads,
                                        parse_apply_documents, reconcile_all, replica_id, store_workloads,
                                        WorkloadCatalog)
from orchestra.store.base import Store
from orchestra.store.records import ReplicaRecord

log = logging.getLogger("orchestra.server")

RESEND_MS = 5_000          # a node's desired set is re-sent at least this often
FULL_RECONCILE_MS = 10_000 # every workload re-checked against its replicas this often
RETRY_SCHEDULING_MS = 5_000
EVENTS_IN_DESCRIBE = 50


def wall_ms() -> int:
    return int(time.time() * 1000)


class Plane:
    def __init__(self, store: Store, *, node_grace_ms: int = 10_000, heartbeat_interval_ms: int = 2_000,
                 usage_interval_ms: int = 5_000, default_strategy: str = "spread",
                 clock_ms: Callable[[], int] = wall_ms, tick_s: float = 0.5, resend_ms: int = RESEND_MS):
        self.store = store
        self.clock_ms = clock_ms
        self.security_policy = SecurityPolicy()   # the server command sets the operator's policy
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.usage_interval_ms = usage_interval_ms
        self.default_strategy = default_strategy
        self.tick_s = tick_s
        self.resend_ms = resend_ms
        self.events = EventLog(store, clock_ms)
        self.catalog = WorkloadCatalog(store)
        self.failures = FailureCounter()
        self.liveness = Liveness(store, self.events, node_grace_ms, clock_ms())
        self.sessions = SessionRegistry()
        self.logs = LogRelay()
        self._passes = threading.RLock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_full_ms = 0
        self._schedule_due = True
        self._last_schedule_ms = 0
        self._sets: dict = {}          # node -> NodeSet, as last synced
        self._last_sync_ms = 0

    # ---- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self.events.wake_all()
        for s in self.sessions.all():
            s.end(None, "the plane is shutting down")
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wake(self) -> None:
        """Something that may let pending replicas be placed happened: run the controllers now."""
        self._schedule_due = True
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.run_controllers_once()
            except Exception:  # a bad pass must not stop the plane; the next tick retries
                log.exception("controller pass failed")

    def run_controllers_once(self) -> None:
        now = self.clock_ms()
        changed = False
        with self._passes:
            if now - self._last_full_ms >= FULL_RECONCILE_MS:
                reconcile_all(self.store, self.events, self.catalog, self.clock_ms)
                self._last_full_ms = now
                changed = True
            lost = self.liveness.check(now)
            changed = changed or bool(lost)
            # Placement is re-tried when something changed, and at least every RETRY_SCHEDULING_MS
            # (level-triggered fallback), not every tick: a large unplaceable backlog would burn CPU.
            if lost or self._schedule_due or now - self._last_schedule_ms >= RETRY_SCHEDULING_MS:
                self._schedule_due = False
                self._last_schedule_ms = now
                result = self.schedule_pending()
                changed = changed or bool(result.placements or result.preemptions)
        self.publish(changed=changed)

    def schedule_pending(self):
        with self._passes:
            result = run_scheduling_pass(self.store, self.events, self.catalog, self.failures, self.clock_ms,
                                         self.default_strategy)
        if result.preemptions:
            self.wake()  # the evicted replicas are pending now: look for a place for them at once
        return result

    def publish(self, floors: dict[str, int] | None = None, node: str = "", changed: bool = True) -> None:
        """Send each connected node (or only `node`) its desired set when it changed or is due again.

        `changed=False` (the loop's idle ticks): bindings did not change, so the sets computed last time
        are re-sent as they are; they are recomputed from the store at least every FULL_RECONCILE_MS.
        Under the pass lock, so sets reach a session in revision order."""
        with self._passes:
            now = self.clock_ms()
            if changed or node or now - self._last_sync_ms >= FULL_RECONCILE_MS:
                sets = sync_revisions(self.store, floors, node)
                if node:
                    self._sets.update(sets)
                else:
                    self._sets = sets
                    self._last_sync_ms = now
            else:
                sets = self._sets
            workloads = None
            for s in self.sessions.all():
                ns = sets.get(s.node)
                if ns is None:
                    continue
                if ns.revision != s.last_sent_revision or now - s.last_sent_ms >= self.resend_ms:
                    if workloads is None:
                        workloads = current_workloads(self.catalog)
                    s.last_sent_revision = ns.revision
                    s.last_sent_ms = now
                    s.send(agent_pb2.PlaneMessage(desired=desired_message(ns, workloads)))

    # ---- user API --------------------------------------------------------------------------
    def apply(self, documents: list[str], dry_run: bool = False) -> orchestra_pb2.ApplyResponse:
        try:
            workloads = parse_apply_documents(list(documents))
        except InvalidWorkload as exc:
            raise InvalidArgument(str(exc)) from exc
        for w in workloads:  # container security policy (orchestra.security.policy)
            refused = check_workload(w, self.security_policy)
            if refused:
                raise InvalidArgument(refused)
        if dry_run:
            return self._dry_run(workloads)
        stored = store_workloads(self.store, self.events, workloads, self.clock_ms())  # committed: durable
        with self._passes:
            waiting = {s.name: [r.id for r in self.store.list_replicas(workload=s.name) if not r.node]
                       for s in stored}
            result = self.schedule_pending()
        if result.placements or result.preemptions or any(s.action != "unchanged" for s in stored):
            self.publish()
        response = orchestra_pb2.ApplyResponse(dry_run=False)
        for s in stored:
            res = response.results.add(workload=s.name, action=s.action, generation=s.generation,
                                       removed_replicas=s.reconcile.removed)
            for rid in waiting[s.name]:
                r = self.store.get_replica(rid)
                if r is None:
                    continue
                res.placements.add(replica=rid, node=r.node,
                                   explanation=result.explanations.get(rid, r.reason))
        return response

    def _dry_run(self, workloads) -> orchestra_pb2.ApplyResponse:
        now = self.clock_ms()
        response = orchestra_pb2.ApplyResponse(dry_run=True)
        extra, plans = [], []
        for w in workloads:
            old = self.store.get_workload(w.name)
            existing = {r.index: r for r in self.store.list_replicas(workload=w.name)}
            if old is None:
                action, generation = "created", 1
            elif old.spec_json != canonical_json(w):
                action, generation = "configured", old.generation + 1
            else:
                action, generation = "unchanged", old.generation
            new = [ReplicaRecord(id=replica_id(w.name, i), workload=w.name, index=i, generation=generation,
                                 requests=w.spec.template.resources, created_at_ms=now)
                   for i in range(w.spec.replicas) if i not in existing]
            extra.extend((r, w) for r in new)
            waiting = [r.id for r in new] + [r.id for i, r in sorted(existing.items())
                                             if not r.node and i < w.spec.replicas]
            removed = [r.id for i, r in sorted(existing.items()) if i >= w.spec.replicas]
            plans.append((w.name, action, generation, waiting, removed))
        view = build_view(self.store, self.catalog, self.failures, now, self.default_strategy, extra)
        result = schedule(view.snapshot, view.pending) if view.pending else None
        for name, action, generation, waiting, removed in plans:
            res = response.results.add(workload=name, action=action, generation=generation,
                                       removed_replicas=removed)
            for rid in waiting:
                res.placements.add(replica=rid, node=result.placements.get(rid, "") if result else "",
                                   explanation=result.explanations.get(rid, "") if result else "")
        return response

    def delete(self, names: list[str]) -> orchestra_pb2.DeleteResponse:
        if not names:
            raise InvalidArgument("no workload name given")
        deleted, not_found = delete_workloads(self.store, self.events, list(names))
        if deleted:
            self.publish()
            self.wake()
        return orchestra_pb2.DeleteResponse(deleted=deleted, not_found=not_found)

    def _workload_info(self, rec) -> orchestra_pb2.WorkloadInfo:
        replicas = self.store.list_replicas(workload=rec.name)
        return messages.workload_info_pb(rec, self.catalog.parse(rec).spec.replicas, replicas)

    def list_workloads(self) -> orchestra_pb2.ListWorkloadsResponse:
        return orchestra_pb2.ListWorkloadsResponse(
            workloads=[self._workload_info(w) for w in self.store.list_workloads()])

    def list_replicas(self, workload: str = "", node: str = "") -> orchestra_pb2.ListReplicasResponse:
        return orchestra_pb2.ListReplicasResponse(
            replicas=[messages.replica_pb(r) for r in self.store.list_replicas(workload=workload, node=node)])

    def _node_pb(self, n) -> types_pb2.Node:
        return messages.node_pb(n, self.store.list_replicas(node=n.name))

    def list_nodes(self) -> orchestra_pb2.ListNodesResponse:
        return orchestra_pb2.ListNodesResponse(nodes=[self._node_pb(n) for n in self.store.list_nodes()])

    def _events_for(self, objects: list[str]) -> list[types_pb2.Event]:
        found = []
        for obj in objects:
            found.extend(self.store.list_events(obj=obj))
        found.sort(key=lambda e: e.id)
        return [messages.event_pb(e) for e in found[-EVENTS_IN_DESCRIBE:]]

    def describe_workload(self, name: str) -> orchestra_pb2.WorkloadDescription:
        rec = self.store.get_workload(name)
        if rec is None:
            raise NotFound(f"workload {name!r} not found")
        replicas = self.store.list_replicas(workload=name)
        return orchestra_pb2.WorkloadDescription(
            workload=self._workload_info(rec), replicas=[messages.replica_pb(r) for r in replicas],
            events=self._events_for([name] + [r.id for r in replicas]))

    def describe_node(self, name: str) -> orchestra_pb2.NodeDescription:
        n = self.store.get_node(name)
        if n is None:
            raise NotFound(f"node {name!r} not found")
        replicas = self.store.list_replicas(node=name)
        return orchestra_pb2.NodeDescription(node=messages.node_pb(n, replicas),
                                             replicas=[messages.replica_pb(r) for r in replicas],
                                             events=self._events_for([name]))

    def set_schedulable(self, name: str, schedulable: bool) -> types_pb2.Node:
        with self.store.transaction():
            n = self.store.get_node(name)
            if n is None:
                raise NotFound(f"node {name!r} not found")
            if n.schedulable != schedulable:
                n.schedulable = schedulable
                self.store.put_node(n)
                self.events.emit("Node", name, NORMAL, "Uncordoned" if schedulable else "Cordoned",
                                 f"node {name} {'accepts' if schedulable else 'no longer accepts'} new replicas")
        self.wake()
        return self._node_pb(n)

    def watch_events(self, after_id: int, obj: str, is_active: Callable[[], bool]) -> Iterator[types_pb2.Event]:
        last = after_id if after_id > 0 else self.store.last_event_id()
        while is_active() and not self.stopping:
            found = self.store.list_events(after_id=last, obj=obj, limit=500)
            for e in found:
                last = e.id
                yield messages.event_pb(e)
            if not found:
                self.events.wait(0.5)
        if self.stopping:
            raise Unavailable("the plane is shutting down")  # tells a watcher to reconnect, not that it is over

    def stream_logs(self, workload: str, replica: str, follow: bool, tail: int,
                    is_active: Callable[[], bool]) -> Iterator[orchestra_pb2.LogChunk]:
        if not workload and not replica:
            raise InvalidArgument("name a workload or a replica")
        if replica:
            r = self.store.get_replica(replica)
            if r is None or (workload and r.workload != workload):
                raise NotFound(f"replica {replica!r} not found" + (f" in workload {workload!r}" if workload else ""))
            replicas = [r]
        else:
            if self.store.get_workload(workload) is None:
                raise NotFound(f"workload {workload!r} not found")
            replicas = self.store.list_replicas(workload=workload)
        targets = []
        for r in replicas:
            if not r.node:
                if len(replicas) == 1:
                    raise FailedPrecondition(f"replica {r.id} is not on a node ({r.phase}: {r.reason})")
                continue
            session = self.sessions.get(r.node)
            if session is None:
                raise Unavailable(f"node {r.node} (of replica {r.id}) has no open session with the plane")
            targets.append((session, r))
        if not targets:
            raise FailedPrecondition(f"no replica of workload {workload!r} is on a node")
        sink: queue.Queue = queue.Queue()
        open_ids = {self.logs.open(s, r.id, follow, tail, sink): r.id for s, r in targets}
        remaining, errors = set(open_ids), []
        try:
            while remaining:
                try:
                    item = sink.get(timeout=0.5)
                except queue.Empty:
                    if self.stopping:
                        raise Unavailable("the plane is shutting down")
                    if not is_active():
                        return
                    continue
                if isinstance(item, LogEnd):
                    remaining.discard(item.request_id)
                    if item.error:
                        errors.append(f"{open_ids.get(item.request_id, '?')}: {item.error}")
                else:
                    request_id, rid, data = item
                    yield orchestra_pb2.LogChunk(replica=rid or open_ids.get(request_id, ""), data=data)
            if errors:
                raise Unavailable("logs incomplete: " + "; ".join(errors))
        finally:
            for request_id in remaining:
                self.logs.cancel(request_id)

    # ---- agent sessions --------------------------------------------------------------------
    def open_session(self, hello: agent_pb2.Hello) -> AgentSession:
        """Register the node and queue Welcome + its desired set. Raises Refused."""
        now = self.clock_ms()
        register_node(self.store, self.events, hello, now)
        session = AgentSession(hello.node_name, hello.agent_instance)
        # Welcome is queued before the session is visible to publishers: it is always the first message.
        session.send(agent_pb2.PlaneMessage(welcome=agent_pb2.Welcome(
            node_name=hello.node_name, heartbeat_interval_ms=self.heartbeat_interval_ms,
            usage_interval_ms=self.usage_interval_ms)))
        self.sessions.register(session)
        self.liveness.heard_from(hello.node_name, now)
        self.publish(floors={hello.node_name: hello.last_revision}, node=hello.node_name)
        self.wake()  # a new or returning node may take pending replicas
        return session

    def on_agent_message(self, session: AgentSession, msg: agent_pb2.AgentMessage) -> None:
        kind = msg.WhichOneof("msg")
        if kind is None:
            raise ProtocolError("empty AgentMessage: none of hello, heartbeat, status, usage, log is set")
        if kind == "hello":
            raise ProtocolError("hello is allowed only as the first message of a session")
        if self.sessions.get(session.node) is not session:
            return  # replaced by a newer session: its word counts no more
        now = self.clock_ms()
        if self.liveness.heard_from(session.node, now):
            self.wake()  # back to Ready: it can take pending replicas again
        if kind == "heartbeat":
            record_runtime_status(self.store, self.events, session.node, msg.heartbeat.runtime_status)
        elif kind == "status":
            accept_status(self.store, self.events, self.failures, session.node, msg.status, now)
        elif kind == "usage":
            record_usage(self.store, session.node, msg.usage)
        elif kind == "log":
            self.logs.deliver(session, msg.log)

    def close_session(self, session: AgentSession) -> None:
        session.end(None, "closed")
        self.sessions.unregister(session)
        self.logs.session_closed(session)

