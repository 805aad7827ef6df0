"""What `--watch` stands on: the plane's event stream, read on a thread so that a watcher can
wait for the next events with a time-out.

Every change the plane makes to a node, workload or replica records an event, so a watcher
re-lists when events arrive instead of polling; it also re-lists every RESYNC_S seconds for the
few changes that record none (a replica going from Scheduled to Starting, usage samples).
To miss nothing between its first list and the stream, a watcher reads the newest event id
first (ListEvents) and watches after it.
"""
from __future__ import annotations

import queue
import threading

import grpc

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.failure import CliError

RESYNC_S = 10.0
_END = object()


def newest_event_id(target) -> int:
    return target.call("ListEvents", pb.ListEventsRequest(limit=1)).last_id


class EventFeed:
    """Events after `after_id` (0: from now on), for object `obj` ("" for all)."""

    def __init__(self, target, after_id: int, obj: str = "") -> None:
        self._target = target
        self._queue: queue.Queue = queue.Queue()
        self._call = target.stub().WatchEvents(pb.WatchEventsRequest(after_id=after_id, object=obj))
        self._closed = False
        threading.Thread(target=self._read, name="watch-events", daemon=True).start()

    def _read(self) -> None:
        try:
            for event in self._call:
                self._queue.put(event)
            self._queue.put(_END)
        except grpc.RpcError as e:
            self._queue.put(_END if self._closed else self._target.failure(e))

    def next(self, timeout: float | None) -> list:
        """The events that have arrived, waiting up to `timeout` seconds for the first ([] if none).
        Raises CliError when the stream fails, e.g. the plane stopped."""
        try:
            items = [self._queue.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        events = []
        for item in items:
            if isinstance(item, CliError):
                raise item
            if item is _END:
                raise CliError(f"the control plane at {self._target.address} ended the watch")
            events.append(item)
        return events

    def close(self) -> None:
        self._closed = True
        self._call.cancel()
