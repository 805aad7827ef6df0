"""Recording events and waking those who watch them."""
from __future__ import annotations

import threading
from typing import Callable

from orchestra.store.base import Store

NORMAL = "Normal"
WARNING = "Warning"


class EventLog:
    def __init__(self, store: Store, clock_ms: Callable[[], int]):
        self.store = store
        self.clock_ms = clock_ms
        self._changed = threading.Condition()

    def emit(self, kind: str, obj: str, type_: str, reason: str, message: str) -> int:
        """Joins the caller's transaction when there is one."""
        event_id = self.store.add_event(self.clock_ms(), kind, obj, type_, reason, message)
        with self._changed:
            self._changed.notify_all()
        return event_id

    def wait(self, timeout: float) -> None:
        """Returns when an event was emitted, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait(timeout)

    def wake_all(self) -> None:
        with self._changed:
            self._changed.notify_all()
