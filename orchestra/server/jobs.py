"""Jobs as a pure function: run replicas until `completions` have succeeded, at most
`parallelism` at a time; fail after more than `backoffLimit` failures (failed replicas and
restarts in place) or past `activeDeadlineSeconds`. A finished job stops what still runs.

No I/O, no clock: `now` is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from orchestra.phase import Phase
from orchestra.server.rollout import COMPLETE, FAILED, PROGRESSING, ReplicaView
from orchestra.spec.model import JobSpec


@dataclass
class JobStep:
    create: int = 0
    retire: list[tuple[str, str]] = field(default_factory=list)
    state: str = PROGRESSING            # Progressing | Complete | Failed
    message: str = ""
    succeeded: int = 0
    failures: int = 0


def failed_for_good(r: ReplicaView) -> bool:
    """A job's replica that ended with a non-zero exit (the plane marks it Failed; an engine's refusal,
    also reported as Failed, keeps being retried and carries no exit code)."""
    return r.phase == Phase.FAILED and r.exit_code != 0


def step(job: JobSpec, replicas: Sequence[ReplicaView], now_ms: int, started_ms: int, state: str) -> JobStep:
    out = JobStep()
    live = [r for r in replicas if not r.terminating]
    out.succeeded = sum(1 for r in live if r.phase == Phase.SUCCEEDED)
    failed = [r for r in live if failed_for_good(r)]
    out.failures = len(failed) + sum(r.restarts for r in live)
    active = [r for r in live if r.phase != Phase.SUCCEEDED and not failed_for_good(r)]
    if state in (COMPLETE, FAILED):          # finished jobs stay finished
        out.state = state
        out.retire = [(r.id, f"the job is {state.lower()}") for r in active]
        return out
    if out.succeeded >= job.completions:
        out.state = COMPLETE
        out.message = f"{out.succeeded}/{job.completions} completed"
    elif out.failures > job.backoff_limit:
        last = failed[-1] if failed else max(live, key=lambda r: r.restarts)
        out.state = FAILED
        out.message = (f"backoffLimit {job.backoff_limit} exceeded: {out.failures} failures "
                       f"(last: {last.id} {last.reason or f'exited with code {last.exit_code}'})")
    elif job.active_deadline_seconds and now_ms - started_ms > job.active_deadline_seconds * 1000:
        out.state = FAILED
        out.message = (f"activeDeadlineSeconds {job.active_deadline_seconds} exceeded with "
                       f"{out.succeeded}/{job.completions} completed")
    if out.state != PROGRESSING:
        out.retire = [(r.id, f"the job {'completed' if out.state == COMPLETE else 'failed'}") for r in active]
        return out
    out.create = max(0, min(job.parallelism - len(active), job.completions - out.succeeded - len(active)))
    out.message = (f"{out.succeeded}/{job.completions} completed, {len(active)} running"
                   + (f", {out.failures} failed (backoffLimit {job.backoff_limit})" if out.failures else ""))
    return out
