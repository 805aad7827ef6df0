"""Keeps the engine converged to the newest desired set, in its own thread, whether or not
the plane is connected (restart policies keep working during a partition).

Each round: note which replicas have an operation in flight, list the managed containers,
check which desired images are missing, `plan()` with the probes' cached results, hand the
actions to the executor (which does not make the round wait), tell the prober what to probe,
and publish the statuses. A round runs when a new desired set arrives, when an operation
ends, when a probe's result changes, and at least every `tick_s`.

Before the first desired set it only looks (adoption): the containers it finds are kept
untouched, whatever they are, until the plane has said what it wants.

Each round also writes the config and secret files of desired containers that lack them (on
the agent's tmpfs: agent.container_files; after a reboot the tmpfs is empty again), removes the
files no container needs any more, lists the node's orchestra volumes (reported to the plane)
and removes, on a thread of their own, the volumes the plane asks to be removed.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from agent import labels
from agent.container_files import FilesError, needs_files
from agent.executor import Executor
from agent.probes import Prober
from agent.reconciler import Desired, Status, plan, record_failure
from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from orchestra.api import agent_pb2
from orchestra.phase import Phase

log = logging.getLogger("orchestra.agent")


def wall_ms() -> int:
    return int(time.time() * 1000)


class Converger:
    def __init__(self, runtime: DockerRuntime, node: str, tick_s: float = 1.0,
                 clock: Callable[[], int] = wall_ms):
        self.runtime = runtime
        self.node = node
        self.tick_s = tick_s
        self.clock = clock
        self._wake = threading.Event()
        self.executor = Executor(runtime, on_done=self._wake.set)
        self.prober = Prober(runtime, clock=clock, on_change=self._wake.set)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Written by the plane's side (offer), read by the loop.
        self._desired: list[Desired] | None = None
        self._revision = 0
        self._remove_volumes: list[str] = []
        # Written by the loop, read by the session.
        self._book: dict = {}
        self._statuses: dict[str, Status] = {}
        self._runtime_status = "unknown"
        self._applied_revision = 0
        self._volumes: set[str] | None = None         # the node's orchestra volumes (None: not listed yet)
        self._removing: set[str] = set()              # volumes a removal thread is working on
        self._adopted: list[str] = []
        self._running: dict[str, object] = {}   # replica id -> its running Container (the services' relay)
        self.version = 0                      # grows whenever statuses or runtime status change
        self.changed = threading.Condition(self._lock)

    # -- plane side --

    def offer(self, ds: agent_pb2.DesiredSet) -> bool:
        """Take a desired set unless it is older than the newest seen. True if taken."""
        with self._lock:
            if ds.revision < self._revision:
                log.info("ignored desired revision %d (have %d)", ds.revision, self._revision)
                return False
            same = (self._desired is not None and ds.revision == self._revision)
            desired = [Desired(spec) for spec in ds.replicas]
            if not same:
                log.info("desired revision %d: %d replicas", ds.revision, len(desired))
            self._desired, self._revision = desired, ds.revision
            self._remove_volumes = list(ds.remove_volumes)
        if not same:
            self._wake.set()
        return True

    @property
    def revision(self) -> int:
        with self._lock:
            return self._revision

    def snapshot(self) -> tuple[int, list[Status], str, int]:
        """(version, statuses, runtime status, applied revision), consistent with each other."""
        with self._lock:
            return (self.version, list(self._statuses.values()), self._runtime_status,
                    self._applied_revision)

    def volume_snapshot(self) -> tuple[bool, list[str]]:
        """(listed, names): the node's orchestra volumes as of the newest round that could list them."""
        with self._lock:
            return self._volumes is not None, sorted(self._volumes or ())

    @property
    def runtime_status(self) -> str:
        with self._lock:
            return self._runtime_status

    @property
    def applied_revision(self) -> int:
        with self._lock:
            return self._applied_revision

    def running_containers(self) -> dict[str, str]:
        """replica id -> container id of the replicas that are Running."""
        with self._lock:
            return {s.replica_id: s.container_id for s in self._statuses.values()
                    if s.phase == Phase.RUNNING and s.container_id}

    def running_container(self, replica_id: str):
        """The replica's running Container as last listed, or None."""
        with self._lock:
            return self._running.get(replica_id)

    def container_of(self, replica_id: str) -> str | None:
        with self._lock:
            s = self._statuses.get(replica_id)
        if s and s.container_id:
            return s.container_id
        # Not desired (any more), but maybe still there: its logs are still worth reading.
        try:
            found = [c for c in self.runtime.list_managed() if c.replica_id == replica_id]
        except RuntimeUnavailable:
            return None
        found.sort(key=lambda c: c.created_at_ms)
        return found[-1].id if found else None

    # -- the loop --

    def start(self) -> None:
        self.prober.start()
        self._thread = threading.Thread(target=self._loop, name="converger", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
        self.prober.close()
        self.executor.close()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.converge_once()
            except Exception:   # a bug must not stop convergence for good
                log.exception("convergence round failed")
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def converge_once(self) -> None:
        with self._lock:
            desired, revision, remove_volumes = self._desired, self._revision, self._remove_volumes
        # In this order: a replica not in flight now has finished, so the listing below shows
        # what its operation did, and its failure (if any) is already queued.
        in_flight = self.executor.in_flight()
        book = self._book
        for f in self.executor.take_failures():
            if f.key is not None:
                book = record_failure(book, f.replica_id, f.key, f.error, self.clock())
        self._book = book
        try:
            seen = self.runtime.list_managed()
            with self._lock:
                self._running = {c.replica_id: c for c in seen if c.state == "running"}
            if desired is None:
                self._adopt(seen)
                self._set_runtime("available")
                return
            images = {d.spec.image for d in desired}
            missing = {i for i in images if not self.runtime.image_present(i)}
            present = self.runtime.list_volumes()
        except RuntimeUnavailable as e:
            self._set_runtime(f"unavailable: {e}")
            return
        self._set_runtime("available")
        self._set_volumes(present)
        self._remove(sorted(set(remove_volumes) & present))
        book = self._write_files(desired, in_flight, book)
        with self._lock:
            previous = dict(self._statuses)
        p = plan(desired, seen, self.clock(), book, missing, self.node, in_flight=in_flight,
                 previous=previous, health=self.prober.states())
        self._book = p.book
        if p.actions:
            self.executor.submit(p.actions, {d.replica_id: d.key for d in desired})
        self.prober.update(p.targets)
        self._publish(p.statuses, revision)
        keep = {labels.container_name(c.replica_id, c.incarnation) for c in seen}
        keep |= {labels.container_name(d.spec.replica_id, d.spec.incarnation) for d in desired}
        self.runtime.files.sweep(keep)

    def _write_files(self, desired: list[Desired], in_flight: dict, book: dict) -> dict:
        """The config and secret files of every desired container, before it is created (or started
        again after a reboot emptied the tmpfs); a failure fails the replica, retried with back-off."""
        for d in desired:
            if d.replica_id in in_flight or not needs_files(d.spec):
                continue
            try:
                self.runtime.files.ensure(d.spec, labels.container_name(d.spec.replica_id, d.spec.incarnation))
            except FilesError as e:
                book = record_failure(book, d.replica_id, d.key, str(e), self.clock())
        return book

    def _set_volumes(self, present: set[str]) -> None:
        with self._lock:
            if self._volumes == present:
                return
            self._volumes = set(present)
            self.version += 1           # a change of the node's volumes is worth a report
            self.changed.notify_all()

    def _remove(self, names: list[str]) -> None:
        """Remove the volumes the plane asks to be removed, on a thread (deleting data may take long)."""
        with self._lock:
            todo = [n for n in names if n not in self._removing]
            self._removing |= set(todo)
        if todo:
            threading.Thread(target=self._remove_all, args=(todo,), name="volume-removal", daemon=True).start()

    def _remove_all(self, names: list[str]) -> None:
        for name in names:
            try:
                self.runtime.remove_volume(name)
                log.info("removed volume %s (the plane asked for it)", name)
            except (ContainerError, RuntimeUnavailable) as e:
                log.warning("volume %s not removed yet: %s", name, e)   # e.g. still in use: next round
            finally:
                with self._lock:
                    self._removing.discard(name)
        self._wake.set()

    def _adopt(self, seen) -> None:
        ids = sorted(f"{c.replica_id}={c.id[:12]}" for c in seen)
        if ids != self._adopted:
            self._adopted = ids
            log.info("found %d managed containers; waiting for the first desired set before "
                     "changing anything%s", len(ids), (": " + ", ".join(ids)) if ids else "")

    def _set_runtime(self, status: str) -> None:
        with self._lock:
            if status == self._runtime_status:
                return
            old, self._runtime_status = self._runtime_status, status
            self.version += 1
            self.changed.notify_all()
        if old != "unknown" or status != "available":
            log.warning("runtime %s", status) if status != "available" else log.info(
                "runtime available again")

    def _publish(self, statuses: dict[str, Status], revision: int) -> None:
        with self._lock:
            old = self._statuses
            # Probe counts and times alone do not make a report; they ride along.
            changed = (revision != self._applied_revision or statuses.keys() != old.keys()
                       or any(s.essential != old[rid].essential for rid, s in statuses.items()))
            self._statuses = statuses
            self._applied_revision = revision
            if changed:
                self.version += 1
                self.changed.notify_all()
        for rid, s in statuses.items():
            o = old.get(rid)
            if o is None or (o.phase, o.reason) != (s.phase, s.reason):
                if s.phase in (Phase.FAILED, Phase.BACKOFF, Phase.EXITED):
                    log.warning("%s: %s: %s", rid, s.phase, s.reason)
                elif s.phase == Phase.TERMINATING and (o is None or o.phase != s.phase):
                    log.info("%s: terminating (container %s)", rid, s.container_id[:12])
                elif s.phase == Phase.RUNNING and (o is None or o.phase != Phase.RUNNING):
                    log.info("%s: running (container %s, restarts %d)", rid, s.container_id[:12],
                             s.restarts)
            if s.phase == Phase.RUNNING and o is not None and o.phase == s.phase and o.ready != s.ready:
                log.info("%s: %s", rid, "ready" if s.ready else "not ready")
