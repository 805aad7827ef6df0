"""The cluster as the page sees it, kept current for every open browser tab at once.

One thread follows the plane's event stream (WatchEvents after the id ListEvents gave, as
`orchestra get -w` does) and re-lists nodes, workloads and replicas when events arrive (at most
every MIN_RELIST_S, so a burst costs one listing) and every RELIST_S besides: usage samples and a
few phase changes record no event. It lists only while someone watches. Each tab waits on `wait()`
for a newer state, new events or a change of the connection's status; all tabs share one listing
and one serialised document per change.

When the plane cannot be reached the status says why, the last state stays on the page, and the
feed tries again every RETRY_S.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.failure import CliError
from orchestra.cli.output import message_dict
from orchestra.cli.watch import EventFeed
from orchestra.ui.snapshot import cluster_snapshot, same_state

log = logging.getLogger("orchestra.ui")

RELIST_S = 2.0
MIN_RELIST_S = 0.2
RETRY_S = 2.0
EVENTS_KEPT = 500
POLL_S = 0.25        # how often the follower looks up from the event stream (new tabs, time to relist)

LIVE = "live"


@dataclass
class Seen:
    """What one tab has been sent."""
    state: int = 0
    status: int = 0
    epoch: int = 0
    event_id: int = 0


class ClusterFeed:
    def __init__(self, target):
        self.target = target
        self._cond = threading.Condition()
        self.state: dict | None = None
        self.state_json = ""
        self.state_version = 0
        self.events: deque[dict] = deque(maxlen=EVENTS_KEPT)     # oldest first, API field names
        self.epoch = 0                # grows when the event history was listed anew (after a reconnect)
        self.status = "connecting"
        self.status_version = 1
        self.watchers = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the follower ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ui-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except CliError as exc:
                self._set_status(f"cannot reach the plane: {exc.format_message()}")
                self._stop.wait(RETRY_S)
            except Exception as exc:   # a bug must not leave the page silently stale: say so, try again
                log.exception("the live feed failed")
                self._set_status(f"the live feed failed: {exc}")
                self._stop.wait(RETRY_S)

    def _follow(self) -> None:
        listed = self.target.call("ListEvents", pb.ListEventsRequest(limit=EVENTS_KEPT))
        with self._cond:
            self.events.clear()
            self.events.extend(message_dict(e) for e in listed.events)
            self.epoch += 1
            self._cond.notify_all()
        self.relist()
        self._set_status(LIVE)
        feed = EventFeed(self.target, listed.last_id)
        try:
            last_list = time.monotonic()
            due = False
            while not self._stop.is_set():
                new = feed.next(POLL_S)
                if new:
                    with self._cond:
                        self.events.extend(message_dict(e) for e in new)
                        self._cond.notify_all()
                    due = True
                now = time.monotonic()
                if now - last_list >= RELIST_S:
                    due = True
                if due and self.watchers and now - last_list >= MIN_RELIST_S:
                    self.relist()
                    last_list, due = time.monotonic(), False
        finally:
            feed.close()

    def relist(self) -> None:
        t = self.target
        nodes = t.call("ListNodes", pb.ListNodesRequest()).nodes
        workloads = t.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads
        replicas = t.call("ListReplicas", pb.ListReplicasRequest()).replicas
        snap = cluster_snapshot(nodes, workloads, replicas, int(time.time() * 1000), t.address)
        with self._cond:
            if same_state(self.state, snap):
                return
            self.state = snap
            self.state_json = json.dumps(snap, separators=(",", ":"))
            self.state_version += 1
            self._cond.notify_all()

    def _set_status(self, status: str) -> None:
        with self._cond:
            if status != self.status:
                self.status = status
                self.status_version += 1
                self._cond.notify_all()

    # -- the tabs ------------------------------------------------------------------------------
    def watching(self) -> "_Watching":
        return _Watching(self)

    def wait(self, seen: Seen, timeout: float) -> bool:
        """Until something is newer than `seen` (True) or `timeout` passes (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._stop.is_set() or self._news(seen), timeout)

    def _news(self, seen: Seen) -> bool:
        return (self.state_version != seen.state or self.status_version != seen.status or self.epoch != seen.epoch
                or bool(self.events and self.events[-1]["id"] > seen.event_id))

    def take(self, seen: Seen) -> list[tuple[str, str]]:
        """The messages a tab that has seen `seen` needs now, as (SSE event name, JSON data); updates `seen`."""
        out = []
        with self._cond:
            if self.status_version != seen.status:
                out.append(("status", json.dumps({"status": self.status, "live": self.status == LIVE})))
                seen.status = self.status_version
            if self.state_version != seen.state and self.state is not None:
                out.append(("state", self.state_json))
                seen.state = self.state_version
            if self.epoch != seen.epoch:
                events, reset = list(self.events), True
                seen.epoch = self.epoch
            else:
                events, reset = [e for e in self.events if e["id"] > seen.event_id], False
            if events or reset:
                out.append(("events", json.dumps({"reset": reset, "events": events}, separators=(",", ":"))))
                if events:
                    seen.event_id = events[-1]["id"]
        return out


class _Watching:
    """While a tab is open, the feed keeps listing."""

    def __init__(self, feed: ClusterFeed):
        self.feed = feed

    def __enter__(self) -> ClusterFeed:
        with self.feed._cond:
            self.feed.watchers += 1
        return self.feed

    def __exit__(self, *exc) -> None:
        with self.feed._cond:
            self.feed.watchers -= 1
