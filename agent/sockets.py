"""Closing a socket that another thread may be blocked on."""
from __future__ import annotations

import socket


def close_now(sock: socket.socket) -> None:
    """Shut both directions down first: close() alone does not wake a thread blocked in recv() or
    accept() on the socket, shutdown() does (it then sees end-of-file or an error)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass            # never connected, or the peer is gone already
    sock.close()
