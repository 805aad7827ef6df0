"""Exec relays: a user's Orchestra.Exec call joined to the command it runs on a node, over
the node's own agent stream (AgentLink.Session: the plane never dials a node).

One ExecChannel per call. The agent's ExecOutputs arrive on the session's reader thread
(AgentHub.on_message -> ExecRelay.deliver) and wait in the channel for the call's thread,
which yields them to the user; a pump thread of the call reads the user's requests and passes
stdin, its end and resizes down the session.

Bounded both ways, by credit (agent.proto, ExecStart): the agent may send OUTPUT_WINDOW bytes
of output beyond what the plane granted back, and the plane grants more only as the user's
call takes it: a response generator resumes once its message is handed to gRPC's transport,
whose HTTP/2 flow control keeps to the user's reading pace, so a flood of output slows the
command down (its pipe fills) instead of growing the plane. Likewise the plane sends at most
STDIN_WINDOW bytes of stdin beyond what the agent granted back, and the pump reads the user's
next request only when it may pass it on. One exec holds at most OUTPUT_WINDOW + STDIN_WINDOW
bytes here; an agent that sends beyond its credit ends the exec with an error instead. A node
runs at most MAX_EXECS_PER_NODE execs at once.

The end: the agent's last message carries the exit code (yielded as `exit`), or an error
without one (FailedPrecondition: it refused or the command broke). A session that ends while
the command runs ends the call with Aborted (the exit code is unknown). A call that ends first
(the user went away, the plane stops) sends ExecCancel: the agent kills the command.
"""
from __future__ import annotations

import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Callable, Iterator

import grpc

from orchestra.api import agent_pb2, orchestra_pb2, types_pb2
from orchestra.server.errors import (Aborted, FailedPrecondition, InvalidArgument, PlaneError, ResourceExhausted,
                                     Unavailable)
from orchestra.server.sessions import AgentSession

OUTPUT_WINDOW = 256 * 1024
STDIN_WINDOW = 256 * 1024
STDIN_CHUNK = 32 * 1024
MAX_EXECS_PER_NODE = 32
POLL_S = 0.25          # how soon a call notices that its user went away or the plane stops


@dataclass(frozen=True)
class ExecEnd:
    exit: types_pb2.ExecExit | None = None     # the command ended with this
    failure: PlaneError | None = None          # or the exec did, without an exit code


class ExecChannel:
    def __init__(self, relay: "ExecRelay", session: AgentSession, exec_id: str, replica: str, stdin: bool):
        self.relay = relay
        self.session = session
        self.exec_id = exec_id
        self.replica = replica
        self.stdin = stdin
        self._cond = threading.Condition()
        self._output: deque[tuple[str, bytes]] = deque()
        self._allowed = OUTPUT_WINDOW     # output the agent may still send
        self._taken = 0                   # output the user took and the agent has not been told of
        self._stdin_credit = STDIN_WINDOW
        self._stdin_closed = False
        self._end: ExecEnd | None = None
        self._agent_done = False          # the agent sent its last message
        self._cancelled = False           # ExecCancel was sent
        self._closed = False              # the call is over

    # -- the agent's side (the session's reader thread) -----------------------------------------
    def deliver(self, out: agent_pb2.ExecOutput) -> bool:
        """Take one ExecOutput; True once the exec has ended."""
        cancel = False
        with self._cond:
            if self._end is not None:
                return True
            size = len(out.stdout) + len(out.stderr)
            if size > self._allowed:
                self._end = ExecEnd(failure=Aborted(
                    f"node {self.session.node} sent {size} bytes of output for replica {self.replica} with "
                    f"credit for {self._allowed}; the exec was stopped"))
                cancel = self._cancelled = True
            else:
                self._allowed -= size
                if out.stdout:
                    self._output.append(("stdout", bytes(out.stdout)))
                if out.stderr:
                    self._output.append(("stderr", bytes(out.stderr)))
                self._stdin_credit += max(0, out.stdin_credit)
                if out.HasField("exit"):
                    self._end = ExecEnd(exit=out.exit)
                elif out.error:
                    self._end = ExecEnd(failure=FailedPrecondition(out.error))
                self._agent_done = self._end is not None
            self._cond.notify_all()
            ended = self._end is not None
        if cancel:
            self._send(exec_cancel=agent_pb2.ExecCancel(exec_id=self.exec_id))
        return ended

    def lost(self, reason: str) -> None:
        self._finish(ExecEnd(failure=Aborted(reason)))

    # -- the call's side ------------------------------------------------------------------------
    def next(self, timeout: float) -> tuple[str, bytes] | ExecEnd | None:
        """The next output chunk (stream, data), then the end; None when nothing came within `timeout`."""
        with self._cond:
            self._cond.wait_for(lambda: self._output or self._end is not None, timeout)
            if self._output:
                return self._output.popleft()
            return self._end

    def took(self, size: int) -> None:
        """The user's call took `size` bytes of output: the agent may send as much again (told
        in batches of half a window)."""
        with self._cond:
            self._taken += size
            credit = self._taken if self._taken >= OUTPUT_WINDOW // 2 else 0
            if credit:
                self._taken = 0
                self._allowed += credit
        if credit:
            self._send(exec_input=agent_pb2.ExecInput(exec_id=self.exec_id, output_credit=credit))

    def send_stdin(self, data: bytes, is_active: Callable[[], bool]) -> bool:
        """Pass stdin on within the agent's credit, waiting for more as needed; False once the exec
        or the call is over."""
        if not self.stdin:
            raise InvalidArgument("stdin was sent, but the command was started without stdin (ExecCommand.stdin)")
        view = memoryview(data)
        while view:
            with self._cond:
                while self._stdin_credit <= 0 and self._end is None and not self._closed:
                    self._cond.wait(POLL_S)
                    if not is_active():
                        return False
                if self._end is not None or self._closed or self._stdin_closed:
                    return False
                n = min(len(view), self._stdin_credit, STDIN_CHUNK)
                self._stdin_credit -= n
            self._send(exec_input=agent_pb2.ExecInput(exec_id=self.exec_id, stdin=bytes(view[:n])))
            view = view[n:]
        return True

    def close_stdin(self) -> None:
        with self._cond:
            if not self.stdin or self._stdin_closed or self._end is not None:
                return
            self._stdin_closed = True
        self._send(exec_input=agent_pb2.ExecInput(exec_id=self.exec_id, stdin_eof=True))

    def resize(self, size: types_pb2.TerminalSize) -> None:
        self._send(exec_resize=agent_pb2.ExecResize(exec_id=self.exec_id, size=size))

    def fail(self, failure: PlaneError) -> None:
        """End the call with `failure` (e.g. the user sent garbage); the command is killed."""
        self._finish(ExecEnd(failure=failure))

    def close(self) -> None:
        """The call is over: a command still running is cancelled on its node."""
        with self._cond:
            self._closed = True
            cancel = not self._agent_done and not self._cancelled
            self._cancelled = True
            self._cond.notify_all()
        self.relay.forget(self)
        if cancel:
            self._send(exec_cancel=agent_pb2.ExecCancel(exec_id=self.exec_id))

    def _finish(self, end: ExecEnd) -> None:
        with self._cond:
            if self._end is None:
                self._end = end
            self._cond.notify_all()

    def _send(self, **message) -> None:
        self.session.send(agent_pb2.PlaneMessage(**message))


class ExecRelay:
    """The open exec channels, by exec id."""

    def __init__(self):
        self._channels: dict[str, ExecChannel] = {}
        self._lock = threading.Lock()

    def open(self, session: AgentSession, replica: str, incarnation: int,
             command: orchestra_pb2.ExecCommand) -> ExecChannel:
        with self._lock:
            running = sum(1 for c in self._channels.values() if c.session is session)
            if running >= MAX_EXECS_PER_NODE:
                raise ResourceExhausted(f"node {session.node} already runs {running} execs (at most "
                                        f"{MAX_EXECS_PER_NODE}); try again when one has ended")
            channel = ExecChannel(self, session, uuid.uuid4().hex, replica, command.stdin)
            self._channels[channel.exec_id] = channel
        session.send(agent_pb2.PlaneMessage(exec_start=agent_pb2.ExecStart(
            exec_id=channel.exec_id, replica_id=replica, incarnation=incarnation, command=list(command.command),
            tty=command.tty, stdin=command.stdin, size=command.size if command.tty else None,
            output_window=OUTPUT_WINDOW, stdin_window=STDIN_WINDOW)))
        return channel

    def deliver(self, session: AgentSession, out: agent_pb2.ExecOutput) -> None:
        with self._lock:
            channel = self._channels.get(out.exec_id)
        if channel is None or channel.session is not session:
            return   # ended or cancelled already, or another node answering: drop
        if channel.deliver(out):
            self.forget(channel)

    def session_closed(self, session: AgentSession) -> None:
        """The node's stream is gone: every exec through it ends, its exit code unknown."""
        with self._lock:
            lost = [c for c in self._channels.values() if c.session is session]
            for c in lost:
                del self._channels[c.exec_id]
        for c in lost:
            c.lost(f"the session of node {session.node} ended while the command ran in replica {c.replica}; "
                   f"its exit code is unknown")

    def forget(self, channel: ExecChannel) -> None:
        with self._lock:
            if self._channels.get(channel.exec_id) is channel:
                del self._channels[channel.exec_id]

    def open_count(self) -> int:
        with self._lock:
            return len(self._channels)


def relay(channel: ExecChannel, requests: Iterator[orchestra_pb2.ExecRequest], is_active: Callable[[], bool],
          stopping: Callable[[], bool]) -> Iterator[orchestra_pb2.ExecResponse]:
    """The responses of one Exec call, after its first request; the rest of `requests` is pumped
    to the node by a thread of its own."""
    pump = threading.Thread(target=_pump, args=(channel, requests, is_active),
                            name=f"exec-{channel.exec_id[:8]}", daemon=True)
    pump.start()
    try:
        while True:
            item = channel.next(POLL_S)
            if item is None:
                if stopping():
                    raise Unavailable("the plane is shutting down; the command was stopped")
                if not is_active():
                    return   # the user went away
                continue
            if isinstance(item, ExecEnd):
                if item.exit is not None:
                    yield orchestra_pb2.ExecResponse(exit=item.exit)
                    return
                raise item.failure
            stream, data = item
            yield orchestra_pb2.ExecResponse(**{stream: data})
            channel.took(len(data))   # resumed: gRPC took the message
    finally:
        channel.close()


def _pump(channel: ExecChannel, requests: Iterator[orchestra_pb2.ExecRequest], is_active: Callable[[], bool]) -> None:
    try:
        for req in requests:
            kind = req.WhichOneof("msg")
            if kind == "stdin":
                if not channel.send_stdin(req.stdin, is_active):
                    return
            elif kind == "stdin_eof":
                channel.close_stdin()
            elif kind == "resize":
                channel.resize(req.resize)
            elif kind == "command":
                raise InvalidArgument("only the first ExecRequest may be `command`")
            else:
                raise InvalidArgument("empty ExecRequest: none of command, stdin, stdin_eof, resize is set")
        channel.close_stdin()   # the user will send nothing more
    except PlaneError as exc:
        channel.fail(exc)
    except grpc.RpcError:
        pass   # the call was cancelled: the response side notices and cancels on the node
