"""What the agent should do: `plan(desired, seen, now, ...)` compares the desired replicas
with the containers seen on the engine and returns the actions that converge them, the
status of every desired replica, and the agent's restart book for the next round.

Pure: no I/O and no clock (`now` is given), so every case is tested without Docker.

Rules (docs/internals.md):
- a desired replica without a matching container gets one (Create); a container whose
  incarnation or template hash (computed by the plane) differs from the desired one is
  replaced (Remove + Create); a managed container that is not desired is removed, and reported
  Terminating until it is gone;
- a container that has exited is restarted according to the replica's restart policy
  (Always / OnFailure / Never) after a back-off: 1 s, doubling to 5 min; a container that ran
  10 min or more before it exited starts again from 1 s;
- a running container whose startup or liveness probe gave up on it (agent.probes.judge) is
  stopped (Stop, with its grace period); it has then exited, and the rule above restarts it,
  so probe restarts count and back off like any other, with the probe's words as the reason;
- a replica with an operation still in flight (`in_flight`, from the executor) gets no new
  action: it keeps the status it had when the operation was issued;
- an image that is not on the node fails the replica with a reason (orchestra never pulls);
- an action that failed (create, start) is retried with its own back-off (1 s to 1 min) while
  the replica is reported Failed with the error.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Sequence

from agent.probes import ImageHealth, ProbeReport, RunStates, Target, judge
from orchestra.api import agent_pb2
from orchestra.phase import Phase

RESTART_INITIAL_MS = 1_000
RESTART_MAX_MS = 5 * 60_000
RESTART_RESET_AFTER_MS = 10 * 60_000
RETRY_INITIAL_MS = 1_000
RETRY_MAX_MS = 60_000

RUNNING_STATES = ("running", "paused", "restarting")
EXITED_STATES = ("exited", "dead")


@dataclass(frozen=True)
class Desired:
    spec: agent_pb2.ContainerSpec

    @property
    def replica_id(self) -> str:
        return self.spec.replica_id

    @property
    def key(self) -> tuple[int, str]:
        return (self.spec.incarnation, self.spec.template_hash)


@dataclass(frozen=True)
class Container:
    """A managed container as the runtime sees it (labels already read)."""
    id: str
    replica_id: str
    incarnation: int
    template_hash: str
    state: str                    # created | running | paused | restarting | removing | exited | dead
    exit_code: int = 0
    started_at_ms: int = 0
    finished_at_ms: int = 0
    created_at_ms: int = 0
    oom_killed: bool = False
    error: str = ""               # the engine's last error for it (e.g. why start failed)
    revision: int = 0
    pid: int = 0                  # of its first process while it runs (for its network namespace)
    ip: str = ""                  # its address on a bridge network, if any
    health: ImageHealth | None = None     # its image's HEALTHCHECK, if it has one
    stop_timeout_s: int | None = None     # its grace period (None: made without one)

    @property
    def key(self) -> tuple[int, str]:
        return (self.incarnation, self.template_hash)


@dataclass(frozen=True)
class Memory:
    """What the agent remembers of one replica between plans (lost when the agent restarts;
    restart counts then begin again from 0)."""
    key: tuple[int, str]
    restarts: int = 0
    next_delay_ms: int = RESTART_INITIAL_MS
    exit_seen_ms: int = -1        # finished_at of the exit whose restart is scheduled
    next_restart_ms: int = 0
    error: str = ""               # why the last action failed
    retry_at_ms: int = 0
    retry_delay_ms: int = 0
    # (container id, started at, why) of a run that a probe gave up on: the reason of its exit
    probe_kill: tuple[str, int, str] | None = None


@dataclass(frozen=True)
class Create:
    desired: Desired

    @property
    def replica_id(self) -> str:
        return self.desired.replica_id


@dataclass(frozen=True)
class Start:
    container_id: str
    replica_id: str
    restart: bool = False         # a restart after an exit (counts), not a first start


@dataclass(frozen=True)
class Remove:
    container_id: str
    replica_id: str
    reason: str
    grace_s: int | None = None    # SIGTERM, then SIGKILL after this long (None: the agent's default)


@dataclass(frozen=True)
class Stop:
    """Stop (not remove) a running container that a probe gave up on."""
    container_id: str
    replica_id: str
    reason: str
    grace_s: int | None = None


Action = Create | Start | Remove | Stop


@dataclass(frozen=True)
class Status:
    replica_id: str
    phase: Phase                  # one of orchestra.phase.AGENT_PHASES
    reason: str = ""
    exit_code: int = 0
    restarts: int = 0
    container_id: str = ""
    next_restart_ms: int = 0
    incarnation: int = 0
    ready: bool = False
    probes: tuple[ProbeReport, ...] = ()

    @property
    def essential(self) -> tuple:
        """The status without the probes' counts and times: a change of this is reported at
        once; the rest rides along with the next report."""
        return (replace(self, probes=()), tuple(p.essential for p in self.probes))


@dataclass
class Plan:
    actions: list[Action] = field(default_factory=list)
    statuses: dict[str, Status] = field(default_factory=dict)
    book: dict[str, Memory] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)     # running containers to probe


def missing_image_reason(image: str, node: str) -> str:
    return (f"image {image} is not present on node {node} (orchestra never pulls; "
            f"load it with docker load or orchestra image load)")


def should_restart(policy: str, exit_code: int, oom_killed: bool) -> bool:
    if policy == "Never":
        return False
    if policy == "OnFailure":
        return exit_code != 0 or oom_killed
    return True   # Always, and the default when the plane sent nothing


def exit_reason(c: Container) -> str:
    if c.oom_killed:
        return f"OOMKilled (exit code {c.exit_code})"
    return f"exited with code {c.exit_code}"


def plan(desired: Sequence[Desired], seen: Iterable[Container], now_ms: int,
         book: Mapping[str, Memory] | None = None,
         missing_images: frozenset[str] | set[str] = frozenset(), node: str = "", *,
         in_flight: Mapping[str, Sequence[Action]] | None = None,
         previous: Mapping[str, Status] | None = None,
         health: Mapping[str, RunStates] | None = None) -> Plan:
    """`in_flight`: replica id -> its actions still being carried out; `previous`: the statuses
    of the last plan; `health`: the probes' cached results (agent.probes.Prober.states())."""
    book = {} if book is None else book
    in_flight = in_flight or {}
    previous = previous or {}
    health = health or {}
    seen = list(seen)
    out = Plan()
    by_replica: dict[str, list[Container]] = {}
    for c in seen:
        by_replica.setdefault(c.replica_id, []).append(c)

    removes: list[Action] = []
    stops: list[Action] = []
    creates: list[Action] = []
    starts: list[Action] = []
    wanted = set()
    for d in desired:
        rid = d.replica_id
        if rid in wanted:
            continue   # a replica twice in one set: the first one counts
        wanted.add(rid)
        mine = by_replica.get(rid, [])
        keep = _pick(c for c in mine if c.key == d.key)
        mem = book.get(rid)
        if mem is None or mem.key != d.key:
            mem = Memory(key=d.key)
        if keep is not None and keep.state in RUNNING_STATES:
            out.targets.append(Target(rid, keep, d.spec))
        base = Status(replica_id=rid, phase=Phase.STARTING, incarnation=d.spec.incarnation,
                      restarts=mem.restarts)
        if rid in in_flight:
            # What its operation makes of it is seen once it is done; until then it stays as
            # the plan that issued the operation said.
            prev = previous.get(rid)
            if prev is None or prev.phase == Phase.TERMINATING:   # desired again meanwhile
                prev = replace(base, reason="operation in progress")
            out.statuses[rid] = prev
            out.book[rid] = mem
            continue
        for c in mine:
            if c is not keep:
                removes.append(Remove(c.id, rid, _replace_reason(c, d, keep), c.stop_timeout_s))

        if keep is None:
            if d.spec.image in missing_images:
                status = replace(base, phase=Phase.FAILED,
                                 reason=missing_image_reason(d.spec.image, node))
            elif mem.error and now_ms < mem.retry_at_ms:
                status = replace(base, phase=Phase.FAILED, reason=mem.error,
                                 next_restart_ms=mem.retry_at_ms)
            else:
                creates.append(Create(d))
                status = replace(base, reason="creating container")
        else:
            base = replace(base, container_id=keep.id)
            if keep.state in RUNNING_STATES:
                verdict = judge(d.spec, keep, health.get(rid))
                status = replace(base, phase=Phase.RUNNING, ready=verdict.ready,
                                 probes=verdict.reports)
                why = verdict.restart_reason
                if not why:
                    mem = replace(mem, error="", retry_at_ms=0, retry_delay_ms=0)
                elif mem.error and now_ms < mem.retry_at_ms:
                    status = replace(status, reason=f"stopping: {why} ({mem.error})",
                                     next_restart_ms=mem.retry_at_ms)
                else:
                    stops.append(Stop(keep.id, rid, why, keep.stop_timeout_s))
                    mem = replace(mem, probe_kill=(keep.id, keep.started_at_ms, why))
                    status = replace(status, reason=f"stopping: {why}")
            elif keep.state == "created":
                if mem.error and now_ms < mem.retry_at_ms:
                    status = replace(base, phase=Phase.FAILED, reason=mem.error,
                                     next_restart_ms=mem.retry_at_ms)
                else:
                    starts.append(Start(keep.id, rid))
                    status = replace(base, reason="starting container")
            elif keep.state in EXITED_STATES:
                status, mem, start = _exited(base, keep, mem, d.spec.restart_policy, now_ms)
                if start:
                    starts.append(start)
            else:   # removing, or a state this agent does not know: wait for it to settle
                status = replace(base, reason=f"container is {keep.state}")
        out.statuses[rid] = status
        out.book[rid] = mem

    # Not desired: removed, and reported Terminating for as long as a container of it exists
    # (or an operation in flight may still make one), never longer: the plane forgets a
    # retired replica only once a report leaves it out.
    for rid, cs in by_replica.items():
        if rid in wanted:
            continue
        if rid not in in_flight:
            for c in cs:
                removes.append(Remove(c.id, rid, "not in the desired set", c.stop_timeout_s))
        newest = max(cs, key=lambda c: (c.created_at_ms, c.id))
        out.statuses[rid] = _terminating(rid, newest.incarnation, newest.id, previous.get(rid))
    for rid, acts in in_flight.items():
        if rid in wanted or rid in by_replica:
            continue
        making = [a for a in acts if isinstance(a, Create)]
        if making:
            prev = previous.get(rid)
            out.statuses[rid] = _terminating(rid, making[0].desired.spec.incarnation,
                                             prev.container_id if prev else "", prev)

    # Remove first: a replaced container must free its ports and name before its successor.
    out.actions = removes + stops + creates + starts
    return out


def _terminating(rid: str, incarnation: int, container_id: str, prev: Status | None) -> Status:
    return Status(replica_id=rid, phase=Phase.TERMINATING, reason="stopping: not in the desired set",
                  container_id=container_id, incarnation=incarnation,
                  restarts=prev.restarts if prev else 0)


def _pick(candidates: Iterable[Container]) -> Container | None:
    """Of several containers matching one desired replica (left by an interrupted replace),
    keep a running one, else the newest."""
    best = None
    for c in candidates:
        rank = (c.state in RUNNING_STATES, c.created_at_ms, c.id)
        if best is None or rank > best[0]:
            best = (rank, c)
    return best[1] if best else None


def _replace_reason(c: Container, d: Desired, keep: Container | None) -> str:
    if c.incarnation != d.spec.incarnation:
        return f"replaced: incarnation {c.incarnation} -> {d.spec.incarnation}"
    if c.template_hash != d.spec.template_hash:
        return f"replaced: template changed (revision {c.revision} -> {d.spec.revision})"
    return f"duplicate of {keep.id[:12]}" if keep else "duplicate"


def _exited(base: Status, c: Container, mem: Memory, policy: str, now_ms: int):
    """Status, memory and maybe a Start for a container that has exited."""
    exited = replace(base, exit_code=c.exit_code)
    why = exit_reason(c)
    if mem.probe_kill and mem.probe_kill[:2] == (c.id, c.started_at_ms):
        why = mem.probe_kill[2]   # it was stopped because a probe gave up on it
    if not should_restart(policy, c.exit_code, c.oom_killed):
        return replace(exited, phase=Phase.EXITED, reason=why), mem, None
    if mem.exit_seen_ms != c.finished_at_ms:
        # A new exit: schedule its restart. A long good run starts the back-off afresh.
        ran_ms = c.finished_at_ms - c.started_at_ms
        delay = RESTART_INITIAL_MS if ran_ms >= RESTART_RESET_AFTER_MS else mem.next_delay_ms
        mem = replace(mem, exit_seen_ms=c.finished_at_ms,
                      next_restart_ms=c.finished_at_ms + delay,
                      next_delay_ms=min(delay * 2, RESTART_MAX_MS))
    if mem.error and now_ms < mem.retry_at_ms:
        return replace(exited, phase=Phase.FAILED, reason=mem.error,
                       next_restart_ms=mem.retry_at_ms), mem, None
    if now_ms >= mem.next_restart_ms:
        mem = replace(mem, restarts=mem.restarts + 1)
        status = replace(exited, phase=Phase.STARTING, restarts=mem.restarts,
                         reason=f"restarting after {why}")
        return status, mem, Start(c.id, c.replica_id, restart=True)
    # The reason names the delay, not a countdown, so that it stays the same until the restart.
    delay_s = (mem.next_restart_ms - c.finished_at_ms) / 1000
    return replace(exited, phase=Phase.BACKOFF, next_restart_ms=mem.next_restart_ms,
                   reason=f"{why}; back-off {delay_s:g}s"), mem, None


def record_failure(book: Mapping[str, Memory], replica_id: str, key: tuple[int, str],
                   error: str, now_ms: int) -> dict[str, Memory]:
    """The book after an action for `replica_id` failed: retry after a growing delay."""
    new = dict(book)
    mem = new.get(replica_id)
    if mem is None or mem.key != key:
        mem = Memory(key=key)
    delay = min(max(mem.retry_delay_ms * 2, RETRY_INITIAL_MS), RETRY_MAX_MS)
    new[replica_id] = replace(mem, error=error, retry_at_ms=now_ms + delay, retry_delay_ms=delay)
    return new
