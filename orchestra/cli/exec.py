"""`orchestra exec REPLICA [-i] [-t] -- CMD [ARGS...]`: a command in a replica's container,
through the plane (Orchestra.Exec) and the node agent's own stream.

Its stdout goes to ours and its stderr to ours (a TTY has one stream), as they come; its exit
code is ours (126: it could not be run, 127: not found, as a shell says). `-i` passes our stdin
(its end too); `-t` gives it a pseudo-terminal: our terminal goes into raw mode, so keys such as
Ctrl-C and Ctrl-D reach the command, until we end, whichever way we end, and a resize of our
window (SIGWINCH) resizes its terminal. Failures of orchestra itself (replica not found, not
running, its node not connected, the node lost meanwhile) exit 1 with one line on stderr.
"""
from __future__ import annotations

import os
import queue
import signal
import sys
import threading
from contextlib import contextmanager
from typing import Iterator

import click
import grpc

from orchestra.api import orchestra_pb2 as pb
from orchestra.api import types_pb2
from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError

STDIN_CHUNK = 32 * 1024
STDIN_AHEAD = 4             # chunks read ahead of what gRPC has taken: the rest waits in our stdin
EXIT_INTERRUPTED = 130      # 128 + SIGINT, as a shell reports a command ended by Ctrl-C
EXIT_BROKEN_PIPE = 141      # 128 + SIGPIPE: whoever read our output went away
# gRPC codes whose details are the plane's own one-line explanation of an exec that did not run
# or did not end (the connection itself was fine).
_EXPLAINED = (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED,
              grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
_END = object()


def terminal_size(*fds: int) -> types_pb2.TerminalSize | None:
    """The size of the first of `fds` that is a terminal."""
    for fd in fds:
        try:
            cols, rows = os.get_terminal_size(fd)
        except OSError:
            continue
        if rows and cols:
            return types_pb2.TerminalSize(rows=rows, cols=cols)
    return None


@contextmanager
def raw_terminal(fd: int) -> Iterator[None]:
    """`fd`'s terminal in raw mode, restored on every way out: a return, an exception, Ctrl-C
    (which raw mode passes to the command anyway), SIGTERM or SIGHUP (turned into SystemExit)."""
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    handlers = {}

    def leave(signum, frame):
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        handlers[sig] = signal.signal(sig, leave)
    try:
        tty.setraw(fd, termios.TCSANOW)
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


class Requests:
    """The request stream of one Exec call: the command, then stdin chunks read by a thread of
    their own (at most STDIN_AHEAD ahead of gRPC), resizes from SIGWINCH, and the end."""

    def __init__(self, first: pb.ExecRequest):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()   # put() is safe in a signal handler
        self._queue.put(first)
        self._slots = threading.Semaphore(STDIN_AHEAD)

    def __iter__(self):
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if item.WhichOneof("msg") == "stdin":
                self._slots.release()
            yield item

    def read_stdin(self, fd: int) -> None:
        def run():
            while True:
                self._slots.acquire()
                try:
                    data = os.read(fd, STDIN_CHUNK)
                except OSError:
                    data = b""
                if not data:
                    self._queue.put(pb.ExecRequest(stdin_eof=True))
                    return
                self._queue.put(pb.ExecRequest(stdin=data))
        threading.Thread(target=run, name="stdin", daemon=True).start()

    def resize(self, size: types_pb2.TerminalSize) -> None:
        self._queue.put(pb.ExecRequest(resize=size))

    def end(self) -> None:
        self._queue.put(_END)


@click.command("exec", context_settings={"ignore_unknown_options": True})
@click.option("-i", "--stdin", "stdin", is_flag=True, help="pass stdin to the command")
@click.option("-t", "--tty", "tty", is_flag=True, help="give the command a terminal (with -i: an interactive session)")
@click.argument("replica")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
@click.pass_context
def exec_(ctx: click.Context, replica: str, command: tuple[str, ...], stdin: bool, tty: bool) -> None:
    """Run COMMAND in REPLICA's container, e.g. `orchestra exec web-0 -- ls /` or
    `orchestra exec -it web-0 -- sh`. Exits with the command's exit code."""
    target = cli_context(ctx).target
    in_fd, out_fd = sys.stdin.fileno() if stdin else -1, sys.stdout.fileno()
    size = terminal_size(out_fd, in_fd) if tty else None
    requests = Requests(pb.ExecRequest(command=pb.ExecCommand(
        replica=replica, command=list(command), tty=tty, stdin=stdin, size=size)))
    interactive = tty and stdin and os.isatty(in_fd)
    with (raw_terminal(in_fd) if interactive else _nothing()), _resizes(requests, tty, out_fd, in_fd):
        code = _run(target, requests, stdin, in_fd)
    ctx.exit(code)


def _run(target, requests: Requests, stdin: bool, in_fd: int) -> int:
    call = target.stub().Exec(iter(requests))
    if stdin:
        requests.read_stdin(in_fd)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    try:
        for response in call:
            kind = response.WhichOneof("msg")
            if kind == "stdout":
                out.write(response.stdout)
                out.flush()
            elif kind == "stderr":
                err.write(response.stderr)
                err.flush()
            elif kind == "exit":
                if response.exit.error:
                    _say(response.exit.error)
                return response.exit.exit_code
        raise CliError("the control plane ended the exec without the command's exit code")
    except grpc.RpcError as e:
        if e.code() in _EXPLAINED and e.details():
            raise CliError(e.details()) from None
        raise target.failure(e) from None
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED       # the call is cancelled below: the plane stops the command
    except BrokenPipeError:
        # Whoever read our output is gone (`| head`): nothing more to say to them, also not at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    finally:
        call.cancel()
        requests.end()


def _say(line: str) -> None:
    """A line on stderr that reads right in raw mode too."""
    sys.stderr.write(f"orchestra: {line}\r\n" if _raw(sys.stderr) else f"orchestra: {line}\n")
    sys.stderr.flush()


def _raw(stream) -> bool:
    try:
        import termios
        return stream.isatty() and not termios.tcgetattr(stream.fileno())[1] & termios.OPOST
    except (OSError, ValueError, ImportError):
        return False


@contextmanager
def _resizes(requests: Requests, tty: bool, *fds: int) -> Iterator[None]:
    """With a TTY: each SIGWINCH sends our terminal's new size."""
    if not tty or not hasattr(signal, "SIGWINCH") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def resized(signum, frame):
        size = terminal_size(*fds)
        if size is not None:
            requests.resize(size)

    previous = signal.signal(signal.SIGWINCH, resized)
    try:
        yield
    finally:
        signal.signal(signal.SIGWINCH, previous)


@contextmanager
def _nothing() -> Iterator[None]:
    yield

