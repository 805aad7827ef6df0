"""The user-facing operations of the plane (what orchestra.proto's Orchestra service offers):
apply, delete, reading, rollouts, events and logs. The servicer only translates to these.

Writing operations commit their change, then ask the plane to `settle` (run the controllers
once, at once) so that their answer already says where new replicas went.
"""
from __future__ import annotations

import queue
import re
from typing import Callable, Iterator

from orchestra.api import orchestra_pb2, types_pb2
from orchestra.phase import Phase
from orchestra.scheduler import schedule
from orchestra.security.policy import SecurityPolicy, check_workload
from orchestra.security.secret_box import SecretBox, SecretUnreadable
from orchestra.server import (apply_plan, config_plan, configs, exec_relay, image_relay, lifecycle, messages,
                              service_plan, volumes)
from orchestra.server.agent_hub import AgentHub
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.controllers.scheduler import build_view
from orchestra.server.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.sessions import LogEnd
from orchestra.spec import codec
from orchestra.spec.configs import Config, Secret
from orchestra.spec.errors import ManifestError
from orchestra.spec.model import Workload
from orchestra.spec.service import Service
from orchestra.store.base import Store
from orchestra.store.records import (VOLUME_BOUND, ConfigRecord, NodeRecord, ReplicaRecord, SecretRecord,
                                     ServiceRecord, VolumeRecord, WorkloadRecord)

EVENTS_IN_DESCRIBE = 50
DELETABLE = ("Service", "Config", "Secret", "Volume", "Node")   # kinds `delete` takes besides workloads
# RecordEvent: the kinds an outside controller may put events on, and the shape of what it says.
EVENT_KINDS = ("Replica", "Workload", "Node", "Pool")
EVENT_REASON = re.compile(r"[A-Z][A-Za-z0-9]{0,63}")
EVENT_MESSAGE_MAX = 1024
EVENT_OBJECT = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class Counts:
    """What `get workloads` counts of a workload's replicas (Terminating ones count as nothing)."""

    def __init__(self, w: WorkloadRecord, desired: int, replicas: list[ReplicaRecord], now_ms: int,
                 min_ready_ms: int):
        live = [r for r in replicas if not lifecycle.is_terminating(r)]
        self.desired = desired
        self.succeeded = sum(1 for r in live if r.phase == Phase.SUCCEEDED)
        self.failed = sum(1 for r in live if r.job and r.phase == Phase.FAILED and r.exit_code) + \
            sum(r.restarts for r in live if r.job)
        self.running = sum(1 for r in live if r.phase == Phase.RUNNING)
        self.pending = sum(1 for r in live if r.phase == Phase.PENDING)
        self.ready = sum(1 for r in live if r.ready)
        self.up_to_date = sum(1 for r in live if r.revision == w.revision)
        self.old = len(live) - self.up_to_date
        self.available = sum(1 for r in live if lifecycle.is_available(r, now_ms, min_ready_ms))


def parse_documents(texts: list[str]) -> list:
    """All-or-nothing validation of an Apply request: every document, names unique per kind."""
    if not texts:
        raise InvalidArgument("the request holds no document")
    docs, seen = [], {}
    problems = []
    for i, text in enumerate(texts, start=1):
        try:
            doc = codec.from_json(text, f"request document {i}", i)
        except ManifestError as exc:
            problems.append(str(exc))
            continue
        key = (doc.KIND, doc.name)
        if key in seen:
            problems.append(f"request documents {seen[key]} and {i} both define {doc.KIND.lower()} {doc.name!r}")
            continue
        seen[key] = i
        docs.append(doc)
    if problems:
        raise InvalidArgument("\n".join(problems))
    return docs


class UserService:
    def __init__(self, store: Store, events: EventLog, catalog: WorkloadCatalog, failures: FailureCounter,
                 hub: AgentHub, clock_ms: Callable[[], int], default_strategy: str,
                 settle: Callable[[list[str]], None], stopping: Callable[[], bool],
                 secret_box: SecretBox | None = None):
        self.store = store
        self.secret_box = secret_box or SecretBox.ephemeral()
        self.events = events
        self.catalog = catalog
        self.failures = failures
        self.hub = hub
        self._replica_messages = messages.ReplicaMessages()
        self._node_messages = messages.NodeMessages()
        self.clock_ms = clock_ms
        self.default_strategy = default_strategy
        self.settle = settle
        self.stopping = stopping
        self.security_policy = SecurityPolicy()   # the server command sets the operator's policy

    # -- apply --------------------------------------------------------------------------------
    def apply(self, documents: list[str], dry_run: bool = False) -> orchestra_pb2.ApplyResponse:
        docs = parse_documents(list(documents))
        workloads = [d for d in docs if isinstance(d, Workload)]
        objects = [d for d in docs if isinstance(d, (Config, Secret))]
        for w in workloads:   # container security policy (orchestra.security.policy)
            refused = check_workload(w, self.security_policy)
            if refused:
                raise InvalidArgument(refused)
        services = [d for d in docs if isinstance(d, Service)]
        now = self.clock_ms()
        if dry_run:
            cfg, p = self._plan_apply(workloads, objects, now)
            svc = self._plan_services(services, workloads, now)
            return self._with_services(self._dry_run_response(p, now, cfg.changes), svc)
        with self.store.transaction():   # planned and committed on one state
            cfg, p = self._plan_apply(workloads, objects, now)
            svc = self._plan_services(services, workloads, now)
            config_plan.commit(self.store, self.events, cfg)
            apply_plan.commit(self.store, self.events, p, now)
            service_plan.commit(self.store, self.events, svc)
        if any(c.action != "unchanged" for c in [*cfg.changes, *p.changes, *svc]):
            self.settle([c.workload.name for c in p.changes])
        return self._with_services(self._response(p, cfg.changes), svc)

    def _plan_services(self, services: list[Service], workloads: list[Workload],
                       now: int) -> list[service_plan.ServiceChange]:
        if not services:
            return []
        try:
            return service_plan.plan(service_plan.State.read(self.store, self.catalog), services, workloads, now)
        except service_plan.ServicesRefused as exc:
            raise InvalidArgument(str(exc)) from exc

    @staticmethod
    def _with_services(response: orchestra_pb2.ApplyResponse,
                       changes: list[service_plan.ServiceChange]) -> orchestra_pb2.ApplyResponse:
        for r in response.results:
            r.kind = r.kind or "Workload"
        for c in changes:
            response.results.add(workload=c.service.name, kind="Service", action=c.action,
                                 generation=c.record.generation, virtual_address=c.record.virtual_address)
        return response

    def _plan_apply(self, workloads: list[Workload], objects: list, now: int
                    ) -> tuple[config_plan.ConfigPlan, apply_plan.ApplyPlan]:
        """The configs and secrets of the apply, then its workloads and every stored workload whose
        config or secret changed (a new revision each), all checked against what will be stored."""
        try:
            state = config_plan.State.read(self.store, self.catalog, bool(objects))
            cfg = config_plan.plan(state, self.secret_box, objects, workloads, now)
        except config_plan.ConfigsRefused as exc:
            raise InvalidArgument(str(exc)) from exc
        except SecretUnreadable as exc:
            raise FailedPrecondition(str(exc)) from exc
        return cfg, self._plan(workloads + cfg.rolled, now, cfg.refs, cfg.causes)

    def _plan(self, workloads: list[Workload], now: int, refs: dict | None = None,
              causes: dict | None = None) -> apply_plan.ApplyPlan:
        names = [w.name for w in workloads]
        try:
            return apply_plan.plan(apply_plan.read_current(self.store, self.catalog, names), workloads, now, refs,
                                   causes)
        except apply_plan.PlanRefused as exc:
            raise FailedPrecondition(str(exc)) from exc

    def _result(self, c: apply_plan.WorkloadChange) -> orchestra_pb2.ApplyResult:
        return orchestra_pb2.ApplyResult(
            workload=c.workload.name, action=c.action, generation=c.record.generation, revision=c.record.revision,
            new_revision=c.revision is not None, removed_replicas=[rid for rid, _ in c.retire],
            replaced_replicas=c.replaced, rollout=c.rollout, kind="Workload", cause=c.cause)

    @staticmethod
    def _object_results(response: orchestra_pb2.ApplyResponse, changes: list[config_plan.ObjectChange]) -> None:
        for c in changes:
            response.results.add(workload=c.name, action=c.action, kind=c.kind, revision=c.record.version,
                                 new_revision=c.new_version)

    def _response(self, p: apply_plan.ApplyPlan, changes: list[config_plan.ObjectChange] = ()
                  ) -> orchestra_pb2.ApplyResponse:
        response = orchestra_pb2.ApplyResponse(dry_run=False)
        self._object_results(response, changes)
        for c in p.changes:
            res = response.results.add()
            res.CopyFrom(self._result(c))
            for new in c.create:
                r = self.store.get_replica(new.id)
                if r is None:
                    continue
                pp = res.placements.add(replica=r.id, node=r.node, explanation=r.placement.get("summary", r.reason))
                messages.json_format.ParseDict(r.placement, pp.detail, ignore_unknown_fields=True)
        return response

    def _dry_run_response(self, p: apply_plan.ApplyPlan, now: int, changes: list[config_plan.ObjectChange] = ()
                          ) -> orchestra_pb2.ApplyResponse:
        extra = [(r, c.workload) for c in p.changes for r in c.create]
        view = build_view(self.store, self.catalog, self.failures, now, self.default_strategy, self.hub.connected,
                          extra)
        ids = {r.id for r, _ in extra}
        result = schedule(view.snapshot, [x for x in view.pending if x.replica_id in ids]) if ids else None
        response = orchestra_pb2.ApplyResponse(dry_run=True)
        self._object_results(response, changes)
        for c in p.changes:
            res = response.results.add()
            res.CopyFrom(self._result(c))
            for r in c.create:
                line = result.explanations.get(r.id, "") if result else ""
                pp = res.placements.add(replica=r.id, node=result.placements.get(r.id, "") if result else "",
                                        explanation=line)
                detail = result.details.get(r.id) if result else None
                if detail is not None:
                    pp.detail.CopyFrom(messages.placement_pb(detail, line, now))
        return response

    # -- delete -------------------------------------------------------------------------------
    def delete(self, names: list[str], objects: list[tuple[str, str]] = (),
               with_volumes: bool = False) -> orchestra_pb2.DeleteResponse:
        """Marks the workloads deleted and retires their replicas; a workload record goes once its
        agents confirm every container is gone (`get workloads` shows it as deleting until then).
        Their volumes stay unless `with_volumes`. `objects`: (kind, name) of services, configs, secrets
        and volumes; a Service goes at once (its routes leave every node with the next Endpoints
        revision). Everything is checked first: when anything is refused, nothing is deleted."""
        objects = list(objects)
        if not names and not objects:
            raise InvalidArgument("nothing to delete: name a workload, service, config, secret or volume")
        for kind, _ in objects:
            if kind not in DELETABLE:
                raise InvalidArgument(f"cannot delete objects of kind {kind!r} (known: Workload, {', '.join(DELETABLE)})")
        response = orchestra_pb2.DeleteResponse()
        now = self.clock_ms()
        with self.store.transaction():
            self._refuse_deletes(names, objects)
            for name in names:
                rec = self.store.get_workload(name)
                held = self.store.list(VolumeRecord, workload=name) if with_volumes else []
                if rec is None and not held:
                    response.not_found.append(name)
                    continue
                if rec is not None:
                    response.deleted.append(name)
                    self._delete_workload(rec, now)
                if held:
                    why = f"workload {name} deleted with --volumes"
                    for vname in volumes.mark_deleting(self.store, self.events, held, why, now):
                        response.deleted_objects.add(kind="Volume", name=vname)
            for kind, name in objects:
                if self._delete_object(kind, name, now):
                    response.deleted_objects.add(kind=kind, name=name)
                else:
                    response.not_found_objects.add(kind=kind, name=name)
        if response.deleted or response.deleted_objects:
            self.settle(list(response.deleted))
        return response

    def _refuse_deletes(self, names: list[str], objects: list[tuple[str, str]]) -> None:
        going = set(names)
        live = [(w.name, self.catalog.workload(w)) for w in self.store.list_workloads()
                if not w.deleting and w.name not in going]
        for kind, name in objects:
            if kind in configs.KINDS:
                users = configs.users(live, kind, name)
                if users:
                    raise FailedPrecondition(f"{kind.lower()} {name} is used by workload {', '.join(users)}: delete "
                                             f"them or change their templates first (or delete them in the same "
                                             f"command)")
            elif kind == "Node":
                self._refuse_node_delete(name)
            elif kind == "Volume":
                v = self.store.get(VolumeRecord, name)
                r = self.store.get_replica(v.replica) if v is not None and v.state == VOLUME_BOUND else None
                if r is not None and r.node and r.workload not in going and not lifecycle.is_terminating(r):
                    raise FailedPrecondition(f"volume {name} holds the data of {r.id}, which is {r.phase} on "
                                             f"{r.node}: delete or scale down workload {r.workload} first")

    def _refuse_node_delete(self, name: str) -> None:
        """A node leaves the plane's records only once nothing of it is left: no agent connected (it would
        register again at once) and no replica bound to it (drain it, or let the plane reschedule them)."""
        if self.store.get_node(name) is None:
            return
        if self.hub.sessions.get(name) is not None:
            raise FailedPrecondition(f"node {name} is connected: stop its agent (or its VM) first; to move its "
                                     f"replicas away first, `orchestra drain {name}`")
        bound = [r.id for r in self.store.list_replicas(node=name)]
        if bound:
            raise FailedPrecondition(f"node {name} still holds {', '.join(sorted(bound))}: wait until the plane "
                                     f"has rescheduled them (it does once the node is NotReady past its grace)")

    def _delete_workload(self, rec: WorkloadRecord, now: int) -> None:
        name = rec.name
        if rec.deleting:
            return
        rec.deleting = True
        rec.updated_at_ms = now
        self.store.put_workload(rec)
        self.events.emit("Workload", name, NORMAL, "Deleting", f"workload {name} deleted; stopping its replicas")
        for r in self.store.list_replicas(workload=name):
            lifecycle.retire(self.store, self.events, r, "its workload was deleted", now)
        if not self.store.list_replicas(workload=name):
            self.store.delete_workload(name)
            self.events.emit("Workload", name, NORMAL, "Deleted", f"workload {name} deleted")

    def _delete_object(self, kind: str, name: str, now: int) -> bool:
        if kind == "Volume":
            v = self.store.get(VolumeRecord, name)
            if v is None:
                return False
            volumes.mark_deleting(self.store, self.events, [v], "deleted", now)
            return True
        if kind == "Node":
            if not self.store.delete_node(name):
                return False
            self.hub.usage.forget(name)
            self.events.emit("Node", name, NORMAL, "NodeRemoved", f"node {name} removed from the cluster")
            return True
        cls = {"Service": ServiceRecord, "Config": ConfigRecord, "Secret": SecretRecord}[kind]
        if not self.store.delete(cls, name):
            return False
        self.events.emit(kind, name, NORMAL, "Deleted", f"{kind.lower()} {name} deleted")
        return True

    # -- services -----------------------------------------------------------------------------
    def _service_infos(self, only: str = "") -> list[orchestra_pb2.ServiceInfo]:
        from orchestra.server.controllers.endpoints import Snapshot, endpoints_of, ports_pb
        snap = Snapshot.read(self.store, self.catalog)
        out = []
        for rec, s in snap.services:
            if only and rec.name != only:
                continue
            out.append(orchestra_pb2.ServiceInfo(
                name=rec.name, service_json=rec.spec_json, virtual_address=rec.virtual_address, ports=ports_pb(s),
                endpoints=endpoints_of(s, snap.workloads, snap.replicas, snap.nodes),
                workloads=service_plan.selected(s, snap.workloads), generation=rec.generation,
                created_at_ms=rec.created_at_ms, updated_at_ms=rec.updated_at_ms,
                endpoints_revision=self.endpoints_revision()))
        return out

    def endpoints_revision(self) -> int:
        from orchestra.store.records import EndpointsRecord
        rec = self.store.get(EndpointsRecord, "cluster")
        return rec.revision if rec else 0

    def list_services(self) -> orchestra_pb2.ListServicesResponse:
        return orchestra_pb2.ListServicesResponse(services=self._service_infos())

    def describe_service(self, name: str) -> orchestra_pb2.ServiceDescription:
        found = self._service_infos(only=name)
        if not found:
            raise NotFound(f"service {name!r} not found")
        return orchestra_pb2.ServiceDescription(service=found[0], events=self._events_for([name]))

    # -- reading ------------------------------------------------------------------------------
    def _counts(self, rec: WorkloadRecord, replicas: list[ReplicaRecord], now: int) -> Counts:
        w = self.catalog.workload(rec)
        desired = {"daemon": rec.daemon_nodes, "job": w.spec.job.completions}.get(w.spec.mode, w.spec.replicas)
        return Counts(rec, desired, replicas, now, w.spec.update.min_ready_seconds * 1000)

    def _workload_info(self, rec: WorkloadRecord, replicas: list[ReplicaRecord] | None = None,
                       now: int | None = None) -> orchestra_pb2.WorkloadInfo:
        if replicas is None:
            replicas = self.store.list_replicas(workload=rec.name)
        info = messages.workload_info_pb(rec, self._counts(rec, replicas, now or self.clock_ms()))
        info.mode = self.catalog.workload(rec).spec.mode
        return info

    def _node_pb(self, n: NodeRecord, bound) -> types_pb2.Node:
        """A node as users see it: its usage and when it was last heard of are the hub's (memory)."""
        return messages.node_pb(n, bound, self.hub.usage.of_node(n.name), self.hub.liveness.last_heard(n.name))

    def _add_replicas(self, into, replicas: list[ReplicaRecord]) -> None:
        """Replicas as users see them, added to `into` (a repeated field): their usage is the hub's (memory)."""
        memo = self._replica_messages
        if len(memo) > 2 * self.store.count(ReplicaRecord) + 100:    # replicas that are gone, forgotten
            memo.keep_only({x.id for x in self.store.view_replicas()})
        for r, usage in zip(replicas, self.hub.usage.of_replicas(replicas)):
            memo.add_to(into, r, usage)

    def list_workloads(self) -> orchestra_pb2.ListWorkloadsResponse:
        now = self.clock_ms()
        by_workload: dict[str, list[ReplicaRecord]] = {}
        for r in self.store.list_replicas():
            by_workload.setdefault(r.workload, []).append(r)
        return orchestra_pb2.ListWorkloadsResponse(workloads=[
            self._workload_info(w, by_workload.get(w.name, []), now) for w in self.store.list_workloads()])

    def list_replicas(self, workload: str = "", node: str = "") -> orchestra_pb2.ListReplicasResponse:
        response = orchestra_pb2.ListReplicasResponse()
        self._add_replicas(response.replicas, self.store.view_replicas(workload=workload, node=node))
        return response

    def _live_workloads(self) -> list[tuple[str, Workload]]:
        return [(w.name, self.catalog.workload(w)) for w in self.store.list_workloads() if not w.deleting]

    def list_configs(self, name: str = "") -> orchestra_pb2.ListConfigsResponse:
        live = self._live_workloads()
        found = [c for c in self.store.list(ConfigRecord) if not name or c.name == name]
        return orchestra_pb2.ListConfigsResponse(
            configs=[messages.config_info_pb(c, configs.users(live, "Config", c.name)) for c in found])

    def list_secrets(self, name: str = "") -> orchestra_pb2.ListSecretsResponse:
        live = self._live_workloads()
        found = [c for c in self.store.list(SecretRecord) if not name or c.name == name]
        return orchestra_pb2.ListSecretsResponse(
            secrets=[messages.secret_info_pb(c, configs.users(live, "Secret", c.name)) for c in found])

    def list_volumes(self, workload: str = "", node: str = "") -> orchestra_pb2.ListVolumesResponse:
        where = {k: v for k, v in (("workload", workload), ("node", node)) if v}
        found = sorted(self.store.list(VolumeRecord, **where), key=lambda v: (v.workload, v.index, v.volume, v.claim))
        return orchestra_pb2.ListVolumesResponse(volumes=[messages.volume_info_pb(v) for v in found])

    def move_replica(self, replica: str) -> orchestra_pb2.MoveReplicaResponse:
        """Let a pending replica held by its volume data start elsewhere, with new empty volumes;
        the old volumes and their data stay on their node (Released)."""
        now = self.clock_ms()
        with self.store.transaction():
            r = self.store.get_replica(replica)
            if r is None:
                raise NotFound(f"replica {replica!r} not found")
            if lifecycle.is_terminating(r):
                raise FailedPrecondition(f"{r.id} is stopping on {r.node}; nothing to move")
            if r.node:
                raise FailedPrecondition(f"{r.id} is {r.phase} on {r.node}: move is for a pending replica whose "
                                         f"volume data is on a node it cannot go back to (e.g. a lost node)")
            released = volumes.release(self.store, self.events, r, now)
            if not released:
                raise FailedPrecondition(f"{r.id} has no volume data holding it to a node (it is pending: "
                                         f"{r.reason or 'waiting to be scheduled'})")
        self.settle([r.workload])
        after = self.store.get_replica(replica)
        return orchestra_pb2.MoveReplicaResponse(
            replica=replica, released=[messages.volume_info_pb(v) for v in released],
            node=after.node if after else "",
            explanation=(after.placement.get("summary", after.reason) if after else ""))

    def list_nodes(self) -> orchestra_pb2.ListNodesResponse:
        by_node: dict[str, list[ReplicaRecord]] = {}
        for r in self.store.view(ReplicaRecord):        # in no particular order: only sums are taken
            if r.node:
                by_node.setdefault(r.node, []).append(r)
        nodes = self.store.view_nodes()
        memo = self._node_messages
        if len(memo) > len(nodes) + 100:        # nodes that are gone, forgotten
            memo.keep_only({n.name for n in nodes})
        response = orchestra_pb2.ListNodesResponse()
        usage, liveness = self.hub.usage, self.hub.liveness
        for n in nodes:
            memo.add_to(response.nodes, n, messages.allocated(by_node.get(n.name, ())), usage.of_node(n.name),
                        liveness.last_heard(n.name))
        return response

    def _events_for(self, objects: list[str]) -> list[types_pb2.Event]:
        found = []
        for obj in objects:
            found.extend(self.store.list_events(obj=obj))
        found.sort(key=lambda e: e.id)
        return [messages.event_pb(e) for e in found[-EVENTS_IN_DESCRIBE:]]

    def _workload(self, name: str) -> WorkloadRecord:
        rec = self.store.get_workload(name)
        if rec is None:
            raise NotFound(f"workload {name!r} not found")
        return rec

    def describe_workload(self, name: str) -> orchestra_pb2.WorkloadDescription:
        rec = self._workload(name)
        replicas = self.store.list_replicas(workload=name)
        response = orchestra_pb2.WorkloadDescription(
            workload=self._workload_info(rec, replicas), events=self._events_for([name] + [r.id for r in replicas]))
        self._add_replicas(response.replicas, replicas)
        return response

    def describe_node(self, name: str) -> orchestra_pb2.NodeDescription:
        n = self.store.get_node(name)
        if n is None:
            raise NotFound(f"node {name!r} not found")
        replicas = self.store.list_replicas(node=name)
        response = orchestra_pb2.NodeDescription(node=self._node_pb(n, replicas), events=self._events_for([name]))
        self._add_replicas(response.replicas, replicas)
        return response

    def set_schedulable(self, name: str, schedulable: bool) -> types_pb2.Node:
        with self.store.transaction():
            n = self.store.get_node(name)
            if n is None:
                raise NotFound(f"node {name!r} not found")
            if n.schedulable != schedulable or (schedulable and n.draining):
                n.schedulable = schedulable
                if schedulable:             # uncordon ends a drain too
                    n.draining = n.drain_daemons = False
                self.store.put_node(n)
                self.events.emit("Node", name, NORMAL, "Uncordoned" if schedulable else "Cordoned",
                                 f"node {name} {'accepts' if schedulable else 'no longer accepts'} new replicas")
        self.settle([])
        return self._node_pb(n, self.store.list_replicas(node=name))

    def drain_node(self, name: str, include_daemons: bool) -> types_pb2.Node:
        """Cordon the node and move its replicas elsewhere, each workload within its update budget
        (a replacement is Ready before the replica it replaces stops). Daemon replicas stay unless
        `include_daemons` (they are stopped then: a daemon runs one per node). Uncordon ends it."""
        with self.store.transaction():
            n = self.store.get_node(name)
            if n is None:
                raise NotFound(f"node {name!r} not found")
            if not n.draining or n.drain_daemons != include_daemons or n.schedulable:
                n.schedulable, n.draining, n.drain_daemons = False, True, include_daemons
                self.store.put_node(n)
                self.events.emit("Node", name, NORMAL, "Draining",
                                 f"node {name} cordoned; its replicas move to other nodes within their update budgets"
                                 + ("; its daemon replicas stop" if include_daemons else ""))
        self.settle([r.workload for r in self.store.list_replicas(node=name)])
        return self._node_pb(n, self.store.list_replicas(node=name))

    # -- rollouts -----------------------------------------------------------------------------
    def get_rollout(self, name: str) -> orchestra_pb2.RolloutStatus:
        rec = self._workload(name)
        return messages.rollout_pb(rec, self._counts(rec, self.store.list_replicas(workload=name), self.clock_ms()))

    def list_revisions(self, name: str) -> orchestra_pb2.ListRevisionsResponse:
        rec = self._workload(name)
        return orchestra_pb2.ListRevisionsResponse(
            revisions=[messages.revision_pb(r) for r in self.store.list_revisions(name)], current=rec.revision)

    def undo_rollout(self, name: str, to_revision: int) -> orchestra_pb2.ApplyResult:
        """Apply an older revision's template again, as a new revision."""
        now = self.clock_ms()
        with self.store.transaction():
            rec = self._workload(name)
            known = self.store.list_revisions(name)
            if to_revision:
                target = next((r for r in known if r.number == to_revision), None)
                if target is None:
                    raise NotFound(f"workload {name} has no revision {to_revision} (known: "
                                   f"{', '.join(str(r.number) for r in known) or 'none'})")
            else:
                older = [r for r in known if r.number < rec.revision]
                if not older:
                    raise FailedPrecondition(f"workload {name} has no revision before {rec.revision} to go back to")
                target = older[-1]
            if target.number == rec.revision:
                raise FailedPrecondition(f"revision {target.number} is already the current revision of {name}")
            current = self.catalog.workload(rec)
            w = codec.with_revision_part(current, codec.revision_part(self.catalog.revision(target)))
            # The old revision's configs and secrets come back with its template.
            p = self._plan([w], now, {name: target.refs})
            [c] = p.changes
            if c.revision is not None:
                c.revision.origin = f"undo to {target.number}"
                c.revision.change = f"undo to revision {target.number}: {c.revision.change}"
            apply_plan.commit(self.store, self.events, p, now)
        self.settle([name])
        return self._response(p).results[0]

    def pause_rollout(self, name: str, paused: bool) -> orchestra_pb2.RolloutStatus:
        with self.store.transaction():
            rec = self._workload(name)
            if rec.paused != paused:
                rec.paused = paused
                self.store.put_workload(rec)
                self.events.emit("Workload", name, NORMAL, "RolloutPaused" if paused else "RolloutResumed",
                                 f"rollout of {name} {'paused' if paused else 'resumed'} at revision {rec.revision}")
        self.settle([name])
        return self.get_rollout(name)

    # -- watching -----------------------------------------------------------------------------
    def record_event(self, kind: str, obj: str, type_: str, reason: str, message: str) -> types_pb2.Event:
        """An event said by a controller outside the plane, on an object the plane knows (or a Pool)."""
        if kind not in EVENT_KINDS:
            raise InvalidArgument(f"event kind {kind!r}: expected one of {', '.join(EVENT_KINDS)}")
        if type_ not in (NORMAL, WARNING):
            raise InvalidArgument(f"event type {type_!r}: expected {NORMAL} or {WARNING}")
        if not EVENT_REASON.fullmatch(reason):
            raise InvalidArgument(f"event reason {reason!r}: expected CamelCase letters and digits, at most 64")
        if not message.strip() or len(message) > EVENT_MESSAGE_MAX:
            raise InvalidArgument(f"event message: expected 1 to {EVENT_MESSAGE_MAX} characters, got {len(message)}")
        exists = {"Replica": self.store.get_replica, "Workload": self.store.get_workload,
                  "Node": self.store.get_node}.get(kind)
        if exists is not None and exists(obj) is None:
            raise NotFound(f"{kind.lower()} {obj!r} not found")
        if kind == "Pool" and not EVENT_OBJECT.fullmatch(obj):
            raise InvalidArgument(f"pool name {obj!r}: expected lower-case letters, digits and dashes")
        now = self.clock_ms()
        event_id = self.events.emit(kind, obj, type_, reason, message)
        return types_pb2.Event(id=event_id, time_ms=now, kind=kind, object=obj, type=type_, reason=reason,
                               message=message)

    def list_events(self, obj: str, limit: int) -> orchestra_pb2.ListEventsResponse:
        found, last_id = self.events.history(obj, limit)
        return orchestra_pb2.ListEventsResponse(events=[messages.event_pb(e) for e in found], last_id=last_id)

    def watch_events(self, after_id: int, obj: str, is_active: Callable[[], bool]) -> Iterator[types_pb2.Event]:
        last = after_id if after_id > 0 else self.store.last_event_id()
        while is_active() and not self.stopping():
            found = self.store.list_events(after_id=last, obj=obj, limit=500)
            for e in found:
                last = e.id
                yield messages.event_pb(e)
            if not found:
                self.events.wait(0.5)
        if self.stopping():
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
            session = self.hub.sessions.get(r.node)
            if session is None:
                raise Unavailable(f"node {r.node} (of replica {r.id}) has no open session with the plane")
            targets.append((session, r))
        if not targets:
            raise FailedPrecondition(f"no replica of workload {workload!r} is on a node")
        sink: queue.Queue = queue.Queue()
        open_ids = {self.hub.logs.open(s, r.id, follow, tail, sink): r.id for s, r in targets}
        remaining, errors = set(open_ids), []
        try:
            while remaining:
                try:
                    item = sink.get(timeout=0.5)
                except queue.Empty:
                    if self.stopping():
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
                self.hub.logs.cancel(request_id)

    # -- exec -----------------------------------------------------------------------------------
    def exec(self, requests: Iterator[orchestra_pb2.ExecRequest],
             is_active: Callable[[], bool]) -> Iterator[orchestra_pb2.ExecResponse]:
        """Orchestra.Exec: a command in a Running replica's container, relayed over its node's
        session (orchestra/server/exec_relay.py)."""
        first = next(requests, None)
        if first is None or first.WhichOneof("msg") != "command":
            raise InvalidArgument("the first ExecRequest must be `command`: the replica and the command to run")
        cmd = first.command
        if not cmd.replica:
            raise InvalidArgument("name the replica to run the command in, e.g. web-0")
        if not cmd.command or not cmd.command[0]:
            raise InvalidArgument(f"name the command to run in replica {cmd.replica}, e.g. sh")
        r = self.store.get_replica(cmd.replica)
        if r is None:
            raise NotFound(f"replica {cmd.replica!r} not found")
        if r.phase != Phase.RUNNING or not r.node:
            raise FailedPrecondition(f"replica {r.id} is not running ({r.phase}{': ' + r.reason if r.reason else ''})")
        session = self.hub.sessions.get(r.node)
        if session is None:
            raise FailedPrecondition(f"node {r.node} of replica {r.id} has no open session with the plane")
        channel = self.hub.execs.open(session, r.id, r.incarnation, cmd)
        yield from exec_relay.relay(channel, requests, is_active, self.stopping)

    def load_image(self, requests: Iterator[orchestra_pb2.ImageLoadRequest],
                   is_active: Callable[[], bool]) -> orchestra_pb2.ImageLoadResponse:
        """Orchestra.LoadImage: an image archive to nodes over their own sessions
        (orchestra/server/image_relay.py); a node that is not connected is reported and skipped."""
        start = image_relay.check_start(next(requests, None))
        nodes = {n.name: n for n in self.store.list_nodes()}
        targets = image_relay.targets(start, list(nodes))
        if not targets:
            raise FailedPrecondition("the cluster has no nodes to load the image into")
        return image_relay.load(self.hub.images, self.hub.sessions, targets, lambda n: nodes[n].status, start,
                                requests, is_active, self.stopping)

    def list_images(self) -> orchestra_pb2.ListImagesResponse:
        return orchestra_pb2.ListImagesResponse(nodes=[
            orchestra_pb2.NodeImages(node=n.name, status=n.status, reported=n.images_reported, images=n.images)
            for n in self.store.list_nodes()])
