"""The agent hub: agents' sessions and what their messages do (registration, heartbeats,
replica reports, usage, log data, exec output: orchestra/server/exec_relay.py, image inventories
and loads: orchestra/server/image_relay.py). Plain methods over the store, so tests call them directly;
the gRPC servicer only feeds it.

The acceptance rule for a replica status (docs/internals.md): it counts only when the replica
is bound to the reporting node with the same incarnation (orchestra.server.lifecycle.accepts).
A full report also shows which of the node's Terminating replicas are gone.
"""
from __future__ import annotations

from typing import Callable

import grpc

from orchestra.api import agent_pb2
from orchestra.server import lifecycle, volumes
from orchestra.server.controllers.liveness import Liveness
from orchestra.server.errors import ProtocolError
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.server.exec_relay import ExecRelay
from orchestra.server.failures import FailureCounter
from orchestra.server.image_relay import ImageRelay
from orchestra.server.messages import message_to_dict, resources_from_pb, taints_from_pb
from orchestra.server.sessions import AgentSession, LogRelay, SessionRegistry
from orchestra.server.usage_book import UsageBook
from orchestra.spec.names import canonical_image, node_name_problem
from orchestra.store.base import Store
from orchestra.store.records import READY, VOLUME_DELETING, NodeRecord, ReplicaRecord, VolumeRecord


class Refused(Exception):
    """The plane will not serve this agent; the message goes into a Refusal."""


class AgentHub:
    def __init__(self, store: Store, events: EventLog, liveness: Liveness, failures: FailureCounter,
                 clock_ms: Callable[[], int], heartbeat_interval_ms: int, usage_interval_ms: int,
                 on_change: Callable[[set[str]], None], on_node: Callable[[str, int], None]):
        """`on_change(workloads)`: reports changed these workloads' replicas. `on_node(node, last_revision)`:
        a node (re)connected or became Ready: it may take replicas, and needs its desired set now."""
        self.store = store
        self.events = events
        self.liveness = liveness
        self.failures = failures
        self.clock_ms = clock_ms
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.usage_interval_ms = usage_interval_ms
        self.on_change = on_change
        self.on_node = on_node
        self.sessions = SessionRegistry()
        self.usage = UsageBook()
        self.logs = LogRelay()
        self.execs = ExecRelay()
        self.images = ImageRelay()

    def connected(self, node: str) -> bool:
        return self.sessions.get(node) is not None

    # -- sessions ---------------------------------------------------------------------------
    def open_session(self, hello: agent_pb2.Hello) -> AgentSession:
        """Register the node and queue Welcome + its desired set. Raises Refused."""
        now = self.clock_ms()
        self.register_node(hello, now)
        session = AgentSession(hello.node_name, hello.agent_instance)
        session.endpoints_ack = hello.last_endpoints_revision
        # Welcome is queued before the session is visible to publishers: it is always the first message.
        session.send(agent_pb2.PlaneMessage(welcome=agent_pb2.Welcome(
            node_name=hello.node_name, heartbeat_interval_ms=self.heartbeat_interval_ms,
            usage_interval_ms=self.usage_interval_ms)))
        self.sessions.register(session)
        self.liveness.heard_from(hello.node_name, now)
        self.on_node(hello.node_name, hello.last_revision)
        return session

    def close_session(self, session: AgentSession) -> None:
        session.end(None, "closed")
        self.sessions.unregister(session)
        self.logs.session_closed(session)
        self.execs.session_closed(session)
        self.images.session_closed(session)

    def end_silent_sessions(self, nodes: list[str]) -> None:
        """These nodes were silent past the grace (liveness made them NotReady): a session still open for
        one is dead (its peer went away without closing, e.g. a VM destroyed under it) or stalled. Ended
        here, so that the node shows as disconnected and can be deleted, instead of waiting for TCP to
        notice (the plane writes nothing on an idle session: sets are re-sent only until acknowledged).
        An agent that is alive after all reconnects and is Ready again."""
        for node in nodes:
            session = self.sessions.get(node)
            if session is not None:
                session.end(grpc.StatusCode.UNAVAILABLE,
                            f"node {node}: nothing heard from its agent for longer than the node grace; reconnect")

    def register_node(self, hello: agent_pb2.Hello, now_ms: int) -> NodeRecord:
        """Upsert the node from its Hello. Its Ready status is liveness's; cordoning (schedulable) is
        the plane's own and survives re-registration."""
        name = hello.node_name
        problem = node_name_problem(name)
        if problem:
            raise Refused(f"invalid node name {name!r}: {problem}")
        if hello.capacity.cpu_millis < 0 or hello.capacity.memory_bytes < 0:
            raise Refused(f"node {name}: negative capacity")
        with self.store.transaction():
            rec = self.store.get_node(name)
            new = rec is None
            if new:
                rec = NodeRecord(name=name, registered_at_ms=now_ms)
            rec.labels = dict(hello.labels)
            rec.facts = message_to_dict(hello.facts)
            rec.capacity = resources_from_pb(hello.capacity)
            rec.taints = taints_from_pb(hello.taints)
            rec.agent_instance = hello.agent_instance
            rec.advertise_address = hello.advertise_address
            rec.relay_port = hello.relay_port
            rec.images_reported = hello.HasField("images")
            rec.images = image_set(hello.images) if rec.images_reported else []
            self.store.put_node(rec)
            if new:
                self.events.emit("Node", name, NORMAL, "NodeRegistered",
                                 f"node {name} registered ({rec.capacity.cpu_millis}m CPU, "
                                 f"{rec.capacity.memory_bytes} bytes memory)")
        return rec

    # -- messages ---------------------------------------------------------------------------
    def heard(self, session: AgentSession) -> None:
        """A message of the session's agent arrived and waits to be handled (on_message): its node is
        alive now, however long the hub's threads take to get to it (memory only: cheap enough for
        the event loop). Without this, a backlog of messages made healthy nodes NotReady."""
        if self.sessions.get(session.node) is session:
            self.liveness.seen(session.node, self.clock_ms())

    def on_message_now(self, session: AgentSession, msg: agent_pb2.AgentMessage) -> bool:
        """On the event loop, before any hub thread: handle a message that writes nothing to the store
        and waits for nothing, and say True; False: it goes to on_message. Those are most of what an
        idle cluster says: a heartbeat of a Ready node whose runtime status and routes are as the
        plane knows them, and usage (memory only). At 1,000 agents, passing each of them to a hub
        thread and back cost more than handling it."""
        kind = msg.WhichOneof("msg")
        if kind not in ("heartbeat", "usage") or self.sessions.get(session.node) is not session:
            return False
        known = self.store.glance(NodeRecord, session.node)
        if known is None or known.status != READY:
            return False        # becoming Ready again is a write
        if kind == "usage":
            self.record_usage(session.node, msg.usage)
            return True
        beat = msg.heartbeat
        if (beat.runtime_status and beat.runtime_status != known.runtime_status) or \
                beat.endpoints_revision > session.endpoints_ack:
            return False
        session.applied_revision = beat.applied_revision
        return True

    def on_message(self, session: AgentSession, msg: agent_pb2.AgentMessage) -> None:
        kind = msg.WhichOneof("msg")
        if kind is None:
            raise ProtocolError("empty AgentMessage: none of hello, heartbeat, status, usage, log, exec, images, "
                                "image_load is set")
        if kind == "hello":
            raise ProtocolError("hello is allowed only as the first message of a session")
        if self.sessions.get(session.node) is not session:
            return  # replaced by a newer session: its word counts no more
        now = self.clock_ms()
        if self.liveness.heard_from(session.node, now):
            self.on_node(session.node, 0)   # back to Ready: it can take pending replicas again
        if kind == "heartbeat":
            session.applied_revision = msg.heartbeat.applied_revision
            self.record_runtime_status(session.node, msg.heartbeat.runtime_status)
            if msg.heartbeat.endpoints_revision > session.endpoints_ack:
                session.endpoints_ack = msg.heartbeat.endpoints_revision
                self.on_change(set())    # a replica held for this acknowledgement may be stopped now
        elif kind == "status":
            self.accept_status(session.node, msg.status, now)
        elif kind == "usage":
            self.record_usage(session.node, msg.usage)
        elif kind == "log":
            self.logs.deliver(session, msg.log)
        elif kind == "exec":
            self.execs.deliver(session, msg.exec)
        elif kind == "images":
            if self.record_images(session.node, msg.images):
                self.on_node(session.node, 0)   # it may hold what a pending replica waits for now
        elif kind == "image_load":
            self.images.deliver(session, msg.image_load)

    def record_images(self, node: str, inventory: agent_pb2.ImageInventory) -> bool:
        """Store the node's images; True when they changed."""
        images = image_set(inventory)
        with self.store.transaction():
            rec = self.store.get_node(node)
            if rec is None or (rec.images_reported and rec.images == images):
                return False
            rec.images, rec.images_reported = images, True
            self.store.put_node(rec)
        return True

    def record_runtime_status(self, node: str, runtime_status: str) -> None:
        if not runtime_status:
            return
        known = self.store.glance(NodeRecord, node)
        if known is None or known.runtime_status == runtime_status:
            return      # the common case (every heartbeat says it again): no transaction, no copy
        with self.store.transaction():
            rec = self.store.get_node(node)
            if rec is None or rec.runtime_status == runtime_status:
                return
            rec.runtime_status = runtime_status
            self.store.put_node(rec)
            healthy = runtime_status == "available"
            self.events.emit("Node", node, NORMAL if healthy else WARNING,
                             "RuntimeAvailable" if healthy else "RuntimeUnavailable", f"node {node}: runtime {runtime_status}")

    def accept_status(self, node: str, report: agent_pb2.StatusReport, now_ms: int) -> tuple[list[str], list[str]]:
        """Returns (accepted, dropped) replica ids."""
        if self._changes_nothing(node, report):
            if report.runtime_status:
                self.record_runtime_status(node, report.runtime_status)
            return [st.replica_id for st in report.replicas], []
        accepted, dropped, changed = [], [], set()
        removed: list[str] = []
        with self.store.transaction():
            for st in report.replicas:
                r = self.store.get_replica(st.replica_id)
                if not lifecycle.accepts(r, node, st):
                    dropped.append(st.replica_id)
                    if r is not None and lifecycle.is_foreign_claim(r, node, st.incarnation):
                        self.events.emit("Node", node, WARNING, "ForeignReport",
                                         f"node {node} reported replica {r.id} incarnation {st.incarnation}, which is "
                                         f"{'bound to node ' + r.node if r.node else 'not bound to any node'} at "
                                         f"incarnation {r.incarnation}; report refused")
                    continue
                accepted.append(r.id)
                if lifecycle.accept_report(self.store, self.events, self.failures, r, node, st, now_ms):
                    changed.add(r.workload)
            terminating = [r for r in self.store.list_replicas(node=node) if lifecycle.is_terminating(r)]
            gone = lifecycle.confirm_gone(self.store, self.events, node, report.revision,
                                          {st.replica_id for st in report.replicas}, terminating)
            changed |= {r.workload for r in terminating if r.id in gone}
            if report.volumes_listed:
                removed = volumes.confirm_removed(self.store, self.events, node, report.revision, set(report.volumes))
        if report.runtime_status:
            self.record_runtime_status(node, report.runtime_status)
        if changed or (report.volumes_listed and removed):
            self.on_change(changed)
        return accepted, dropped

    def _changes_nothing(self, node: str, report: agent_pb2.StatusReport) -> bool:
        """The report would write nothing (read without copies, a transaction or, for each replica, the
        store's lock: Store.glance; a report misjudged so is judged again 10 s later): each replica it names
        is bound here at that incarnation and reported as stored, none of the node's replicas is
        Terminating (the report may show one gone) and none of its volumes is being deleted. Agents
        repeat their full report every 10 s: at 1,000 nodes and 10,000 replicas, each taking the
        store's lock for a transaction held up the controllers behind it."""
        for st in report.replicas:
            r = self.store.glance(ReplicaRecord, st.replica_id)
            if not lifecycle.accepts(r, node, st) or lifecycle.is_terminating(r) or \
                    not lifecycle.reported_as_stored(r, st):
                return False
        if any(lifecycle.is_terminating(r) for r in self.store.view_replicas(node=node)):
            return False
        return not (report.volumes_listed and
                    any(v.state == VOLUME_DELETING for v in self.store.view(VolumeRecord, node=node)))

    def record_usage(self, node: str, report: agent_pb2.UsageReport) -> int:
        """Keep node and per-replica usage (in memory: orchestra.server.usage_book); per-replica samples
        count only for replicas bound to `node`. Returns how many replica samples were kept. Records are
        read with Store.glance: a sample is a hint, and hub threads must not queue on the store's lock
        for one."""
        if self.store.glance(NodeRecord, node) is None:
            return 0
        bound = []
        for ru in report.replicas:
            r = self.store.glance(ReplicaRecord, ru.replica_id)
            if r is not None and r.node == node:
                bound.append((r, ru.usage))
        self.usage.record(node, report.node if report.HasField("node") else None, bound)
        return len(bound)


def image_set(inventory: agent_pb2.ImageInventory) -> list[str]:
    return sorted({canonical_image(i) for i in inventory.images if i})
