"""agent.sockets.close_now wakes the thread that waits on the socket, which close() alone does not."""
from __future__ import annotations

import socket
import threading
import time

from agent.sockets import close_now


def test_close_now_wakes_a_blocked_reader_and_closes():
    a, b = socket.socketpair()
    got = []
    waiting = threading.Event()

    def read():
        waiting.set()
        try:
            got.append(a.recv(10))
        except OSError as e:      # close_now came before recv() started: woken all the same
            got.append(e)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    waiting.wait(10)
    time.sleep(0.2)               # let it block in recv()
    close_now(a)
    reader.join(timeout=10)
    assert not reader.is_alive() and len(got) == 1
    assert a.fileno() == -1
    b.close()


def test_close_now_of_a_socket_never_connected():
    s = socket.socket()
    close_now(s)
    assert s.fileno() == -1
