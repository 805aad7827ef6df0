"""Rolling updates as a pure function: the replicas of one workload and its update budget in,
the next step (replicas to create, replicas to retire) and the rollout's progress out.

Kubernetes' arithmetic (pkg/controller/deployment/rolling.go), over replicas instead of
replica sets. With `desired` replicas, surge S and unavailable U (UpdateStrategy.limits):
- never more than desired + S replica records exist (Terminating ones count: their
  containers still hold memory and ports until their agents confirm the stop);
- never fewer than desired - U replicas available (Ready for minReadySeconds);
- new-revision replicas are created first, as far as the surge allows; old ones are retired
  only as far as availability allows, the unavailable ones first.
Replicas on a node being drained count as old too: `orchestra drain` is a rollout off that node.
Without old replicas this is plain scaling. No I/O, no clock: `now` is given.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from orchestra.phase import Phase

PROGRESSING = "Progressing"
COMPLETE = "Complete"
PAUSED = "Paused"
FAILED = "Failed"
ROLLED_BACK = "RolledBack"

# A new replica restarted this often has failed (autoRollback reverts; rollout status says so).
FAILED_AFTER_RESTARTS = 3
# No progress for this long: the rollout is said to be stuck (an event, and the message changes).
STUCK_AFTER_MS = 30_000


@dataclass(frozen=True)
class ReplicaView:
    """What the planner needs to know of one replica record."""
    id: str
    index: int
    revision: int
    terminating: bool = False
    bound: bool = True
    ready: bool = False
    available: bool = False
    phase: str = Phase.RUNNING
    reason: str = ""
    restarts: int = 0
    exit_code: int = 0
    node: str = ""
    ready_for_ms: int = 0               # how long it has been ready
    failing_probe: str = ""             # e.g. "readinessProbe GET :8080/ answered 503 (3 times)"
    draining: bool = False              # on a node being drained: replaced like an old revision


@dataclass(frozen=True)
class Goal:
    desired: int
    revision: int
    max_surge: int
    max_unavailable: int
    min_ready_ms: int = 0
    paused: bool = False
    deleting: bool = False


@dataclass
class Step:
    create: int = 0                                    # new replicas of goal.revision to make now
    retire: list[tuple[str, str]] = field(default_factory=list)   # (replica id, why)


@dataclass
class Progress:
    state: str                  # Progressing | Complete | Paused
    desired: int
    updated: int                # live replicas of the goal's revision
    ready: int
    available: int
    old: int                    # live replicas of older revisions
    terminating: int
    waiting_for: str = ""       # what the rollout waits for, e.g. "web-5 not ready: readinessProbe ..."
    failed: str = ""            # a new replica that failed for good, and how

    def key(self) -> str:
        """What counts as progress: any of these moving."""
        return f"{self.updated}/{self.available}/{self.old}/{self.terminating}"


def _retire_order(r: ReplicaView) -> tuple:
    # Unplaced first, then not ready, then not available, then the highest index.
    return (r.bound, r.ready, r.available, -r.index)


def _old(r: ReplicaView, goal: Goal) -> bool:
    return r.revision != goal.revision or (r.draining and not r.terminating)


def _why_old(r: ReplicaView, goal: Goal) -> str:
    return f"moved off draining node {r.node}" if r.draining and r.revision == goal.revision \
        else f"replaced by revision {goal.revision}"


def step(goal: Goal, replicas: Sequence[ReplicaView]) -> Step:
    out = Step()
    live = [r for r in replicas if not r.terminating]
    if goal.deleting:
        out.retire = [(r.id, "its workload was deleted") for r in sorted(live, key=_retire_order)]
        return out
    new = [r for r in live if not _old(r, goal)]
    old = [r for r in live if _old(r, goal)]
    n = goal.desired
    # Rolling while any replica of another revision (or on a draining node) is left, also one still
    # stopping: the budget holds until its container is gone.
    if not any(_old(r, goal) for r in replicas):
        if len(new) < n:
            out.create = n - len(new)
        elif len(new) > n:
            extra = sorted(new, key=_retire_order)[:len(new) - n]
            out.retire = [(r.id, f"scale-down to {n}") for r in extra]
        return out
    if goal.paused:
        return out
    # Rolling: create new replicas within the surge.
    total = len(replicas)
    out.create = max(0, min(n + goal.max_surge - total, n - len(new)))
    if len(new) > n:
        extra = sorted(new, key=_retire_order)[:len(new) - n]
        out.retire += [(r.id, f"scale-down to {n}") for r in extra]
    # Retire old replicas within the availability budget. New replicas not yet available are
    # counted as if they will be (Kubernetes does the same): otherwise a rollout of replicas that
    # take long to become ready would retire old ones too eagerly.
    min_available = n - goal.max_unavailable
    new_unavailable = sum(1 for r in new if not r.available)
    budget = len(live) - min_available - new_unavailable
    if budget <= 0:
        return out
    unhealthy = sorted((r for r in old if not r.available), key=_retire_order)[:budget]
    out.retire += [(r.id, _why_old(r, goal)) for r in unhealthy]
    budget -= len(unhealthy)
    available = sum(1 for r in live if r.available)
    healthy_budget = min(budget, available - min_available)
    if healthy_budget > 0:
        healthy = sorted((r for r in old if r.available), key=_retire_order)[:healthy_budget]
        out.retire += [(r.id, _why_old(r, goal)) for r in healthy]
    return out


def progress(goal: Goal, replicas: Sequence[ReplicaView]) -> Progress:
    live = [r for r in replicas if not r.terminating]
    new = sorted((r for r in live if not _old(r, goal)), key=lambda r: r.index)
    old = [r for r in live if _old(r, goal)]
    terminating = [r for r in replicas if r.terminating]
    p = Progress(state=PROGRESSING, desired=goal.desired, updated=len(new),
                 ready=sum(1 for r in live if r.ready), available=sum(1 for r in live if r.available),
                 old=len(old), terminating=len(terminating))
    for r in new:
        failure = _failure(r)
        if failure:
            p.failed = f"{r.id} {failure}"
            break
    new_available = sum(1 for r in new if r.available)
    if len(new) == goal.desired and new_available == goal.desired and not old and not terminating:
        p.state = COMPLETE
        return p
    if goal.paused and old:
        p.state = PAUSED
    p.waiting_for = _waiting_for(goal, new, old, terminating)
    return p


def _failure(r: ReplicaView) -> str:
    if r.phase == Phase.FAILED:
        return f"failed: {r.reason}"
    if r.phase == Phase.EXITED and r.exit_code != 0:
        return f"exited with code {r.exit_code}"
    if r.restarts >= FAILED_AFTER_RESTARTS and not r.ready:
        return f"restarted {r.restarts} times ({r.reason})" if r.reason else f"restarted {r.restarts} times"
    return ""


def _waiting_for(goal: Goal, new: list[ReplicaView], old: list[ReplicaView], terminating: list[ReplicaView]) -> str:
    for r in new:
        if not r.available:
            return _not_available(r, goal)
    if len(new) < goal.desired:
        return (f"{goal.desired - len(new)} more to be created once stopping replicas are gone "
                f"(maxSurge {goal.max_surge})") if terminating else f"{goal.desired - len(new)} more to be created"
    if old:
        moving = [r for r in old if r.draining and r.revision == goal.revision]
        if moving:
            return f"{', '.join(r.id for r in moving)} to move off draining node {moving[0].node}"
        return f"{len(old)} old replicas to be retired"
    if terminating:
        r = terminating[0]
        return f"{r.id} stopping on {r.node}" if r.node else f"{r.id} stopping"
    return ""


def _not_available(r: ReplicaView, goal: Goal) -> str:
    if not r.bound:
        return f"{r.id} pending: {r.reason}" if r.reason else f"{r.id} pending"
    if r.failing_probe:
        return f"{r.id} not ready: {r.failing_probe}"
    if r.phase in (Phase.BACKOFF, Phase.FAILED, Phase.EXITED):
        return f"{r.id} {r.phase}: {r.reason}" if r.reason else f"{r.id} {r.phase}"
    if r.ready:
        return (f"{r.id} ready for {r.ready_for_ms / 1000:.0f}s of minReadySeconds "
                f"{goal.min_ready_ms / 1000:g}")
    if r.phase == Phase.RUNNING:
        return f"{r.id} not ready yet"
    return f"{r.id} {r.phase} on {r.node}" if r.node else f"{r.id} {r.phase}"


def message(goal: Goal, p: Progress, stuck: bool) -> str:
    """One line for rollout status, describe and events."""
    if p.state == COMPLETE:
        return f"rollout to revision {goal.revision} complete: {p.updated}/{p.desired} updated and available"
    head = (f"rollout stuck at {p.updated}/{p.desired} updated" if stuck
            else f"rollout to revision {goal.revision}: {p.updated}/{p.desired} updated, "
                 f"{p.available}/{p.desired} available" + (f", {p.old} old" if p.old else ""))
    if p.state == PAUSED:
        return f"{head}; paused (orchestra rollout resume)"
    if p.failed:
        return f"{head}: {p.failed}"
    return f"{head}: {p.waiting_for}" if p.waiting_for else head
