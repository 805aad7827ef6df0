"""The agent's Prometheus metrics (`orchestra-agent --metrics-listen HOST:PORT`).

The agent must stay lean, so prometheus_client is imported only when the endpoint is asked for
(`serve`). Until then the hooks the agent's modules call (`operation`, `probe_result`,
`usage_error`: one line each where it happens) do nothing.

    orchestra_agent_containers{state}                       the replicas this agent manages, by phase
    orchestra_agent_containers_ready                        ... of which ready
    orchestra_agent_probe_results_total{probe,result}       health check attempts by probe and outcome
    orchestra_agent_container_operations_total{operation,result}    create, start, stop, remove
    orchestra_agent_container_operation_duration_seconds{operation}
    orchestra_agent_usage_sampling_errors_total             samples that could not be taken
    orchestra_agent_connected, orchestra_agent_applied_revision, orchestra_agent_build_info
"""
from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent.session import Agent

_instruments: "_Instruments | None" = None      # set by serve()


def operation(what: str):
    """`with operation("create"): ...` counts and times one engine operation (failed: it raised)."""
    if _instruments is None:
        return contextlib.nullcontext()
    return _instruments.timed(what)


def probe_result(probe: str, ok: bool) -> None:
    if _instruments is not None:
        _instruments.probes.labels(probe, "Success" if ok else "Failure").inc()


def usage_error() -> None:
    if _instruments is not None:
        _instruments.usage_errors.inc()


def serve(listen: str, agent: "Agent") -> str:
    """Start the endpoint (raises orchestra.metrics_endpoint.EndpointError); returns its URL."""
    global _instruments
    from orchestra.metrics_endpoint import serve as serve_registry

    instruments = _Instruments(agent)
    _, url = serve_registry(instruments.registry, listen)
    _instruments = instruments
    return url


class _Instruments:
    def __init__(self, agent: "Agent"):
        from prometheus_client import PROCESS_COLLECTOR, CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry(auto_describe=True)
        self.operations = Counter("orchestra_agent_container_operations", "Engine operations on containers by "
                                  "operation and result", ["operation", "result"], registry=self.registry)
        self.latency = Histogram("orchestra_agent_container_operation_duration_seconds",
                                 "Time of an engine operation on a container (stop: includes the grace period)",
                                 ["operation"], registry=self.registry,
                                 buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
        self.probes = Counter("orchestra_agent_probe_results", "Health check attempts by probe (startup, "
                              "readiness, liveness) and result", ["probe", "result"], registry=self.registry)
        self.usage_errors = Counter("orchestra_agent_usage_sampling_errors", "Usage samples of the node or of a "
                                    "container that could not be taken", registry=self.registry)
        for what in ("create", "start", "stop", "remove"):     # every series from the start, at 0
            self.latency.labels(what)
        self.registry.register(_State(agent))
        self.registry.register(PROCESS_COLLECTOR)

    @contextlib.contextmanager
    def timed(self, what: str):
        started = time.perf_counter()
        result = "failure"
        try:
            yield
            result = "success"
        finally:
            self.operations.labels(what, result).inc()
            self.latency.labels(what).observe(time.perf_counter() - started)


class _State:
    """Gauges read from the converger and the session at scrape time."""

    def __init__(self, agent: "Agent"):
        from agent.facts import agent_version
        from orchestra.phase import AGENT_PHASES
        self.agent = agent
        self.phases = sorted(AGENT_PHASES)
        self.version = agent_version()

    def describe(self):
        return []

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        agent = self.agent
        _, statuses, _, applied = agent.converger.snapshot()
        by_state = GaugeMetricFamily("orchestra_agent_containers", "Replicas this agent manages, by phase",
                                     labels=["state"])
        counts = {p: 0 for p in self.phases}
        for s in statuses:
            counts[s.phase] = counts.get(s.phase, 0) + 1
        for phase, n in counts.items():
            by_state.add_metric([phase], n)
        yield by_state
        yield GaugeMetricFamily("orchestra_agent_containers_ready", "Replicas this agent manages that are ready",
                                value=sum(1 for s in statuses if s.ready))
        yield GaugeMetricFamily("orchestra_agent_connected", "1 while the agent's session with the plane is open",
                                value=1 if agent.connected else 0)
        yield GaugeMetricFamily("orchestra_agent_applied_revision",
                                "The node's desired-set revision the agent last converged to", value=applied)
        info = GaugeMetricFamily("orchestra_agent_build_info", "The agent's version (always 1)", labels=["version"])
        info.add_metric([self.version], 1)
        yield info
