"""agent.sockets.close_now wakes the thread that waits on the socket, which close() alone does not."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from agent.sockets import close_now


def test_close_now_wakes_a_blocked_reader_and_closes():
    # The reader must be inside recv() when close_now runs: closed before that, recv() fails at once
    # (EBADF), which proves nothing, so that round is tried again. A reader close_now does not
    # wake stays blocked and fails the test.
    got: list = []
    for _ in range(20):
        a, b = socket.socketpair()
        got = []

        def read(sock=a, out=got):
            try:
                out.append(sock.recv(10))
            except OSError as e:
                out.append(e)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        time.sleep(0.05)
        close_now(a)
        reader.join(timeout=10)
        b.close()
        assert not reader.is_alive(), "close_now left the reader blocked in recv()"
        assert a.fileno() == -1
        if got == [b""]:
            return
    pytest.fail(f"the reader never got into recv() before close_now: {got}")


def test_close_now_of_a_socket_never_connected():
    s = socket.socket()
    close_now(s)
    assert s.fileno() == -1
