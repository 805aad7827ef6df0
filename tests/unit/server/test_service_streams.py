"""Logs relayed through a node's session, and the event stream, without gRPC."""
from __future__ import annotations

import threading

import pytest
from plane_fixtures import hello, workload_json

from orchestra.api import agent_pb2
from orchestra.server.errors import FailedPrecondition, NotFound, Unavailable


def log_requests(session):
    out = []
    while not session.outbox.empty():
        m = session.outbox.get_nowait()
        if isinstance(m, agent_pb2.PlaneMessage) and m.HasField("log_request"):
            out.append(m.log_request)
    return out


def answer(plane, session, req, *chunks, error=""):
    for data in chunks:
        plane.hub.on_message(session, agent_pb2.AgentMessage(log=agent_pb2.LogData(
            request_id=req.request_id, replica_id=req.replica_id, data=data)))
    plane.hub.on_message(session, agent_pb2.AgentMessage(log=agent_pb2.LogData(
        request_id=req.request_id, replica_id=req.replica_id, eof=True, error=error)))


def collect(gen, out):
    try:
        for chunk in gen:
            out.append((chunk.replica, chunk.data))
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        out.append(exc)


def test_logs_of_every_replica(plane):
    s = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web", replicas=2)])
    log_requests(s)
    out = []
    t = threading.Thread(target=collect, args=(plane.service.stream_logs("web", "", False, 5, lambda: True), out))
    t.start()
    reqs = []
    while len(reqs) < 2:
        reqs += log_requests(s)
    assert sorted(r.replica_id for r in reqs) == ["web-0", "web-1"] and all(r.tail == 5 for r in reqs)
    for r in reqs:
        answer(plane, s, r, f"{r.replica_id}\n".encode())
    t.join(10)
    assert sorted(out) == [("web-0", b"web-0\n"), ("web-1", b"web-1\n")]


def test_logs_errors(plane):
    with pytest.raises(NotFound, match="workload 'nope' not found"):
        list(plane.service.stream_logs("nope", "", False, 0, lambda: True))
    plane.service.apply([workload_json("web")])
    with pytest.raises(FailedPrecondition, match="not on a node"):
        list(plane.service.stream_logs("web", "web-0", False, 0, lambda: True))
    s = plane.hub.open_session(hello("vm-1"))
    plane.run_controllers_once()
    plane.hub.close_session(s)
    with pytest.raises(Unavailable, match="node vm-1 .* has no open session"):
        list(plane.service.stream_logs("web", "", False, 0, lambda: True))


def test_session_closing_mid_log_is_unavailable(plane):
    s = plane.hub.open_session(hello("vm-1"))
    plane.service.apply([workload_json("web")])
    out = []
    t = threading.Thread(target=collect, args=(plane.service.stream_logs("web", "web-0", True, 0, lambda: True), out))
    t.start()
    while not log_requests(s):
        pass
    plane.hub.close_session(s)
    t.join(10)
    assert isinstance(out[-1], Unavailable) and "closed" in str(out[-1])


def test_watch_events_from_an_id_and_by_object(plane):
    plane.service.apply([workload_json("web")])
    first = plane.store.last_event_id()
    plane.service.apply([workload_json("db")])
    active = iter([True, True, False])
    got = list(plane.service.watch_events(first, "db", lambda: next(active, False)))
    assert got and all(e.object == "db" and e.id > first for e in got)
