"""agent.exec against a real engine: the agent keeps to the plane's credit (the command blocks,
nothing piles up), resumes when granted more, kills a cancelled command, and refuses a replica
it does not run now."""
from __future__ import annotations

import queue
import time

import pytest

from agent.exec import Execs
from agent.runtime.docker import DockerRuntime
from orchestra.api import agent_pb2, types_pb2
from test_agent_runtime import spec


@pytest.fixture
def running(engine):
    """A running container of replica web-1 (incarnation 2), and the Execs of an agent running it."""
    rt = DockerRuntime(engine.host, "node-a", network="none", stop_timeout_s=1)
    cid = rt.create(spec())
    rt.start(cid)
    sent: queue.Queue = queue.Queue()
    execs = Execs(rt, lambda: {"web-1": cid}, "node-a")
    yield execs, sent, cid
    execs.cancel_all()
    rt.remove(cid, grace_s=0)
    rt.close()


def start(execs, sent, exec_id, command, window=64 * 1024, **kw):
    execs.start(agent_pb2.ExecStart(exec_id=exec_id, replica_id=kw.pop("replica", "web-1"), command=command,
                                    incarnation=kw.pop("incarnation", 2), output_window=window,
                                    stdin_window=64 * 1024, **kw), sent.put)


def collect(sent, seconds: float) -> list[agent_pb2.ExecOutput]:
    """What the agent sent within `seconds` (or until its last message)."""
    out, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            m = sent.get(timeout=max(0.01, deadline - time.monotonic())).exec
        except queue.Empty:
            break
        out.append(m)
        if m.HasField("exit") or m.error:
            break
    return out


def output(msgs) -> int:
    return sum(len(m.stdout) + len(m.stderr) for m in msgs)


def exec_processes(engine, cid) -> list[str]:
    with engine.client() as c:
        top = c.api.top(cid)
    return [" ".join(p[top["Titles"].index("CMD")].split()) for p in top["Processes"]]


def test_output_keeps_to_the_credit_resumes_when_granted_and_a_cancel_kills(engine, running):
    execs, sent, cid = running
    start(execs, sent, "x1", ["yes", "flood"], window=64 * 1024)
    first = collect(sent, 5)
    assert output(first) == 64 * 1024                     # exactly the window, then it stops
    assert output(collect(sent, 2)) == 0                   # and stays stopped: the command blocks
    assert "yes flood" in exec_processes(engine, cid)

    execs.input(agent_pb2.ExecInput(exec_id="x1", output_credit=100_000))
    assert output(collect(sent, 5)) == 100_000
    assert b"".join(m.stdout for m in first).startswith(b"flood\nflood\n")

    execs.cancel("x1")
    [last] = [m for m in collect(sent, 10) if m.error or m.HasField("exit")]
    assert last.error == "cancelled"
    deadline = time.monotonic() + 10
    while "yes flood" in exec_processes(engine, cid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "yes flood" not in exec_processes(engine, cid)
    assert execs.running() == []


def test_stdin_credit_comes_back_as_the_command_takes_it(running):
    execs, sent, _ = running
    start(execs, sent, "x2", ["sh", "-c", "cat >/dev/null; echo took"], stdin=True)
    for _ in range(4):
        execs.input(agent_pb2.ExecInput(exec_id="x2", stdin=b"x" * 16 * 1024))
    execs.input(agent_pb2.ExecInput(exec_id="x2", stdin_eof=True))
    msgs = collect(sent, 20)
    assert sum(m.stdin_credit for m in msgs) == 64 * 1024
    assert b"".join(m.stdout for m in msgs) == b"took\n"
    assert msgs[-1].exit.exit_code == 0


def test_refusals_say_why(running):
    execs, sent, _ = running
    start(execs, sent, "x3", ["true"], replica="web-9")
    [m] = collect(sent, 10)
    assert m.error == "replica web-9 is not running on node node-a" and not m.HasField("exit")
    start(execs, sent, "x4", ["true"], incarnation=3)
    [m] = collect(sent, 10)
    assert m.error == "replica web-1 on node node-a runs incarnation 2, not 3 (it is being replaced)"
    start(execs, sent, "x5", ["nosuch"])
    [m] = collect(sent, 10)
    assert (m.exit.exit_code, m.exit.error) == (
        127, 'cannot run "nosuch" in replica web-1: executable file not found in $PATH')


def test_tty_takes_the_size_of_the_start_before_any_input(running):
    execs, sent, _ = running
    start(execs, sent, "x6", ["sh"], tty=True, stdin=True, size=types_pb2.TerminalSize(rows=31, cols=97))
    execs.input(agent_pb2.ExecInput(exec_id="x6", stdin=b"busybox stty size; exit 2\n"))
    msgs = collect(sent, 20)
    text = b"".join(m.stdout for m in msgs)
    assert b"31 97\r\n" in text and not any(m.stderr for m in msgs)
    assert msgs[-1].exit.exit_code == 2
