"""`orchestra exec` against a real plane and agents on real dockerd engines: output and exit
codes, stdin, a TTY session driven through a real pseudo-terminal, refusals, a flood of output
into a reader that stalls, a CLI that goes away, and a node lost while a command runs."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import termios
import time

import psutil
from test_core import workload

from harness import wait_for
from tests.support.terminal import Terminal

DONE = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: done}
spec:
  replicas: 1
  template:
    image: local/busybox:1
    command: [sh, -c, "exit 3"]
    restartPolicy: Never
"""
MiB = 1024 * 1024


def exec_cli(cluster, *args: str, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """`orchestra exec ARGS` with bytes in and out (the harness's cli() is for text)."""
    return subprocess.run([sys.executable, "-m", "orchestra.cli.main", "exec", *args], input=stdin,
                          capture_output=True, env=cluster.env(), timeout=timeout)


def exec_popen(cluster, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "orchestra.cli.main", "exec", *args], env=cluster.env(), **kw)


def processes(cluster, node: str, workload_name: str) -> list[str]:
    """The command lines running in the workload's container, as its engine sees them."""
    [container] = cluster.containers(node, workload_name)
    top = container.top()
    return [" ".join(p[top["Titles"].index("CMD")].split()) for p in top["Processes"]]


def one_node_with_web(cluster, **cluster_options):
    for k, v in cluster_options.items():
        setattr(cluster, k, v)
    cluster.start_server()
    [node] = cluster.add_nodes(1)
    cluster.apply(workload(replicas=1))
    cluster.wait_running("web", 1)
    return node


def test_exec_output_exit_codes_stdin_and_refusals(cluster):
    one_node_with_web(cluster)

    res = exec_cli(cluster, "web-0", "--", "sh", "-c", "echo out; echo err >&2; echo more; exit 7")
    assert res.returncode == 7, res
    assert res.stdout == b"out\nmore\n" and res.stderr == b"err\n"     # kept apart

    res = exec_cli(cluster, "web-0", "--", "sh", "-c", "echo $GREETING from $(hostname)")
    assert res.returncode == 0 and res.stdout.startswith(b"hello from "), res   # the replica's own env

    res = exec_cli(cluster, "web-0", "--", "nosuch", "arg")
    assert res.returncode == 127, res
    assert res.stderr.decode().strip() == ('orchestra: cannot run "nosuch" in replica web-0: '
                                           'executable file not found in $PATH'), res
    res = exec_cli(cluster, "web-0", "--", "/etc")
    assert res.returncode == 126 and b'cannot run "/etc"' in res.stderr, res

    # -i: stdin and its end reach the command; without -i it reads nothing.
    res = exec_cli(cluster, "-i", "web-0", "--", "sh", "-c", "cat; echo end", stdin=b"hello\nworld\n")
    assert (res.returncode, res.stdout) == (0, b"hello\nworld\nend\n"), res
    res = exec_cli(cluster, "web-0", "--", "cat", stdin=b"not passed\n")
    assert (res.returncode, res.stdout) == (0, b""), res

    # Several windows' worth both ways at once: 3 MiB through cat, byte for byte, in order.
    data = os.urandom(3 * MiB)
    res = exec_cli(cluster, "-i", "web-0", "--", "cat", stdin=data)
    assert res.returncode == 0 and len(res.stdout) == len(data) and res.stdout == data, res.stderr

    res = exec_cli(cluster, "nope-0", "--", "true")
    assert (res.returncode, res.stderr.decode()) == (1, "orchestra: replica 'nope-0' not found\n")
    cluster.apply(DONE, check=False)
    wait_for("done-0 Exited", lambda: [r.get("phase") for r in cluster.replicas("done")] == ["Exited"])
    res = exec_cli(cluster, "done-0", "--", "true")
    assert res.returncode == 1, res
    assert res.stderr.decode().startswith("orchestra: replica done-0 is not running (Exited"), res
    assert len(res.stderr.decode().strip().splitlines()) == 1


def test_output_streams_as_it_comes_a_flood_is_held_back_and_a_cli_that_goes_away_stops_it(cluster):
    node = one_node_with_web(cluster)

    # Streamed as it comes: the first line is there while the command still runs.
    cli = exec_popen(cluster, "web-0", "--", "sh", "-c", "echo first; sleep 600", stdout=subprocess.PIPE)
    assert cli.stdout.readline() == b"first\n"
    assert cli.poll() is None
    wait_for("sleep 600 in the container", lambda: "sleep 600" in processes(cluster, node, "web"))
    cli.kill()                                   # goes away without a word
    cli.wait(10)
    wait_for("the exec's process gone from the container", lambda: "sleep 600" not in processes(cluster, node, "web"),
             timeout=30)

    # A flood into a reader that stalls: the command is slowed down, nothing piles up in the plane
    # or the agent, and the output is all there when the reader reads again.
    plane, agent = psutil.Process(cluster.server.pid), psutil.Process(cluster.agents[node].pid)
    before = plane.memory_info().rss, agent.memory_info().rss
    cli = exec_popen(cluster, "web-0", "--", "yes", "flood", stdout=subprocess.PIPE)
    assert cli.stdout.read(6) == b"flood\n"
    time.sleep(8)                                 # not reading: at tens of MB/s, hundreds of MB unheld
    after = plane.memory_info().rss, agent.memory_info().rss
    assert after[0] - before[0] < 64 * MiB, f"plane RSS grew {(after[0] - before[0]) / MiB:.0f} MiB"
    assert after[1] - before[1] < 64 * MiB, f"agent RSS grew {(after[1] - before[1]) / MiB:.0f} MiB"
    chunk = cli.stdout.read(4 * MiB)
    assert len(chunk) == 4 * MiB and chunk == b"flood\n" * (len(chunk) // 6) + b"flood\n"[:len(chunk) % 6]
    assert cli.poll() is None
    cli.send_signal(signal.SIGINT)                # Ctrl-C: the command is stopped on the node
    cli.communicate(timeout=30)
    assert cli.returncode == 130
    wait_for("yes gone from the container", lambda: "yes flood" not in processes(cluster, node, "web"), timeout=30)

    # A reader that has read enough (`| head`): exec ends quietly with 141 (SIGPIPE's), the command with it.
    res = subprocess.run(f"{sys.executable} -m orchestra.cli.main exec web-0 -- yes piped | head -n 2; "
                         "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                         env=cluster.env(), timeout=120)
    assert (res.stdout, res.stderr) == (b"piped\npiped\n141\n", b""), res
    wait_for("yes gone from the container", lambda: "yes piped" not in processes(cluster, node, "web"), timeout=30)


def test_exec_ends_with_a_clear_error_when_the_node_session_is_lost(cluster):
    node = one_node_with_web(cluster, node_grace_s=60.0)
    cli = exec_popen(cluster, "web-0", "--", "sh", "-c", "echo started; sleep 600",
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert cli.stdout.readline() == b"started\n"
    cluster.agents[node].kill9()
    assert cli.wait(30) == 1
    err = cli.stderr.read().decode()
    assert err == (f"orchestra: the session of node {node} ended while the command ran in replica web-0; "
                   f"its exit code is unknown\n"), err
    res = exec_cli(cluster, "web-0", "--", "true")
    assert (res.returncode, res.stderr.decode()) == (
        1, f"orchestra: node {node} of replica web-0 has no open session with the plane\n"), res


def test_tty_session_through_a_pseudo_terminal(cluster):
    one_node_with_web(cluster)
    term = Terminal(24, 80)
    before = term.attributes()
    cli = term.spawn([sys.executable, "-m", "orchestra.cli.main", "exec", "-it", "web-0", "--", "sh"], cluster.env())
    try:
        term.read_until(b"/ # ")                                    # busybox sh's prompt, through the TTY
        assert term.attributes()[3] & termios.ECHO == 0             # raw: the remote terminal echoes
        term.type("echo sum=$((6 * 7))\r")
        assert b"sum=42\r\n" in term.read_until(b"sum=42\r\n")
        term.type("busybox stty size\r")
        assert b"24 80\r\n" in term.read_until(b"24 80\r\n")
        term.resize(33, 101)                                         # SIGWINCH -> resize on the node
        time.sleep(1)
        term.type("busybox stty size\r")
        assert b"33 101\r\n" in term.read_until(b"33 101\r\n")
        term.type("tty; exit 5\r")
        assert b"/dev/pts/" in term.read_until(b"\r\n/dev/pts/")
        assert cli.wait(30) == 5
        assert term.attributes() == before                           # the terminal is itself again
    finally:
        if cli.poll() is None:
            cli.kill()
            cli.wait(10)
        term.close()
