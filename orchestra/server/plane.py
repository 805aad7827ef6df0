"""The plane: the store, the controllers, the agent hub and the user service, wired together.

Controllers are level-triggered over the store; a background loop runs them in order every
tick (and at once when something asks for it), so work left by a crash resumes on restart:

    liveness    silent nodes -> NotReady -> their replicas lost
    workloads   each workload's replicas follow its spec, one rollout step at a time
    scheduler   pending replicas -> bound to nodes (explained)
    endpoints   services' ready replicas -> every agent (and which retired replicas may stop)
    publisher   each node's desired set -> its agent

Controller passes are serialised by one lock; each writes in its own transactions. Users'
changes that arrive together share a pass (`settle`). The state is held in memory and written
through in batches (orchestra.store.cache): a Plane wraps the store it is given in one.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Iterable

from orchestra.security.secret_box import SecretBox
from orchestra.server.agent_hub import AgentHub
from orchestra.server.catalog import WorkloadCatalog
from orchestra.server.controllers.endpoints import EndpointsController
from orchestra.server.controllers.liveness import Liveness
from orchestra.server.controllers.publisher import RESEND_MS, Publisher
from orchestra.server.controllers.scheduler import SchedulerController
from orchestra.server.controllers.workloads import WorkloadController
from orchestra.server.events import EventLog
from orchestra.server.failures import FailureCounter
from orchestra.server.service import UserService
from orchestra.store.base import Store
from orchestra.store.cache import CachedStore

log = logging.getLogger("orchestra.server")


def wall_ms() -> int:
    return int(time.time() * 1000)


class Plane:
    def __init__(self, store: Store, *, node_grace_ms: int = 10_000, heartbeat_interval_ms: int = 2_000,
                 usage_interval_ms: int = 5_000, default_strategy: str = "spread",
                 clock_ms: Callable[[], int] = wall_ms, tick_s: float = 0.5, resend_ms: int = RESEND_MS,
                 secret_box: SecretBox | None = None):
        """`secret_box`: the key secrets are sealed with (the server's, from its data dir; a plane
        over an in-memory store gets one that lives as long as it)."""
        store = store if isinstance(store, CachedStore) else CachedStore(store)
        self.store = store
        self.secret_box = secret_box or SecretBox.ephemeral()
        self.clock_ms = clock_ms
        self.tick_s = tick_s
        self.events = EventLog(store, clock_ms)
        self.catalog = WorkloadCatalog()
        self.failures = FailureCounter()
        self.liveness = Liveness(store, self.events, node_grace_ms, clock_ms())
        self.hub = AgentHub(store, self.events, self.liveness, self.failures, clock_ms, heartbeat_interval_ms,
                            usage_interval_ms, on_change=self._replicas_changed, on_node=self._node_arrived)
        self.workloads = WorkloadController(store, self.events, self.catalog, clock_ms)
        self.scheduler = SchedulerController(store, self.events, self.catalog, self.failures, default_strategy,
                                             self.hub.connected)
        # A retired replica leaves every node's routes before it is stopped, waiting at most the node grace.
        self.endpoints = EndpointsController(store, self.catalog, self.hub.sessions, clock_ms, node_grace_ms)
        self.publisher = Publisher(store, self.catalog, self.hub.sessions, clock_ms, resend_ms,
                                   may_stop=self.endpoints.may_stop, secret_box=self.secret_box)
        self.service = UserService(store, self.events, self.catalog, self.failures, self.hub, clock_ms,
                                   default_strategy, settle=self.settle, stopping=lambda: self.stopping,
                                   secret_box=self.secret_box)
        self._passes = threading.RLock()
        self._passes_started = 0
        self._count_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="controllers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self.events.wake_all()
        for s in self.hub.sessions.all():
            s.end(None, "the plane is shutting down")
        if self._thread is not None:
            self._thread.join(timeout=10)

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def wake(self) -> None:
        """Something happened that the controllers should see now, not at the next tick."""
        self.scheduler.wake()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.tick_s)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.run_controllers_once()
            except Exception:  # a bad pass must not stop the plane; the next tick retries
                log.exception("controller pass failed")

    def run_controllers_once(self) -> None:
        with self._passes:
            with self._count_lock:
                self._passes_started += 1
            now = self.clock_ms()
            self._check_liveness(now)
            if self.workloads.run_once(now):
                self.scheduler.wake()
                self.publisher.mark()
                self.endpoints.mark()
            # Again before placing: the workloads step can take seconds at scale (every workload's
            # progress changes during a heal), and nodes that went silent meanwhile must neither
            # take new replicas nor wait a whole pass longer for theirs to be placed elsewhere.
            now = self.clock_ms()
            self._check_liveness(now)
            result = self.scheduler.run_once(now)
            if result.placements or result.preemptions:
                self.publisher.mark()
            self.endpoints.run_once(now)
            if self.endpoints.waiting():   # acknowledgements (or the time limit) may release a stop
                self.publisher.touch(self.endpoints.held_nodes())
            self.publisher.run_once(now)

    def _check_liveness(self, now_ms: int) -> None:
        marked = self.liveness.run_once(now_ms)
        if marked:
            self.hub.end_silent_sessions(marked)
            self.scheduler.wake()
            self.publisher.mark()
            self.endpoints.mark()

    def settle(self, workloads: Iterable[str] = ()) -> None:
        """Run the controllers once, now, in the caller's thread (after a user's change to `workloads`)."""
        for name in workloads:
            self.workloads.mark(name)
        self.scheduler.wake()
        self.publisher.mark()
        self.endpoints.mark()
        with self._count_lock:
            wanted = self._passes_started + 1     # any pass that starts from now on sees this change
        with self._passes:
            if self._passes_started >= wanted:
                return                            # another caller's pass did (we held the lock after it)
            self.run_controllers_once()

    # -- what the hub tells --------------------------------------------------------------------
    def _replicas_changed(self, workloads: set[str]) -> None:
        for name in workloads:
            self.workloads.mark(name)
        self.publisher.mark()
        self.endpoints.mark()
        self._wake.set()

    def _node_arrived(self, node: str, last_revision: int) -> None:
        """A node (re)connected or became Ready: its desired set and the endpoints now, and maybe pending
        replicas for it. Not inside a controller pass (the publisher's and the endpoints controller's own
        locks order what they send): an agent's session must not wait for a whole pass."""
        now = self.clock_ms()
        session = self.hub.sessions.get(node)
        if session is not None:
            self.endpoints.floor(session.endpoints_ack)
        self.endpoints.mark()       # its address may be new, or it is Ready again
        self.endpoints.run_once(now, node=node)
        self.publisher.run_once(now, floors={node: last_revision} if last_revision else None, node=node)
        self.wake()
