"""Carries out the reconciler's actions on the runtime, one log line per decision.

Each replica's actions run in order on a thread of their own (remove the old container, then
create its successor), and the converger does not wait for them: a slow stop (a grace period
of 30 s) never holds up another replica's start. While a replica's operation is in flight it
is listed in `in_flight()`, and the reconciler gives it no other action; when it ends,
`on_done()` wakes the converger, which then sees the result on the engine.

Creates and starts are bounded (`concurrent_starts` at once), so that a burst of new
replicas does not swamp the engine; stops and removals are not, since they mostly wait out
a grace period.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Sequence

from agent import metrics
from agent.reconciler import Action, Create, Remove, Start, Stop
from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable

log = logging.getLogger("orchestra.agent")


class Failure:
    """An action that the engine refused."""

    def __init__(self, replica_id: str, key, error: str):
        self.replica_id, self.key, self.error = replica_id, key, error


class Executor:
    def __init__(self, runtime: DockerRuntime, on_done: Callable[[], None] = lambda: None,
                 concurrent_starts: int = 16):
        self.runtime = runtime
        self.on_done = on_done
        self._starts = threading.BoundedSemaphore(concurrent_starts)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight: dict[str, tuple[Action, ...]] = {}
        self._failures: list[Failure] = []
        self._closed = False

    def close(self, timeout: float = 5.0) -> None:
        """Take no more work; give what is in flight a moment to finish (the containers stay
        as they are either way: the next agent adopts them)."""
        with self._lock:
            self._closed = True
        self.wait_idle(timeout)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def in_flight(self) -> dict[str, tuple[Action, ...]]:
        """replica id -> its actions still being carried out."""
        with self._lock:
            return dict(self._in_flight)

    def take_failures(self) -> list[Failure]:
        """The failures of the operations that ended since the last call. A failure is here
        before its replica leaves `in_flight()`."""
        with self._lock:
            out, self._failures = self._failures, []
            return out

    def submit(self, actions: Sequence[Action], keys: dict) -> None:
        """Start `actions`, grouped by replica. `keys` maps replica id -> the desired key a
        failure is recorded under. A replica already in flight is skipped (the reconciler
        never asks for that)."""
        groups: dict[str, list[Action]] = {}
        for a in actions:
            groups.setdefault(a.replica_id, []).append(a)
        with self._lock:
            if self._closed:
                return
            for rid, acts in groups.items():
                if rid in self._in_flight:
                    log.warning("%s: an operation is still in flight; not starting another", rid)
                    continue
                self._in_flight[rid] = tuple(acts)
                threading.Thread(target=self._run_group, args=(rid, acts, keys.get(rid)),
                                 name=f"op-{rid}", daemon=True).start()

    def _run_group(self, rid: str, actions: list[Action], key) -> None:
        failure = None
        try:
            for a in actions:
                self._one(a)
        except _StepFailed as e:
            log.warning("%s: %s", rid, e)
            failure = Failure(rid, key, str(e))
        except RuntimeUnavailable as e:
            # Not the replica's fault: the converger's next listing finds the engine gone.
            log.warning("%s: engine unavailable: %s", rid, e)
        except Exception:   # a bug must not leave the replica in flight for ever
            log.exception("%s: operation failed", rid)
        finally:
            with self._lock:
                if failure is not None:
                    self._failures.append(failure)
                del self._in_flight[rid]
                self._idle.notify_all()
            self.on_done()

    def _one(self, a: Action) -> None:
        rt = self.runtime
        if isinstance(a, Remove):
            _step("remove", rt.remove, a.container_id, a.grace_s)
            log.info("%s: removed container %s (%s)", a.replica_id, a.container_id[:12], a.reason)
        elif isinstance(a, Stop):
            log.warning("%s: stopping container %s: %s", a.replica_id, a.container_id[:12],
                        a.reason)
            _step("stop", rt.stop, a.container_id, a.grace_s)
        elif isinstance(a, Create):
            spec = a.desired.spec
            with self._starts:
                cid = _step("create", rt.create, spec)
                log.info("%s: created container %s (image %s, revision %d, incarnation %d)",
                         a.replica_id, cid[:12], spec.image, spec.revision, spec.incarnation)
                _step("start", rt.start, cid)
            log.info("%s: started container %s", a.replica_id, cid[:12])
        elif isinstance(a, Start):
            if a.restart:
                log.info("%s: restarting container %s", a.replica_id, a.container_id[:12])
            with self._starts:
                _step("start", rt.start, a.container_id)
            log.info("%s: started container %s", a.replica_id, a.container_id[:12])


class _StepFailed(Exception):
    """str() is "<step> failed: <the engine's words>", the reason the replica reports."""


def _step(what: str, fn, *args):
    try:
        with metrics.operation(what):
            return fn(*args)
    except ContainerError as e:
        raise _StepFailed(f"{what} failed: {e}") from e
