"""The plane's Prometheus metrics (`orchestra server --metrics-listen HOST:PORT`).

Two kinds, each with one home:
- What happened (counters, histograms): counted where it happens, by one call from the module
  that makes it happen: `reported` (lifecycle.accept_report: restarts, a lost replica running
  again), `lost` / `forget` (lifecycle.lose / remove), `scheduled` (the scheduler controller's
  pass), and the API interceptor `ApiMetrics` (user API calls by method and status code). They
  live in the module's registry EVENTS, shared by every plane of the process.
- What is (gauges): read from the plane's store and sessions at scrape time by `PlaneCollector`,
  so that they can never drift from what `orchestra get` shows, and cost nothing between scrapes.

Names follow Prometheus' conventions: an `orchestra_` prefix, base units (seconds, bytes, CPU
cores), `_total` counters, and labels with bounded values only (node, workload, phase, state,
method, code, result; never a replica or container id).
"""
from __future__ import annotations

import platform
import threading
import time
from typing import TYPE_CHECKING

import grpc
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from orchestra.phase import Phase
from orchestra.store.records import NOT_READY, READY

if TYPE_CHECKING:
    from orchestra.api import agent_pb2
    from orchestra.scheduler import ScheduleResult
    from orchestra.server.plane import Plane
    from orchestra.store.records import ReplicaRecord

EVENTS = CollectorRegistry(auto_describe=True)

RESTARTS = Counter("orchestra_replica_restarts", "Container restarts of replicas, as their agents reported them",
                   ["workload"], registry=EVENTS)
SCHEDULING_ATTEMPTS = Counter(
    "orchestra_scheduling_attempts", "Attempts to place a pending replica, by result (scheduled: bound to a node; "
    "unschedulable: no node fits, the replica stays Pending with the reason)", ["result"], registry=EVENTS)
SCHEDULING_LATENCY = Histogram(
    "orchestra_scheduling_attempt_duration_seconds",
    "Time of a scheduling attempt: the pass that decided it (snapshot, placement of every pending replica, "
    "bindings written), counted once per replica it decided", ["result"], registry=EVENTS,
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
PREEMPTIONS = Counter("orchestra_preemptions", "Replicas evicted to make room for higher-priority ones",
                      registry=EVENTS)
REPLACEMENT = Histogram(
    "orchestra_node_loss_replacement_seconds",
    "From a replica lost with its node (NotReady) to that replica Running on another node", registry=EVENTS,
    buckets=(1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1800))
API_REQUESTS = Counter("orchestra_api_requests", "User API (orchestra.v1.Orchestra) calls by method and status code",
                       ["method", "code"], registry=EVENTS)
API_LATENCY = Histogram(
    "orchestra_api_request_duration_seconds", "Time to answer a unary user API call, by method", ["method"],
    registry=EVENTS, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))

SCHEDULED = "scheduled"
UNSCHEDULABLE = "unschedulable"
for _result in (SCHEDULED, UNSCHEDULABLE):   # both series exist from the start, at 0
    SCHEDULING_ATTEMPTS.labels(_result)
    SCHEDULING_LATENCY.labels(_result)

# replica id -> when it was lost with its node (plane clock). In memory: a plane restart forgets
# the replicas lost before it, which only leaves those out of the histogram.
_lost_at: dict[str, int] = {}
_lost_lock = threading.Lock()


# -- what happened: one call each from where it happens ------------------------------------------

def reported(r: "ReplicaRecord", st: "agent_pb2.ReplicaStatus", now_ms: int) -> None:
    """An accepted status about `r`, before the record takes it in: restarts that grew, and a replica
    lost with its node that runs again."""
    if st.restarts > r.restarts:
        RESTARTS.labels(r.workload).inc(st.restarts - r.restarts)
    if st.phase == Phase.RUNNING and r.phase != Phase.RUNNING:
        with _lost_lock:
            lost_ms = _lost_at.pop(r.id, None)
        if lost_ms is not None:
            REPLACEMENT.observe(max(0, now_ms - lost_ms) / 1000)


def lost(replica_id: str, now_ms: int) -> None:
    with _lost_lock:
        _lost_at.setdefault(replica_id, now_ms)   # lost again before it ran: the first loss counts


def forget(replica_id: str) -> None:
    with _lost_lock:
        _lost_at.pop(replica_id, None)


def scheduled(result: "ScheduleResult", pending: int, seconds: float) -> None:
    """One scheduling pass over `pending` replicas decided `result` in `seconds`."""
    placed = len(result.placements)
    for label, count in ((SCHEDULED, placed), (UNSCHEDULABLE, pending - placed)):
        if count > 0:
            SCHEDULING_ATTEMPTS.labels(label).inc(count)
            latency = SCHEDULING_LATENCY.labels(label)
            for _ in range(count):
                latency.observe(seconds)
    if result.preemptions:
        PREEMPTIONS.inc(len(result.preemptions))


USER_SERVICE = "/orchestra.v1.Orchestra/"


class ApiMetrics(grpc.ServerInterceptor):
    """Counts every user API call by method and status code, and times the unary ones (a stream's
    length is the caller's choice, not the plane's speed)."""

    def intercept_service(self, continuation, handler_call_details):
        handler = continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or not method.startswith(USER_SERVICE):
            return handler
        name = method[len(USER_SERVICE):]
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_counted(handler.unary_unary, name, timed=True))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_counted_stream(handler.unary_stream, name))
        if handler.stream_stream is not None:      # Exec: the request is a stream of them
            return handler._replace(stream_stream=_counted_stream(handler.stream_stream, name))
        return handler


def _code(context, failed: bool) -> str:
    code = context.code()
    if code is not None:
        return code.name
    if not context.is_active():
        return "CANCELLED"            # the client went away first, e.g. a watch it closed
    return "UNKNOWN" if failed else "OK"


def _counted(fn, name: str, timed: bool):
    def call(request, context):
        started = time.perf_counter()
        failed = True
        try:
            response = fn(request, context)
            failed = False
            return response
        finally:
            API_REQUESTS.labels(name, _code(context, failed)).inc()
            if timed:
                API_LATENCY.labels(name).observe(time.perf_counter() - started)
    return call


def _counted_stream(fn, name: str):
    def call(request, context):
        counted = threading.Lock()
        failed = True

        def count(code: str) -> None:
            if counted.acquire(blocking=False):
                API_REQUESTS.labels(name, code).inc()

        # A stream its client cancels may never be iterated again (the asyncio server drops it), so
        # its end is counted when the call ends, unless the stream ended first.
        context.add_callback(lambda: count("CANCELLED"))
        try:
            yield from fn(request, context)
            failed = False
        finally:
            count(_code(context, failed))
    return call


# -- what is: read at scrape time -------------------------------------------------------------------

NODE_STATES = (READY, NOT_READY)
ROLLOUT_STATES = ("Progressing", "Complete", "Paused", "Failed", "RolledBack")   # orchestra.server.rollout


def build_version() -> str:
    from importlib import metadata
    try:
        return metadata.version("orchestra")
    except metadata.PackageNotFoundError:
        return "unknown"


class PlaneCollector(Collector):
    """Gauges of one plane's state, read from its store at each scrape (three listings: nodes,
    workloads, replicas) and from its open agent sessions."""

    def __init__(self, plane: "Plane"):
        self.plane = plane
        self.version = build_version()

    def describe(self):
        return []    # families are only known by reading the store: do not read it on registration

    def collect(self):
        from orchestra.server.messages import node_pb
        from orchestra.server.service import Counts

        # A plane among several (orchestra.server.leadership) has state to show only while it leads.
        current = getattr(self.plane, "current_plane", None)
        plane = current() if current is not None else self.plane
        yield _family("orchestra_build_info", "The plane's version (always 1)", ["version", "python"],
                      [((self.version, platform.python_version()), 1)])
        yield _family("orchestra_plane_leader", "1 when this plane leads (runs the controllers, serves the API)", [],
                      [((), 0 if plane is None else 1)])
        if plane is None:
            return
        store = plane.store
        now = plane.clock_ms()
        nodes = store.list_nodes()
        workloads = store.list_workloads()
        replicas = store.list_replicas()
        by_node: dict[str, list] = {}
        by_workload: dict[str, list] = {}
        for r in replicas:
            by_workload.setdefault(r.workload, []).append(r)
            if r.node:
                by_node.setdefault(r.node, []).append(r)

        states = {s: 0 for s in NODE_STATES}
        for n in nodes:
            states[n.status] = states.get(n.status, 0) + 1
        yield _family("orchestra_nodes", "Nodes by state (Ready: its agent is heard from)", ["state"],
                      [((s,), c) for s, c in states.items()])
        yield _family("orchestra_nodes_unschedulable", "Nodes cordoned: they take no new replicas", [],
                      [((), sum(1 for n in nodes if not n.schedulable))])

        per_node = {name: [] for name in ("ready", "schedulable", "alloc_cpu", "alloc_mem", "used_cpu", "used_mem",
                                          "req_cpu", "req_mem", "replicas")}
        for n in nodes:
            msg = node_pb(n, by_node.get(n.name, []))
            key = (n.name,)
            per_node["ready"].append((key, 1 if n.status == READY else 0))
            per_node["schedulable"].append((key, 1 if n.schedulable else 0))
            per_node["alloc_cpu"].append((key, n.capacity.cpu_millis / 1000))
            per_node["alloc_mem"].append((key, n.capacity.memory_bytes))
            per_node["req_cpu"].append((key, msg.allocated.cpu_millis / 1000))
            per_node["req_mem"].append((key, msg.allocated.memory_bytes))
            per_node["replicas"].append((key, msg.replica_count))
            usage = plane.hub.usage.of_node(n.name)
            if usage.sampled_at_ms:
                per_node["used_cpu"].append((key, usage.cpu_percent / 100))
                per_node["used_mem"].append((key, usage.memory_used_bytes))
        node = ["node"]
        yield _family("orchestra_node_ready", "1 when the node is Ready", node, per_node["ready"])
        yield _family("orchestra_node_schedulable", "1 when the node takes new replicas (not cordoned)", node,
                      per_node["schedulable"])
        yield _family("orchestra_node_allocatable_cpu_cores", "CPU the node's agent advertises for replicas", node,
                      per_node["alloc_cpu"])
        yield _family("orchestra_node_allocatable_memory_bytes", "Memory the node's agent advertises for replicas",
                      node, per_node["alloc_mem"])
        yield _family("orchestra_node_allocated_cpu_cores", "CPU requested by the replicas bound to the node", node,
                      per_node["req_cpu"])
        yield _family("orchestra_node_allocated_memory_bytes", "Memory requested by the replicas bound to the node",
                      node, per_node["req_mem"])
        yield _family("orchestra_node_replicas", "Replicas bound to the node (Terminating ones included)", node,
                      per_node["replicas"])
        yield _family("orchestra_node_cpu_usage_ratio", "The node's CPU use as its agent last sampled it (1 = all "
                      "of its CPUs)", node, per_node["used_cpu"])
        yield _family("orchestra_node_memory_used_bytes", "The node's memory in use as its agent last sampled it",
                      node, per_node["used_mem"])

        phases = []
        wl: dict[str, list] = {k: [] for k in ("desired", "ready", "updated", "available", "revision", "state")}
        for rec in workloads:
            mine = by_workload.get(rec.name, [])
            count = {p.value: 0 for p in Phase}
            for r in mine:
                count[r.phase] = count.get(r.phase, 0) + 1
            phases.extend(((rec.name, p), c) for p, c in count.items())
            w = plane.catalog.workload(rec)
            c = Counts(rec, w.spec.replicas, mine, now, w.spec.update.min_ready_seconds * 1000)
            key = (rec.name,)
            wl["desired"].append((key, c.desired))
            wl["ready"].append((key, c.ready))
            wl["updated"].append((key, c.up_to_date))
            wl["available"].append((key, c.available))
            wl["revision"].append((key, rec.revision))
            wl["state"].extend(((rec.name, s), 1 if rec.rollout_state == s else 0) for s in ROLLOUT_STATES)
        yield _family("orchestra_replicas", "Replica records by workload and phase", ["workload", "phase"], phases)
        workload = ["workload"]
        yield _family("orchestra_workload_replicas_desired", "Replicas the workload's spec asks for", workload,
                      wl["desired"])
        yield _family("orchestra_workload_replicas_ready", "Ready replicas of the workload (not Terminating)",
                      workload, wl["ready"])
        yield _family("orchestra_workload_replicas_updated",
                      "Replicas of the workload's current revision (not Terminating): rollout progress is "
                      "updated / desired", workload, wl["updated"])
        yield _family("orchestra_workload_replicas_available", "Replicas ready for at least minReadySeconds",
                      workload, wl["available"])
        yield _family("orchestra_workload_revision", "The workload's current template revision", workload,
                      wl["revision"])
        yield _family("orchestra_workload_rollout_state", "1 for the state the workload's rollout is in",
                      ["workload", "state"], wl["state"])
        yield _family("orchestra_agent_sessions", "Agents connected to the plane now (one stream per node)", [],
                      [((), len(plane.hub.sessions.all()))])


def _family(name: str, documentation: str, labels: list[str], samples) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def registry_of(plane: "Plane") -> CollectorRegistry:
    """What `--metrics-listen` serves: the process's counters, this plane's state, the process itself."""
    from prometheus_client import GC_COLLECTOR, PLATFORM_COLLECTOR, PROCESS_COLLECTOR

    registry = CollectorRegistry(auto_describe=True)
    registry.register(PlaneCollector(plane))
    for collector in (_Shared(EVENTS), PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)
    return registry


class _Shared(Collector):
    """Another registry's metrics, served as part of this one."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        return self.source.collect()

    def describe(self):
        return []


def serve(plane: "Plane", listen: str) -> str:
    """Serve `registry_of(plane)` on `listen` (raises orchestra.metrics_endpoint.EndpointError); its URL."""
    from orchestra.metrics_endpoint import serve as serve_registry
    return serve_registry(registry_of(plane), listen)[1]
