"""The plane as a real process, with real gRPC clients: agents' sessions, desired sets, status,
logs, protocol errors, liveness and durability across kill -9."""
from __future__ import annotations

import signal
import time

import grpc
import pytest
from plane_fixtures_integration import workload_json
from plane_process import start_plane
from protocol_agent import ProtocolAgent

from orchestra.api import agent_pb2, orchestra_pb2
from tests.support.waiting import wait_for


def apply(client, *docs, dry_run=False):
    return client.Apply(orchestra_pb2.ApplyRequest(documents_json=list(docs), dry_run=dry_run), timeout=30)


def replicas(client, **kw):
    return list(client.ListReplicas(orchestra_pb2.ListReplicasRequest(**kw), timeout=10).replicas)


def eventually(fn, timeout=30.0):
    return wait_for("the plane to get there", fn, timeout=timeout, every=0.1)

def raw_session(channel):
    """A Session call that sends bytes as they are (no protobuf serialisation)."""
    return channel.stream_stream("/orchestra.v1.AgentLink/Session", request_serializer=lambda b: b,
                                 response_deserializer=agent_pb2.PlaneMessage.FromString)


@pytest.mark.parametrize("first", [
    b"\xff\xff\xff\xff garbage",                                                       # not a protobuf
    agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(seq=1)).SerializeToString(),  # no Hello first
    b"",                                                                               # empty message
])
def test_bad_first_message_ends_session_and_plane_keeps_serving(plane, first):
    agent = ProtocolAgent(plane.address, "vm-ok")
    agent.wait_desired()
    call = raw_session(plane.channel())(iter([first]), timeout=30)
    with pytest.raises(grpc.RpcError) as info:
        list(call)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details()
    # Others are still served: the good agent gets its work, users get answers.
    c = plane.client()
    apply(c, workload_json("web"))
    assert agent.wait_desired(lambda ds: len(ds.replicas) == 1).replicas[0].replica_id == "web-0"
    agent.close()


def test_garbage_after_hello_ends_only_that_session(plane):
    agent = ProtocolAgent(plane.address, "vm-bad")
    agent.wait_desired()
    agent.send(agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-bad")))  # second Hello
    agent.done.wait(30)
    assert agent.error is not None and agent.error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "first message" in agent.error.details()
    other = ProtocolAgent(plane.address, "vm-good")
    other.wait_desired()
    other.close()


def test_refused_node_name(plane, tmp_path):
    # A node name is checked when the node joins (it becomes its certificate's CN).
    from orchestra.security.join import JoinError, join_cluster
    with pytest.raises(JoinError, match="invalid node name"):
        join_cluster(plane.address, plane.node_token(), "no spaces allowed", tmp_path)


def test_welcome_desired_set_status_and_listing(plane):
    c = plane.client()
    agent = ProtocolAgent(plane.address, "vm-1", labels={"zone": "a"})
    welcome = agent.wait_for(lambda m: m.HasField("welcome")).welcome
    assert welcome.node_name == "vm-1" and welcome.heartbeat_interval_ms == 2000
    assert agent.received[0].HasField("welcome")
    res = apply(c, workload_json("web", replicas=2)).results[0]
    assert (res.action, res.generation) == ("created", 1)
    assert [(p.replica, p.node) for p in res.placements] == [("web-0", "vm-1"), ("web-1", "vm-1")]
    ds = agent.wait_desired(lambda ds: len(ds.replicas) == 2)
    spec = ds.replicas[0]
    assert (spec.replica_id, spec.image, spec.incarnation, spec.revision) == ("web-0", "local/busybox:1", 1, 1)
    assert spec.template_hash
    agent.report(agent_pb2.ReplicaStatus(replica_id="web-0", phase="Running", incarnation=1, container_id="abc"),
                 agent_pb2.ReplicaStatus(replica_id="web-1", phase="Running", incarnation=7))
    eventually(lambda: {r.id: r.phase for r in replicas(c, workload="web")} == {"web-0": "Running",
                                                                                 "web-1": "Scheduled"})
    nodes = c.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10).nodes
    assert [(n.name, n.status, n.replica_count, n.labels["zone"]) for n in nodes] == [("vm-1", "Ready", 2, "a")]
    assert nodes[0].allocated.cpu_millis == 200
    desc = c.DescribeWorkload(orchestra_pb2.DescribeRequest(name="web"), timeout=10)
    assert desc.workload.running == 1 and len(desc.replicas) == 2
    assert any(e.reason == "Scheduled" for e in desc.events)
    with pytest.raises(grpc.RpcError) as info:
        c.DescribeWorkload(orchestra_pb2.DescribeRequest(name="nope"), timeout=10)
    assert info.value.code() == grpc.StatusCode.NOT_FOUND and "nope" in info.value.details()
    agent.close()


def test_invalid_apply_stores_nothing(plane):
    c = plane.client()
    with pytest.raises(grpc.RpcError) as info:
        apply(c, workload_json("good"), '{"apiVersion": "orchestra/v1", "kind": "Workload"}')
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request document 2" in info.value.details()
    assert list(c.ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=10).workloads) == []


def test_second_session_replaces_first(plane):
    first = ProtocolAgent(plane.address, "vm-1")
    first.wait_desired()
    second = ProtocolAgent(plane.address, "vm-1")
    second.wait_desired()
    first.done.wait(30)
    assert first.error is not None and first.error.code() == grpc.StatusCode.ABORTED
    apply(plane.client(), workload_json("web"))
    second.wait_desired(lambda ds: len(ds.replicas) == 1)
    second.close()
    first.close()


def test_logs_relayed_through_the_session(plane):
    c = plane.client()
    agent = ProtocolAgent(plane.address, "vm-1")
    apply(c, workload_json("web"))
    agent.wait_desired(lambda ds: len(ds.replicas) == 1)
    stream = c.Logs(orchestra_pb2.LogsRequest(workload="web", tail=10), timeout=30)
    req = agent.wait_for(lambda m: m.HasField("log_request")).log_request
    assert (req.replica_id, req.tail) == ("web-0", 10)
    agent.send(agent_pb2.AgentMessage(log=agent_pb2.LogData(request_id=req.request_id, replica_id="web-0",
                                                            data=b"hello\n")))
    agent.send(agent_pb2.AgentMessage(log=agent_pb2.LogData(request_id=req.request_id, replica_id="web-0",
                                                            eof=True)))
    assert [(ch.replica, ch.data) for ch in stream] == [("web-0", b"hello\n")]
    agent.close()

    def logs_error():  # once the plane has seen the stream close
        try:
            list(c.Logs(orchestra_pb2.LogsRequest(workload="web"), timeout=2))
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.UNAVAILABLE:
                return exc
        return None

    assert "vm-1" in eventually(logs_error).details()


def test_silent_node_replicas_rescheduled(plane_factory):
    p = plane_factory("--node-grace", "1s", "--heartbeat-interval", "250ms")
    c = p.client()
    a = ProtocolAgent(p.address, "vm-a")
    a.wait_desired()
    apply(c, workload_json("web", replicas=2))
    a.wait_desired(lambda ds: len(ds.replicas) == 2)
    b = ProtocolAgent(p.address, "vm-b")
    stop = time.monotonic() + 60
    # vm-b heartbeats; vm-a says nothing more.
    while time.monotonic() < stop:
        b.heartbeat()
        if {r.node for r in replicas(c)} == {"vm-b"}:
            break
        time.sleep(0.2)
    assert {(r.node, r.incarnation) for r in replicas(c)} == {("vm-b", 2)}
    node_a = c.DescribeNode(orchestra_pb2.DescribeRequest(name="vm-a"), timeout=10)
    assert node_a.node.status == "NotReady" and any(e.reason == "NodeNotReady" for e in node_a.events)
    b.wait_desired(lambda ds: len(ds.replicas) == 2)
    a.close()
    b.close()


def test_watch_events_streams_new_events(plane):
    c = plane.client()
    apply(c, workload_json("web"))            # event 1: Created; then FailedScheduling (no nodes)
    # after_id replays what came after it, so the test does not race the stream's start.
    stream = c.WatchEvents(orchestra_pb2.WatchEventsRequest(after_id=1), timeout=30)
    first = next(stream)
    assert first.id == 2 and first.reason == "FailedScheduling"
    apply(c, workload_json("db"))             # the open stream carries what happens next
    later = [next(stream) for _ in range(2)]
    assert ("Workload", "db", "Created") in [(e.kind, e.object, e.reason) for e in later]
    stream.cancel()


def test_apply_durable_across_kill_9_and_work_resumes(tmp_path):
    data = str(tmp_path / "data")
    p = start_plane(data)
    c = p.client()
    apply(c, workload_json("web", replicas=3))
    p.stop(signal.SIGKILL)
    p2 = start_plane(data)
    try:
        c2 = p2.client()
        assert [r.id for r in replicas(c2)] == ["web-0", "web-1", "web-2"]
        agent = ProtocolAgent(p2.address, "vm-1")
        # Pending replicas from before the crash get placed by the restarted plane's loop.
        ds = agent.wait_desired(lambda ds: len(ds.replicas) == 3)
        assert all(s.incarnation == 1 for s in ds.replicas)
        agent.close()
    finally:
        p2.stop()


def test_sigterm_with_open_streams_stops_cleanly(tmp_path):
    p = start_plane(str(tmp_path / "data"))
    agent = ProtocolAgent(p.address, "vm-1")
    agent.wait_desired()
    watch = p.client().WatchEvents(orchestra_pb2.WatchEventsRequest(), timeout=60)
    p.proc.send_signal(signal.SIGTERM)
    assert p.proc.wait(30) == 0
    agent.done.wait(30)
    assert agent.done.is_set()
    with pytest.raises(grpc.RpcError):
        list(watch)
    agent.close()
    p.stop()
