"""Exec relayed through a node's session, without gRPC: the user's call (UserService.exec) on
one side, the agent's messages fed to the hub on the other (the plane's logic is under test)."""
from __future__ import annotations

import json
import queue
import threading
import time

import pytest
from plane_fixtures import Agents, workload_json

from orchestra.api import agent_pb2, orchestra_pb2, types_pb2
from orchestra.server import exec_relay
from orchestra.server.errors import (Aborted, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted)

W = exec_relay.OUTPUT_WINDOW


@pytest.fixture
def web(plane, clock):
    agents = Agents(plane)
    session = agents.join("vm-1")
    plane.service.apply([workload_json("web")])
    agents.settle(clock)
    [r] = plane.store.list_replicas(workload="web")
    assert r.phase == "Running" and r.node == "vm-1"
    return plane, session


class Call:
    """A user's Exec call: requests go in through `send`, responses come out in `responses`."""

    def __init__(self, plane, *command: str, stdin: bool = False, tty: bool = False, replica: str = "web-0",
                 size: types_pb2.TerminalSize | None = None):
        self.requests: queue.Queue = queue.Queue()
        self.responses: list = []
        self.active = True
        self.done = threading.Event()
        self.send(orchestra_pb2.ExecRequest(command=orchestra_pb2.ExecCommand(
            replica=replica, command=list(command), stdin=stdin, tty=tty, size=size)))
        self.gen = plane.service.exec(self._requests(), lambda: self.active)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def send(self, request) -> None:
        self.requests.put(request)

    def end_requests(self) -> None:
        self.requests.put(None)

    def _requests(self):
        while (r := self.requests.get()) is not None:
            yield r

    def _run(self):
        try:
            for response in self.gen:
                self.responses.append(response)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            self.responses.append(exc)
        finally:
            self.done.set()

    def result(self, timeout: float = 10):
        assert self.done.wait(timeout), f"the call did not end; so far {self.responses}"
        return self.responses


def sent(session, kind: str, timeout: float = 5.0) -> list:
    """The PlaneMessages of `kind` queued for the agent (waits for the first one)."""
    out, deadline = [], time.monotonic() + timeout
    while True:
        try:
            m = session.outbox.get(timeout=0.05)
        except queue.Empty:
            if out or time.monotonic() > deadline:
                return out
            continue
        if isinstance(m, agent_pb2.PlaneMessage) and m.WhichOneof("msg") == kind:
            out.append(getattr(m, kind))


def agent_says(plane, session, exec_id: str, **fields) -> None:
    plane.hub.on_message(session, agent_pb2.AgentMessage(exec=agent_pb2.ExecOutput(exec_id=exec_id, **fields)))


def test_output_streams_apart_in_order_then_the_exit_code(web):
    plane, session = web
    call = Call(plane, "sh", "-c", "echo out; echo err >&2; exit 7")
    [start] = sent(session, "exec_start")
    assert (start.replica_id, list(start.command), start.incarnation) == ("web-0", ["sh", "-c", "echo out; echo err >&2; exit 7"], 1)
    assert (start.output_window, start.stdin_window, start.stdin, start.tty) == (W, exec_relay.STDIN_WINDOW, False, False)
    agent_says(plane, session, start.exec_id, stdout=b"out\n")
    agent_says(plane, session, start.exec_id, stderr=b"err\n")
    agent_says(plane, session, start.exec_id, exit=types_pb2.ExecExit(exit_code=7))
    got = call.result()
    assert [r.WhichOneof("msg") for r in got] == ["stdout", "stderr", "exit"]
    assert (got[0].stdout, got[1].stderr, got[2].exit.exit_code) == (b"out\n", b"err\n", 7)
    assert plane.hub.execs.open_count() == 0
    assert sent(session, "exec_cancel", timeout=0.2) == []       # it ended by itself: nothing to cancel


def test_credit_goes_back_as_the_user_takes_output(web):
    plane, session = web
    call = Call(plane, "yes")
    [start] = sent(session, "exec_start")
    agent_says(plane, session, start.exec_id, stdout=b"y" * (W // 2 - 1))
    assert sent(session, "exec_input", timeout=0.5) == []        # batched: less than half a window taken
    agent_says(plane, session, start.exec_id, stdout=b"y" * 3)
    [credit] = sent(session, "exec_input")
    assert credit.output_credit == W // 2 + 2                    # taken by the call: granted again
    agent_says(plane, session, start.exec_id, exit=types_pb2.ExecExit(exit_code=0))
    assert sum(len(r.stdout) for r in call.result()[:-1]) == W // 2 + 2


def test_the_plane_holds_one_window_when_the_user_does_not_read(web):
    plane, session = web
    channel = plane.hub.execs.open(session, "web-0", 1, orchestra_pb2.ExecCommand(replica="web-0", command=["yes"]))
    sent(session, "exec_start")
    chunk = b"y" * (32 * 1024)
    for _ in range(W // len(chunk)):
        plane.hub.execs.deliver(session, agent_pb2.ExecOutput(exec_id=channel.exec_id, stdout=chunk))
    plane.hub.execs.deliver(session, agent_pb2.ExecOutput(exec_id=channel.exec_id, stdout=b"y"))   # beyond credit
    held = []
    while isinstance(item := channel.next(0), tuple):
        held.append(item)
    assert sum(len(d) for _, d in held) == W                     # the window, and nothing beyond it
    assert isinstance(item.failure, Aborted)
    assert "sent 1 bytes of output for replica web-0 with credit for 0" in str(item.failure)
    channel.close()
    assert [c.exec_id for c in sent(session, "exec_cancel")] == [channel.exec_id]   # once


def test_stdin_waits_for_the_agents_credit(web):
    plane, session = web
    call = Call(plane, "cat", stdin=True)
    [start] = sent(session, "exec_start")
    call.send(orchestra_pb2.ExecRequest(stdin=b"x" * (exec_relay.STDIN_WINDOW + 10)))
    call.send(orchestra_pb2.ExecRequest(stdin_eof=True))
    first = sent(session, "exec_input", timeout=1)
    assert sum(len(m.stdin) for m in first) == exec_relay.STDIN_WINDOW
    assert all(len(m.stdin) <= exec_relay.STDIN_CHUNK for m in first) and not any(m.stdin_eof for m in first)
    assert sent(session, "exec_input", timeout=0.5) == []         # no credit: nothing more
    agent_says(plane, session, start.exec_id, stdin_credit=10)
    rest = sent(session, "exec_input")
    assert [len(m.stdin) for m in rest] == [10, 0] and rest[-1].stdin_eof
    agent_says(plane, session, start.exec_id, exit=types_pb2.ExecExit(exit_code=0))
    assert call.result()[-1].exit.exit_code == 0


def test_resize_and_the_size_of_the_start_reach_the_agent(web):
    plane, session = web
    call = Call(plane, "sh", tty=True, stdin=True, size=types_pb2.TerminalSize(rows=24, cols=80))
    [start] = sent(session, "exec_start")
    assert (start.tty, start.size.rows, start.size.cols) == (True, 24, 80)
    call.send(orchestra_pb2.ExecRequest(resize=types_pb2.TerminalSize(rows=33, cols=101)))
    [resize] = sent(session, "exec_resize")
    assert (resize.exec_id, resize.size.rows, resize.size.cols) == (start.exec_id, 33, 101)
    agent_says(plane, session, start.exec_id, exit=types_pb2.ExecExit(exit_code=0))
    call.result()


def test_a_user_who_goes_away_cancels_the_command_on_the_node(web):
    plane, session = web
    call = Call(plane, "sleep", "600")
    [start] = sent(session, "exec_start")
    call.active = False
    assert call.result() == []
    assert [c.exec_id for c in sent(session, "exec_cancel")] == [start.exec_id]
    assert plane.hub.execs.open_count() == 0
    agent_says(plane, session, start.exec_id, error="cancelled")   # late answers are dropped


def test_a_lost_session_ends_the_call_with_a_clear_error(web):
    plane, session = web
    call = Call(plane, "sleep", "600")
    sent(session, "exec_start")
    plane.hub.close_session(session)
    [err] = call.result()
    assert isinstance(err, Aborted)
    assert str(err) == "the session of node vm-1 ended while the command ran in replica web-0; its exit code is unknown"


def test_the_agents_refusal_is_the_calls_error(web):
    plane, session = web
    call = Call(plane, "true")
    [start] = sent(session, "exec_start")
    agent_says(plane, session, start.exec_id, error="replica web-0 is not running on node vm-1")
    [err] = call.result()
    assert isinstance(err, FailedPrecondition) and str(err) == "replica web-0 is not running on node vm-1"
    assert sent(session, "exec_cancel", timeout=0.2) == []


def test_another_nodes_answer_is_dropped(web, plane):
    _, session = web
    other = Agents(plane).join("vm-2")
    call = Call(plane, "true")
    [start] = sent(session, "exec_start")
    agent_says(plane, other, start.exec_id, exit=types_pb2.ExecExit(exit_code=9))
    agent_says(plane, session, start.exec_id, exit=types_pb2.ExecExit(exit_code=0))
    assert call.result()[-1].exit.exit_code == 0


def test_refusals_before_anything_runs(web, plane, clock):
    _, session = web
    for command, replica, error in [(("true",), "nope-0", NotFound("replica 'nope-0' not found")),
                                    ((), "web-0", InvalidArgument("name the command to run in replica web-0, e.g. sh")),
                                    (("true",), "", InvalidArgument("name the replica to run the command in, e.g. web-0"))]:
        [got] = Call(plane, *command, replica=replica).result()
        assert type(got) is type(error) and str(got) == str(error)
    with pytest.raises(InvalidArgument, match="first ExecRequest must be `command`"):
        list(plane.service.exec(iter([orchestra_pb2.ExecRequest(stdin=b"x")]), lambda: True))

    done = json.loads(workload_json("done", command=("true",)))
    done["spec"]["template"]["restartPolicy"] = "Never"
    plane.service.apply([json.dumps(done)])
    agents = Agents(plane)
    agents.sessions["vm-1"] = session
    agents.override["done-0"] = {"phase": "Exited", "exit_code": 0}
    agents.settle(clock)
    [err] = Call(plane, "true", replica="done-0").result()
    assert isinstance(err, FailedPrecondition) and str(err).startswith("replica done-0 is not running (Exited")

    plane.hub.close_session(session)
    [err] = Call(plane, "true").result()
    assert isinstance(err, FailedPrecondition)
    assert str(err) == "node vm-1 of replica web-0 has no open session with the plane"


def test_a_node_runs_a_bounded_number_of_execs(web):
    plane, session = web
    command = orchestra_pb2.ExecCommand(replica="web-0", command=["sleep", "600"])
    channels = [plane.hub.execs.open(session, "web-0", 1, command) for _ in range(exec_relay.MAX_EXECS_PER_NODE)]
    with pytest.raises(ResourceExhausted, match="already runs 32 execs"):
        plane.hub.execs.open(session, "web-0", 1, command)
    channels[0].close()
    plane.hub.execs.open(session, "web-0", 1, command)


def test_a_second_command_in_the_stream_is_invalid(web):
    plane, session = web
    call = Call(plane, "cat", stdin=True)
    [start] = sent(session, "exec_start")
    call.send(orchestra_pb2.ExecRequest(command=orchestra_pb2.ExecCommand(replica="web-0", command=["true"])))
    [err] = call.result()
    assert isinstance(err, InvalidArgument) and "only the first" in str(err)
    assert [c.exec_id for c in sent(session, "exec_cancel")] == [start.exec_id]
