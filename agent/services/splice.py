"""Copy bytes both ways between two connected sockets until both directions have ended."""
from __future__ import annotations

import socket
import threading

CHUNK = 64 * 1024


def _pump(src: socket.socket, dst: socket.socket) -> None:
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        while True:
            n = src.recv_into(buf)
            if not n:
                break
            dst.sendall(view[:n])
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)    # half-close: the other side may still answer
        except OSError:
            pass


def splice(a: socket.socket, b: socket.socket) -> None:
    """Blocks until both directions are done, then closes both sockets."""
    for s in (a, b):
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    other = threading.Thread(target=_pump, args=(b, a), name="splice", daemon=True)
    other.start()
    _pump(a, b)
    other.join()
    a.close()
    b.close()
