"""The listening side of the data path: one TCP listener per (address, port) the routes ask for
(each service port on its virtual address, a published one on every address of the node),
each accepting in a thread of its own and handing every connection to `serve(conn, key)` on a
thread of its own. `update()` opens what is new and closes what is no longer wanted; a
connection already accepted carries on when its listener closes.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import Callable, Iterable

from agent.sockets import close_now

log = logging.getLogger("orchestra.agent")

Key = tuple[str, int]


class Listeners:
    def __init__(self, serve: Callable[[socket.socket, Key], None]):
        self.serve = serve
        self._open: dict[Key, socket.socket] = {}
        self._failed: dict[Key, str] = {}
        self._lock = threading.Lock()

    def update(self, wanted: Iterable[Key]) -> dict[Key, str]:
        """Listen on exactly `wanted`; returns the keys that cannot be listened on, with why
        (tried again on the next update)."""
        wanted = set(wanted)
        with self._lock:
            for key in [k for k in self._open if k not in wanted]:
                close_now(self._open.pop(key))
            failed = {}
            for key in wanted - set(self._open):
                try:
                    self._open[key] = self._listen(key)
                except OSError as e:
                    failed[key] = e.strerror or str(e)
                    if self._failed.get(key) != failed[key]:
                        log.warning("service listener %s:%d: %s", key[0], key[1], failed[key])
            self._failed = failed
            return failed

    def _listen(self, key: Key) -> socket.socket:
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(key)
            s.listen(512)
        except OSError:
            s.close()
            raise
        threading.Thread(target=self._accept, args=(s, key), name=f"svc-{key[0]}:{key[1]}", daemon=True).start()
        return s

    def _accept(self, s: socket.socket, key: Key) -> None:
        while True:
            try:
                conn, _ = s.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn, key), name="svc-conn", daemon=True).start()

    def keys(self) -> set[Key]:
        with self._lock:
            return set(self._open)

    def close(self) -> None:
        self.update(())

