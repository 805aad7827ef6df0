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

    def history(self, obj: str = "", limit: int = 0) -> tuple[list, int]:
        """(events oldest first, the newest id when listed). The id is read first and the list cut at
        it, so that watching after it neither repeats nor misses an event."""
        last_id = self.store.last_event_id()
        found = [e for e in self.store.list_events(obj=obj) if e.id <= last_id]
        return (found[-limit:] if limit > 0 else found), last_id

    def wait(self, timeout: float) -> None:
        """Returns when an event was emitted, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait(timeout)

    def wake_all(self) -> None:
        with self._changed:
            self._changed.notify_all()
