"""Connecting to a container's port whatever its network mode (bridge, host, none), for the
httpGet and tcpSocket probes.

The agent may run outside the container's network namespace: a container with network
"host" in an engine that has its own namespace, or "none" (loopback only). So the connection
is made from inside the container's namespace: a short-lived thread opens
/proc/<container pid>/ns/net, joins it with setns(2) (which moves only the calling thread)
and connects to 127.0.0.1:PORT. A socket keeps the namespace it was made in, so the caller
then uses it from its own thread. The thread ends right after, so no other work ever runs in
the container's namespace.

setns needs CAP_SYS_ADMIN (the agent runs as root on nodes). Without it, the connection goes
to the container's own address on the bridge, and a failure says which way was tried.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import socket
import threading
from typing import NamedTuple

CLONE_NEWNET = 0x40000000
_libc = None


class ConnectFailed(Exception):
    """str() says what happened and which way the agent tried."""


class NamespaceUnavailable(Exception):
    """The agent cannot enter the namespace (not root, or the process is gone)."""


class Connection(NamedTuple):
    sock: socket.socket
    host: str           # the address connected to
    where: str          # for messages: "127.0.0.1:8080 in the container's network namespace"


def connect(pid: int, ip: str, port: int, timeout: float) -> Connection:
    """A socket connected to the container's `port`; raises ConnectFailed."""
    try:
        sock = _connect_inside(pid, port, timeout)
        return Connection(sock, "127.0.0.1", f"127.0.0.1:{port} in the container's network namespace")
    except NamespaceUnavailable as e:
        why = str(e)
    except OSError as e:
        raise ConnectFailed(f"{describe(e, timeout)} (127.0.0.1:{port} in the container's "
                            f"network namespace)") from e
    if not ip:
        raise ConnectFailed(f"cannot reach port {port}: cannot enter the container's network "
                            f"namespace ({why}) and it has no IP address")
    try:
        return Connection(socket.create_connection((ip, port), timeout=timeout), ip,
                          f"{ip}:{port}, its bridge address")
    except OSError as e:
        raise ConnectFailed(f"{describe(e, timeout)} ({ip}:{port}, its bridge address; "
                            f"cannot enter its network namespace: {why})") from e


def describe(e: BaseException, timeout: float | None = None) -> str:
    if isinstance(e, socket.timeout):
        return f"timed out after {timeout:g}s" if timeout else "timed out"
    if isinstance(e, ConnectionRefusedError):
        return "connection refused"
    if isinstance(e, ConnectionResetError):
        return "connection reset"
    if isinstance(e, OSError) and e.strerror:
        return e.strerror.lower()
    return str(e) or type(e).__name__


def _connect_inside(pid: int, port: int, timeout: float) -> socket.socket:
    out: dict = {}

    def run() -> None:
        try:
            _enter(pid)
        except NamespaceUnavailable as e:
            out["error"] = e
            return
        try:
            out["sock"] = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        except OSError as e:
            out["error"] = e

    t = threading.Thread(target=run, name=f"netns-{pid}", daemon=True)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["sock"]


def _enter(pid: int) -> None:
    """Move the calling thread into the network namespace of process `pid`."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    try:
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as e:
        raise NamespaceUnavailable(f"open /proc/{pid}/ns/net: {e.strerror}") from e
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise NamespaceUnavailable(f"setns: {os.strerror(err)}"
                                       + (" (the agent is not root)" if err == errno.EPERM else ""))
    finally:
        os.close(fd)
