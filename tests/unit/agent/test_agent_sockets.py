"""agent.sockets.close_now wakes the thread that waits on the socket, which close() alone does not."""
from __future__ import annotations

import socket
import threading

from agent.sockets import close_now


def test_close_now_wakes_a_blocked_reader_and_closes():
    a, b = socket.socketpair()
    got = []
    reader = threading.Thread(target=lambda: got.append(a.recv(10)), daemon=True)
    reader.start()
    close_now(a)
    reader.join(timeout=10)
    assert not reader.is_alive() and got == [b""]
    assert a.fileno() == -1
    b.close()


def test_close_now_of_a_socket_never_connected():
    s = socket.socket()
    close_now(s)
    assert s.fileno() == -1
