"""The plane's metrics as Prometheus reads them: the exposition of `registry_of(plane)`, parsed with
prometheus_client's own parser, against what the plane's state and API say."""
from __future__ import annotations

import grpc
import pytest
from plane_fixtures import Agents, workload_json
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from orchestra import transport
from orchestra.api import orchestra_pb2, orchestra_pb2_grpc
from orchestra.security.ca import new_csr
from orchestra.security.plane_security import plane_security
from orchestra.server.grpc_server import build_server
from orchestra.server.metrics import ApiMetrics, registry_of
from orchestra.transport import ClientTLS
from tests.support.waiting import wait_for


def scrape(plane) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value."""
    text = generate_latest(registry_of(plane)).decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def agents(plane):
    return Agents(plane)


def test_state_gauges_match_the_plane(plane, clock, agents):
    agents.join("vm-1", cpu=2000, memory=4 << 30)
    agents.join("vm-2", cpu=1000, memory=2 << 30)
    plane.service.apply([workload_json("web", replicas=3, cpu="250m", memory="64Mi")])
    plane.service.apply([workload_json("big", replicas=1, cpu="8")])        # fits nowhere: Pending
    agents.settle(clock)
    s = scrape(plane)

    assert value(s, "orchestra_nodes", state="Ready") == 2 and value(s, "orchestra_nodes", state="NotReady") == 0
    assert value(s, "orchestra_node_allocatable_cpu_cores", node="vm-2") == 1.0
    assert value(s, "orchestra_node_allocatable_memory_bytes", node="vm-1") == 4 << 30
    listed = {n.name: n for n in plane.service.list_nodes().nodes}
    for name, n in listed.items():
        assert value(s, "orchestra_node_allocated_cpu_cores", node=name) == n.allocated.cpu_millis / 1000
        assert value(s, "orchestra_node_allocated_memory_bytes", node=name) == n.allocated.memory_bytes
    assert sum(value(s, "orchestra_node_allocated_cpu_cores", node=n) for n in listed) == 0.75

    assert value(s, "orchestra_replicas", workload="web", phase="Running") == 3
    assert value(s, "orchestra_replicas", workload="web", phase="Pending") == 0       # zeros are there too
    assert ("orchestra_replicas", (("phase", "Pending"), ("workload", "web"))) in s
    assert value(s, "orchestra_replicas", workload="big", phase="Pending") == 1
    assert value(s, "orchestra_workload_replicas_ready", workload="web") == 3
    assert value(s, "orchestra_workload_replicas_desired", workload="big") == 1
    assert value(s, "orchestra_workload_replicas_updated", workload="web") == 3
    assert value(s, "orchestra_workload_rollout_state", workload="web", state="Complete") == 1
    assert value(s, "orchestra_workload_rollout_state", workload="web", state="Progressing") == 0
    assert value(s, "orchestra_agent_sessions") == 2
    assert any(name == "orchestra_build_info" for name, _ in s)
    # No unbounded label: neither replica nor container ids appear anywhere.
    assert not [k for k in s if any(v.startswith(("web-", "c-web")) for _, v in k[1])]


def test_a_rollout_shows_its_progress(plane, clock, agents):
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=2, update={"maxSurge": 1, "maxUnavailable": 0})])
    agents.settle(clock)
    agents.override[("revision", 2)] = {"ready": False}        # the new revision never gets ready
    plane.service.apply([workload_json("web", replicas=2, command=("sleep", "7200"),
                                       update={"maxSurge": 1, "maxUnavailable": 0})])
    agents.settle(clock, rounds=3)
    s = scrape(plane)
    assert value(s, "orchestra_workload_revision", workload="web") == 2
    assert value(s, "orchestra_workload_rollout_state", workload="web", state="Progressing") == 1
    assert value(s, "orchestra_workload_replicas_updated", workload="web") == 1    # the surge replica
    assert value(s, "orchestra_workload_replicas_ready", workload="web") == 2      # the old two


def test_restarts_are_counted_once(plane, clock, agents):
    agents.join("vm-1")
    plane.service.apply([workload_json("web", replicas=1)])
    agents.settle(clock)
    before = value(scrape(plane), "orchestra_replica_restarts_total", workload="web")
    agents.override["web-0"] = {"restarts": 2}
    agents.settle(clock)           # the same count, reported again and again
    agents.override["web-0"] = {"restarts": 3}
    agents.settle(clock)
    s = scrape(plane)
    assert value(s, "orchestra_replica_restarts_total", workload="web") - before == 3
    assert plane.store.get_replica("web-0").restarts == 3


def test_node_loss_to_replacement_is_timed(plane, clock, agents):
    agents.join("vm-1")
    agents.join("vm-2")
    plane.service.apply([workload_json("web", replicas=2)])
    agents.settle(clock)
    lost = [r.id for r in plane.store.list_replicas() if r.node == "vm-1"]
    assert lost
    before = scrape(plane)
    agents.sessions["vm-1"].end(None, "gone")            # vm-1 falls silent; vm-2 keeps answering
    plane.hub.close_session(agents.sessions.pop("vm-1"))
    for _ in range(12):                                  # until past the 10 s grace
        agents.answer()
        clock.advance(1)
        plane.run_controllers_once()
        if plane.store.get_node("vm-1").status == "NotReady":
            break
    assert plane.store.get_node("vm-1").status == "NotReady"   # lost, and bound to vm-2 in the same pass
    clock.advance(3)
    agents.answer()                                      # vm-2 reports it Running, 3 s after the loss
    assert all(plane.store.get_replica(rid).node == "vm-2" for rid in lost)
    after = scrape(plane)
    count = "orchestra_node_loss_replacement_seconds_count"
    assert value(after, count) - value(before, count) == len(lost)
    took = value(after, "orchestra_node_loss_replacement_seconds_sum") - \
        value(before, "orchestra_node_loss_replacement_seconds_sum")
    assert took == 3 * len(lost)
    assert value(after, "orchestra_nodes", state="NotReady") == 1
    assert value(after, "orchestra_agent_sessions") == 1


def test_scheduling_attempts_by_result(plane, clock, agents):
    agents.join("vm-1", cpu=1000)
    before = scrape(plane)
    plane.service.apply([workload_json("fits", replicas=2, cpu="250m")])
    plane.service.apply([workload_json("huge", replicas=1, cpu="4")])
    after = scrape(plane)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert grew("orchestra_scheduling_attempts_total", result="scheduled") == 2
    assert grew("orchestra_scheduling_attempts_total", result="unschedulable") >= 1
    assert grew("orchestra_scheduling_attempt_duration_seconds_count", result="scheduled") == 2
    assert grew("orchestra_scheduling_attempt_duration_seconds_sum", result="scheduled") > 0


def test_user_api_calls_by_method_and_code(plane, tmp_path):
    """Over real gRPC with the plane's mutual TLS in front, as `orchestra server` assembles it."""
    sec = plane_security(tmp_path / "data", "127.0.0.1:0", plane.store)
    server, port = build_server(plane, "127.0.0.1:0", interceptors=[ApiMetrics(), *sec.interceptors],
                                extra_handlers=sec.handlers, tls=sec.tls)
    server.start()
    admin = transport.client_channel(f"127.0.0.1:{port}", sec.pki.admin_tls)
    key, csr = new_csr("vm-9")
    node = transport.client_channel(f"127.0.0.1:{port}", ClientTLS(sec.pki.ca.cert_pem, key,
                                                                   sec.pki.ca.sign_csr(csr, "vm-9")))
    try:
        stub = orchestra_pb2_grpc.OrchestraStub(admin)
        before = scrape(plane)
        stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)
        stub.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)
        with pytest.raises(grpc.RpcError) as missing:
            stub.DescribeWorkload(orchestra_pb2.DescribeRequest(name="nope"), timeout=10)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.RpcError) as no_replica:        # a bidirectional call counts too
            list(stub.Exec(iter([orchestra_pb2.ExecRequest(command=orchestra_pb2.ExecCommand(
                replica="nope-0", command=["true"]))]), timeout=10))
        assert no_replica.value.code() == grpc.StatusCode.NOT_FOUND
        after = plane.events.emit("Cluster", "test", "Normal", "Before", "before the watch")
        watch = stub.WatchEvents(orchestra_pb2.WatchEventsRequest(after_id=after), timeout=30)
        plane.events.emit("Cluster", "test", "Normal", "Test", "something happened")
        assert next(watch).reason == "Test"
        watch.cancel()                                          # a watch the client closes
        wait_for("the cancelled watch counted", lambda: value(scrape(plane), "orchestra_api_requests_total",
                 method="WatchEvents", code="CANCELLED") == 1, timeout=30, every=0.1)
        with pytest.raises(grpc.RpcError) as refused:          # a node may not use the user API
            orchestra_pb2_grpc.OrchestraStub(node).ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
        after = scrape(plane)
    finally:
        admin.close()
        node.close()
        server.stop(None)

    def grew(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)
    assert grew("orchestra_api_requests_total", method="ListNodes", code="OK") == 2
    assert grew("orchestra_api_requests_total", method="DescribeWorkload", code="NOT_FOUND") == 1
    assert grew("orchestra_api_requests_total", method="Exec", code="NOT_FOUND") == 1
    assert grew("orchestra_api_request_duration_seconds_count", method="ListNodes") == 3    # the refused one too
    assert grew("orchestra_api_request_duration_seconds_bucket", method="ListNodes", le="+Inf") == 3
    assert grew("orchestra_api_requests_total", method="ListNodes", code="PERMISSION_DENIED") == 1
