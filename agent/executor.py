"""Carries out the reconciler's actions on the runtime, one log line per decision.

Actions of one replica run in order (remove the old container, then create its successor);
different replicas run side by side, so that one slow stop does not hold up the others.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from agent.reconciler import Action, Create, Remove, Start
from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable

log = logging.getLogger("orchestra.agent")


class Failure:
    """An action that the engine refused."""

    def __init__(self, replica_id: str, key, error: str):
        self.replica_id, self.key, self.error = replica_id, key, error


class Executor:
    def __init__(self, runtime: DockerRuntime, workers: int = 4):
        self.runtime = runtime
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="action")

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def run(self, actions: Sequence[Action], keys: dict) -> list[Failure]:
        """Run `actions`; returns the failures. `keys` maps replica id -> the desired key
        the failure is recorded under. Raises RuntimeUnavailable if the engine went away."""
        groups: dict[str, list[Action]] = {}
        for a in actions:
            groups.setdefault(a.replica_id, []).append(a)
        futures = [self.pool.submit(self._run_group, rid, acts, keys.get(rid))
                   for rid, acts in groups.items()]
        failures, unavailable = [], None
        for f in futures:
            try:
                failure = f.result()
            except RuntimeUnavailable as e:
                unavailable = e
                continue
            if failure:
                failures.append(failure)
        if unavailable:
            raise unavailable
        return failures

    def _run_group(self, rid: str, actions: list[Action], key) -> Failure | None:
        for a in actions:
            try:
                self._one(a)
            except _StepFailed as e:
                log.warning("%s: %s", rid, e)
                return Failure(rid, key, str(e))
        return None

    def _one(self, a: Action) -> None:
        rt = self.runtime
        if isinstance(a, Remove):
            _step("remove", rt.remove, a.container_id)
            log.info("%s: removed container %s (%s)", a.replica_id, a.container_id[:12], a.reason)
        elif isinstance(a, Create):
            spec = a.desired.spec
            cid = _step("create", rt.create, spec)
            log.info("%s: created container %s (image %s, revision %d, incarnation %d)",
                     a.replica_id, cid[:12], spec.image, spec.revision, spec.incarnation)
            _step("start", rt.start, cid)
            log.info("%s: started container %s", a.replica_id, cid[:12])
        elif isinstance(a, Start):
            if a.restart:
                log.info("%s: restarting container %s", a.replica_id, a.container_id[:12])
            _step("start", rt.start, a.container_id)
            log.info("%s: started container %s", a.replica_id, a.container_id[:12])


class _StepFailed(Exception):
    """str() is "<step> failed: <the engine's words>", the reason the replica reports."""


def _step(what: str, fn, *args):
    try:
        return fn(*args)
    except ContainerError as e:
        raise _StepFailed(f"{what} failed: {e}") from e
