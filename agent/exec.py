"""The plane's ExecStarts: a user's command in the container of a replica this agent runs now
(Docker's exec), its output streamed back over the session as it comes, its stdin written as
it arrives, its terminal resized, its exit code read from the engine.

Each exec has a thread of its own for its output (and one more for its stdin), so a slow
command never holds up the session. Output is sent only within the credit the plane granted
(ExecStart.output_window, then ExecInput.output_credit): without credit the thread stops
reading, the engine's buffers fill and the command blocks on its next write. Stdin is queued
up to the plane's stdin_window and credit is given back as the command takes it. See
agent.proto (ExecStart) for the protocol and docs/internals.md (Exec) for the whole path.

Docker cannot kill an exec, so a cancelled one (the user went away) is killed by its process
id, after checking that the process still belongs to the replica's container.
"""
from __future__ import annotations

import logging
import os
import queue
import re
import signal
import threading
import time
from typing import Callable

from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from agent.runtime.docker_exec import STDERR, FrameParser
from orchestra.api import agent_pb2, types_pb2

log = logging.getLogger("orchestra.agent")

OUTPUT_CHUNK = 32 * 1024       # the most output one message carries
MAX_EXECS = 64                 # running at once on this node
START_WAIT_S = 30.0            # for the engine to start the command
EXIT_WAIT_S = 10.0             # for the engine to record the exit code once the stream ended
_START_FAILED = re.compile(r'exec: "(?P<what>[^"]*)": (?P<why>.*?)(?:: unknown)?\s*$', re.S)

Send = Callable[[agent_pb2.AgentMessage], None]


def cannot_run(message: str, replica: str) -> tuple[int, str]:
    """(exit code, one line) for the engine's words when a command could not be started, e.g.
    `OCI runtime exec failed: ... exec: "nosuch": executable file not found in $PATH: unknown`:
    127 for a command that is not there, 126 for one that is there but cannot run (a shell's codes)."""
    text = " ".join(message.split())
    m = _START_FAILED.search(text)
    line = f'cannot run "{m["what"]}" in replica {replica}: {m["why"]}' if m else \
        f"cannot run the command in replica {replica}: {text or 'the engine did not start it'}"
    low = text.lower()
    return (127 if "not found" in low or "no such file" in low else 126), line


class Execs:
    """The execs of this agent, by the plane's exec id."""

    def __init__(self, runtime: DockerRuntime, running_containers: Callable[[], dict[str, str]], node: str):
        self.runtime = runtime
        self.running_containers = running_containers   # replica id -> container id, Running ones
        self.node = node
        self._execs: dict[str, RunningExec] = {}
        self._lock = threading.Lock()

    def start(self, req: agent_pb2.ExecStart, send: Send) -> None:
        ex = RunningExec(req, self, send)
        with self._lock:
            busy = len(self._execs) >= MAX_EXECS
            duplicate = req.exec_id in self._execs
            if not busy and not duplicate:
                self._execs[req.exec_id] = ex
        if busy or duplicate:
            ex.finish(error=f"node {self.node} already runs {MAX_EXECS} execs; try again when one has ended"
                      if busy else f"exec {req.exec_id} is already running")
            return
        threading.Thread(target=ex.run, name=f"exec-{req.exec_id[:8]}", daemon=True).start()

    def input(self, req: agent_pb2.ExecInput) -> None:
        ex = self._get(req.exec_id)
        if ex is None:
            return   # ended already; its last message is on the way
        if req.output_credit > 0:
            ex.grant(req.output_credit)
        if req.stdin:
            ex.write(bytes(req.stdin))
        if req.stdin_eof:
            ex.write(None)

    def resize(self, req: agent_pb2.ExecResize) -> None:
        ex = self._get(req.exec_id)
        if ex is not None:
            ex.resize(req.size)

    def cancel(self, exec_id: str) -> None:
        ex = self._get(exec_id)
        if ex is not None:
            ex.cancel()

    def cancel_all(self) -> None:
        """The session ended: nobody is left to read the output."""
        with self._lock:
            running = list(self._execs.values())
        for ex in running:
            ex.cancel()

    def running(self) -> list[str]:
        with self._lock:
            return list(self._execs)

    def _get(self, exec_id: str) -> "RunningExec | None":
        with self._lock:
            return self._execs.get(exec_id)

    def _forget(self, ex: "RunningExec") -> None:
        with self._lock:
            if self._execs.get(ex.req.exec_id) is ex:
                del self._execs[ex.req.exec_id]


_EOF = None


class RunningExec:
    def __init__(self, req: agent_pb2.ExecStart, execs: Execs, send: Send):
        self.req = req
        self.execs = execs
        self.runtime = execs.runtime
        self._send = send
        self._cond = threading.Condition()
        self._credit = max(0, req.output_window)
        self._cancelled = False
        self._conn = None
        self._exec_id = ""            # the engine's
        self._container = ""
        self._stdin: queue.Queue = queue.Queue()
        self._stdin_queued = 0
        self._finished = False
        self._size = req.size          # the newest size asked for (TTY)
        self._resized = threading.Event()
        self._applied: tuple[int, int] | None = None
        self._tty_sized = threading.Event()

    # -- from the session's thread: never blocks on the engine --

    def grant(self, n: int) -> None:
        with self._cond:
            self._credit += n
            self._cond.notify_all()

    def write(self, data: bytes | None) -> None:
        if not self.req.stdin:
            return
        with self._cond:
            if data:
                self._stdin_queued += len(data)
                over = self.req.stdin_window > 0 and self._stdin_queued > self.req.stdin_window
            else:
                over = False
        if over:
            log.warning("exec %s: the plane sent more stdin than its window; cancelled", self.req.exec_id)
            self.cancel()
            return
        self._stdin.put(data)

    def resize(self, size: types_pb2.TerminalSize) -> None:
        if self.req.tty and size.rows and size.cols:
            with self._cond:
                self._size = size
            self._resized.set()

    def cancel(self) -> None:
        with self._cond:
            if self._cancelled:
                return
            self._cancelled = True
            conn = self._conn
            self._cond.notify_all()
        self._stdin.put(_EOF)
        if conn is not None:
            conn.close()    # wakes the output thread, which kills the command

    # -- the exec's own thread --

    def run(self) -> None:
        try:
            self._run()
        except RuntimeUnavailable as e:
            self.finish(error=f"the container engine of node {self.execs.node} is unavailable: {e}")
        except ContainerError as e:
            self.finish(error=f"cannot exec in replica {self.req.replica_id}: {e}")
        except Exception as e:   # a bug must end this exec only, never the agent
            log.exception("exec %s failed", self.req.exec_id)
            self.finish(error=f"agent error: {e}")
        finally:
            if self._conn is not None:
                self._conn.close()

    def _run(self) -> None:
        req = self.req
        refusal = self._find_container()
        if refusal:
            self.finish(error=refusal)
            return
        exec_id = self.runtime.exec_create(self._container, list(req.command), req.tty, req.stdin)
        conn = self.runtime.exec_attach(exec_id, req.tty)
        with self._cond:
            self._exec_id, self._conn = exec_id, conn
        if req.stdin:
            threading.Thread(target=self._write_stdin, name=f"exec-in-{req.exec_id[:8]}", daemon=True).start()
        info = self._wait_started()
        if self._is_cancelled():   # also when cancelled before it started: it must not run on unattended
            self._kill()
            self.finish(error="cancelled")
            return
        if not info.get("Pid"):
            # It never ran: what the stream holds is the engine's reason.
            code, line = cannot_run(self._read_all(conn).decode(errors="replace"), req.replica_id)
            self.finish(exit_code=code, error=line)
            return
        if req.tty:
            # Stdin waits for the first size: a command typed at once must see the right one.
            self._apply_size()
            self._tty_sized.set()
            threading.Thread(target=self._follow_sizes, name=f"exec-tty-{req.exec_id[:8]}", daemon=True).start()
        broke = self._pump(conn)
        if self._is_cancelled():
            self._kill()
            self.finish(error="cancelled")
            return
        code = self._exit_code()
        if code is None:
            self.finish(error=broke or f"the engine did not report the exit code within {EXIT_WAIT_S:.0f}s")
        else:
            self.finish(exit_code=code)

    def _find_container(self) -> str:
        """The container to exec in, or why there is none."""
        req, node = self.req, self.execs.node
        cid = self.execs.running_containers().get(req.replica_id)
        if not cid:
            return f"replica {req.replica_id} is not running on node {node}"
        c = self.runtime.inspect(cid)
        if c.state != "running":
            return f"the container of replica {req.replica_id} on node {node} is {c.state or 'gone'}"
        if req.incarnation and c.incarnation != req.incarnation:
            return (f"replica {req.replica_id} on node {node} runs incarnation {c.incarnation}, not "
                    f"{req.incarnation} (it is being replaced)")
        self._container = cid
        return ""

    def _wait_started(self) -> dict:
        """The exec's state once the engine has started the command (Pid) or given up on it
        (ExitCode without a Pid). Output is not read meanwhile: before the command runs, the
        stream can only hold the engine's reason why it did not start."""
        deadline = time.monotonic() + START_WAIT_S
        pause = 0.002
        while True:
            info = self.runtime.exec_inspect(self._exec_id)
            if info.get("Pid") or info.get("ExitCode") is not None:
                return info
            if time.monotonic() > deadline:
                raise ContainerError(f"the engine did not start the command within {START_WAIT_S:.0f}s")
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def _pump(self, conn) -> str:
        """Output to the plane within credit, until the stream ends. Returns why it broke ("" at its end)."""
        parser = None if self.req.tty else FrameParser()
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._credit > 0 or self._cancelled)
                if self._cancelled:
                    return ""
                limit = min(OUTPUT_CHUNK, self._credit)
            try:
                data = conn.read(limit)
            except OSError as e:
                return "" if self._is_cancelled() else f"the exec's stream broke: {e}"
            if not data:
                if parser is not None and parser.pending:
                    return "the exec's stream ended in the middle of a frame"
                return ""
            parts = [(1, data)] if parser is None else parser.feed(data)
            for stream, part in parts:
                with self._cond:
                    self._credit -= len(part)
                field = "stderr" if stream == STDERR else "stdout"
                self._send(agent_pb2.AgentMessage(exec=agent_pb2.ExecOutput(
                    exec_id=self.req.exec_id, **{field: part})))

    def _write_stdin(self) -> None:
        conn = self._conn
        window = self.req.stdin_window
        unreturned = 0
        broken = False
        if self.req.tty:
            self._tty_sized.wait(START_WAIT_S)
        while True:
            data = self._stdin.get()
            if data is _EOF:
                if not self._is_cancelled():
                    conn.close_stdin()
                return
            if not broken:
                try:
                    conn.write(data)
                except OSError:
                    broken = True   # the command is gone or closed its stdin: the rest is dropped
            with self._cond:
                self._stdin_queued -= len(data)
            unreturned += len(data)
            if unreturned >= max(1, window // 2) or self._stdin.empty():
                self._send(agent_pb2.AgentMessage(exec=agent_pb2.ExecOutput(
                    exec_id=self.req.exec_id, stdin_credit=unreturned)))
                unreturned = 0

    def _exit_code(self) -> int | None:
        deadline = time.monotonic() + EXIT_WAIT_S
        while True:
            info = self.runtime.exec_inspect(self._exec_id)
            if not info.get("Running") and info.get("ExitCode") is not None:
                return int(info["ExitCode"])
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)

    def _read_all(self, conn, limit: int = 4096) -> bytes:
        parser = None if self.req.tty else FrameParser()
        out = b""
        while len(out) < limit:
            try:
                data = conn.read(limit)
            except OSError:
                break
            if not data:
                break
            out += data if parser is None else b"".join(p for _, p in parser.feed(data))
        return out

    def _follow_sizes(self) -> None:
        """Resize the TTY whenever asked (a burst of resizes while the engine answers costs one call)."""
        while True:
            self._resized.wait()
            self._resized.clear()
            with self._cond:
                if self._finished:
                    return
            self._apply_size()

    def _apply_size(self) -> None:
        """The newest size asked for, unless it is the one the TTY has."""
        with self._cond:
            size = self._size
        if not size.rows or not size.cols or (size.rows, size.cols) == self._applied:
            return
        try:
            self.runtime.exec_resize(self._exec_id, size.rows, size.cols)
            self._applied = (size.rows, size.cols)
        except (ContainerError, RuntimeUnavailable) as e:
            log.info("exec %s: resize to %dx%d failed: %s", self.req.exec_id, size.rows, size.cols, e)

    def _kill(self) -> None:
        """Kill the command of a cancelled exec (and, with a TTY, its session's process group),
        if its process is still this container's."""
        try:
            info = self.runtime.exec_inspect(self._exec_id)
        except (ContainerError, RuntimeUnavailable):
            return
        pid = int(info.get("Pid") or 0)
        if not info.get("Running") or not pid:
            return
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                ours = self._container in f.read()
        except OSError:
            ours = False
        if not ours:
            log.warning("exec %s: process %d is not visible as container %s's from this agent; it is left running",
                        self.req.exec_id, pid, self._container[:12])
            return
        try:
            if self.req.tty and os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)   # the TTY's session leader: its jobs go with it
            else:
                os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass                                 # it ended meanwhile
        except PermissionError as e:
            log.warning("exec %s: cannot kill process %d: %s", self.req.exec_id, pid, e)

    def _is_cancelled(self) -> bool:
        with self._cond:
            return self._cancelled

    def finish(self, exit_code: int | None = None, error: str = "") -> None:
        """The exec's last message, once."""
        with self._cond:
            if self._finished:
                return
            self._finished = True
        self.execs._forget(self)
        self._resized.set()
        self._tty_sized.set()
        self._stdin.put(_EOF)
        end = agent_pb2.ExecOutput(exec_id=self.req.exec_id)
        if exit_code is None:
            end.error = error or "the exec ended without an exit code"
        else:
            end.exit.exit_code = exit_code
            end.exit.error = error
        if error and exit_code is None:
            log.info("exec %s in %s: %s", self.req.exec_id, self.req.replica_id, error)
        self._send(agent_pb2.AgentMessage(exec=end))
