"""Health probes the agent runs against its containers, with Kubernetes' semantics (modelled
on kubelet's pkg/kubelet/prober/worker.go).

One worker per (container run, probe): it waits `initialDelaySeconds` after the container
started, then tries every `periodSeconds`, each attempt bounded by `timeoutSeconds`. A result
changes only after `successThreshold` successes or `failureThreshold` failures in a row
(liveness and startup: one success is enough). Results are cached for the converger (which
decides readiness and restarts through the reconciler) and for the status reports.

- startup holds readiness and liveness off until it succeeds, then stops; reaching its
  failure threshold means "restart the container";
- liveness reaching its failure threshold means "restart the container"; it then rests until
  the container runs again (a new run: a new start time), like kubelet's on-hold;
- readiness decides whether the replica is ready; without one, the image's own HEALTHCHECK
  (Docker's State.Health) does; with neither, running is ready.

The rules (ProbeConfig, observe, may_run, judge, ...) are pure; `Prober` is the part with a
thread and I/O. An attempt that could not be made at all (the engine is unreachable, the
container has just stopped) is thrown away, not counted, as kubelet does with prober errors.
"""
from __future__ import annotations

import http.client
import logging
import re
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from agent import metrics, netns

if TYPE_CHECKING:   # the pure rules must not pull the Docker SDK in
    from agent.reconciler import Container
    from orchestra.api import agent_pb2

log = logging.getLogger("orchestra.agent")

STARTUP = "startup"
READINESS = "readiness"
LIVENESS = "liveness"
HEALTHCHECK = "healthcheck"     # the image's own HEALTHCHECK, run by Docker
KINDS = (STARTUP, READINESS, LIVENESS)

SUCCESS = "Success"
FAILURE = "Failure"
UNKNOWN = "Unknown"

# The Kubernetes defaults, also for a 0 the plane should never send.
DEFAULT_PERIOD_S = 10
DEFAULT_TIMEOUT_S = 1
DEFAULT_SUCCESS_THRESHOLD = 1
DEFAULT_FAILURE_THRESHOLD = 3

MESSAGE_MAX = 200               # a probe's message in reports (its output, status, error)
HELD_OFF = "waiting for the startup probe"


@dataclass(frozen=True)
class ProbeConfig:
    kind: str                   # startup | readiness | liveness
    action: str                 # exec | http | tcp
    command: tuple[str, ...] = ()
    path: str = "/"
    port: int = 0
    initial_delay_s: int = 0
    period_s: int = DEFAULT_PERIOD_S
    timeout_s: int = DEFAULT_TIMEOUT_S
    success_threshold: int = DEFAULT_SUCCESS_THRESHOLD
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD

    @property
    def text(self) -> str:
        """What it checks, for people: "GET :8080/healthz", "tcp :6379", "exec cat /tmp/ok"."""
        if self.action == "http":
            return f"GET :{self.port}{self.path}"
        if self.action == "tcp":
            return f"tcp :{self.port}"
        return "exec " + " ".join(self.command)


def probe_config(kind: str, p: "agent_pb2.Probe") -> ProbeConfig | None:
    """The probe of a ContainerSpec field, defaults filled in; None when it has no action."""
    action = p.WhichOneof("action")
    if action is None:
        return None
    common = dict(
        kind=kind,
        initial_delay_s=max(0, p.initial_delay_seconds),
        period_s=p.period_seconds if p.period_seconds > 0 else DEFAULT_PERIOD_S,
        timeout_s=p.timeout_seconds if p.timeout_seconds > 0 else DEFAULT_TIMEOUT_S,
        # Kubernetes allows only 1 for liveness and startup; the plane validates that, and
        # here it simply holds.
        success_threshold=(p.success_threshold if p.success_threshold > 0 and kind == READINESS
                           else DEFAULT_SUCCESS_THRESHOLD),
        failure_threshold=(p.failure_threshold if p.failure_threshold > 0
                           else DEFAULT_FAILURE_THRESHOLD))
    if action == "exec":
        return ProbeConfig(action="exec", command=tuple(p.exec.command), **common)
    if action == "http_get":
        path = p.http_get.path or "/"
        if not path.startswith("/"):
            path = "/" + path
        return ProbeConfig(action="http", path=path, port=p.http_get.port, **common)
    return ProbeConfig(action="tcp", port=p.tcp_socket.port, **common)


def probe_configs(spec: "agent_pb2.ContainerSpec") -> dict[str, ProbeConfig]:
    """The probes a ContainerSpec asks for, by kind."""
    out = {}
    for kind, fieldname in ((STARTUP, "startup_probe"), (READINESS, "readiness_probe"),
                            (LIVENESS, "liveness_probe")):
        if spec.HasField(fieldname):
            cfg = probe_config(kind, getattr(spec, fieldname))
            if cfg is not None:
                out[kind] = cfg
    return out


# -- the state of one worker, and how an attempt changes it --

@dataclass(frozen=True)
class ProbeState:
    result: str = UNKNOWN       # the result after the thresholds: what readiness and restarts use
    message: str = ""           # what the last attempt said
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_run_ms: int = 0
    last_change_ms: int = 0     # when `result` last changed


def observe(state: ProbeState, cfg: ProbeConfig, ok: bool, message: str,
            now_ms: int) -> ProbeState:
    """The state after one attempt: the result flips only once a threshold is reached."""
    successes = state.consecutive_successes + 1 if ok else 0
    failures = 0 if ok else state.consecutive_failures + 1
    result = state.result
    if ok and successes >= cfg.success_threshold:
        result = SUCCESS
    elif not ok and failures >= cfg.failure_threshold:
        result = FAILURE
    return ProbeState(result=result, message=_short(message), consecutive_failures=failures,
                      consecutive_successes=successes, last_run_ms=now_ms,
                      last_change_ms=now_ms if result != state.result else state.last_change_ms)


def started(states: Mapping[str, ProbeState], kinds: Iterable[str]) -> bool:
    """Past the startup probe (or there is none)."""
    return STARTUP not in kinds or states.get(STARTUP, ProbeState()).result == SUCCESS


def may_run(kind: str, state: ProbeState, is_started: bool) -> bool:
    """Whether a worker probes at all now (its due time aside)."""
    if kind == STARTUP:
        return state.result == UNKNOWN        # done once it succeeded; given up once it failed
    if not is_started:
        return False                           # held off by the startup probe
    if kind == LIVENESS:
        return state.result != FAILURE         # the container is being restarted
    return True


def first_due_ms(cfg: ProbeConfig, started_at_ms: int) -> int:
    return started_at_ms + cfg.initial_delay_s * 1000


def next_due_ms(cfg: ProbeConfig, attempt_started_ms: int) -> int:
    return attempt_started_ms + cfg.period_s * 1000


# -- what the reconciler and the reports get --

@dataclass(frozen=True)
class ProbeReport:
    """One probe's last outcome, as reported (ProbeResult in types.proto)."""
    probe: str
    result: str
    message: str = ""
    consecutive_failures: int = 0
    consecutive_successes: int = 0
    last_run_ms: int = 0
    last_change_ms: int = 0
    action: str = ""

    @property
    def essential(self) -> tuple[str, str, str]:
        """What makes a report worth sending at once when it changes (counts and times ride
        along with the next report)."""
        return (self.probe, self.result, self.action)


@dataclass(frozen=True)
class ImageHealth:
    """Docker's State.Health of a container whose image has a HEALTHCHECK."""
    status: str                 # starting | healthy | unhealthy
    test: str = ""              # what it runs
    failing_streak: int = 0
    passing_streak: int = 0
    output: str = ""            # of the last check
    last_run_ms: int = 0


def healthcheck_result(status: str) -> str:
    return {"healthy": SUCCESS, "unhealthy": FAILURE}.get(status, UNKNOWN)


@dataclass(frozen=True)
class RunStates:
    """The cached results of one container run (container id, start time)."""
    run: tuple[str, int]
    states: Mapping[str, ProbeState] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    ready: bool
    restart_reason: str         # "" unless a startup or liveness probe gave up on the container
    reports: tuple[ProbeReport, ...] = ()


def judge(spec: "agent_pb2.ContainerSpec", c: "Container", seen: RunStates | None) -> Verdict:
    """Readiness and restart of a running container, from its probes' cached results. Results
    of an earlier run of the container (before a restart) do not count."""
    cfgs = probe_configs(spec)
    states = seen.states if seen is not None and seen.run == (c.id, c.started_at_ms) else {}
    is_started = started(states, cfgs)
    reports = []
    for kind, cfg in cfgs.items():
        st = states.get(kind, ProbeState())
        message = st.message or (HELD_OFF if kind != STARTUP and not is_started else "")
        reports.append(ProbeReport(kind, st.result, message, st.consecutive_failures,
                                   st.consecutive_successes, st.last_run_ms, st.last_change_ms,
                                   cfg.text))
    if c.health is not None:
        h = c.health
        since = states.get(HEALTHCHECK, ProbeState()).last_change_ms
        reports.append(ProbeReport(HEALTHCHECK, healthcheck_result(h.status), _short(h.output),
                                   h.failing_streak, h.passing_streak, h.last_run_ms, since,
                                   f"HEALTHCHECK {h.test}".strip()))

    if READINESS in cfgs:
        passing = states.get(READINESS, ProbeState()).result == SUCCESS
    elif c.health is not None:
        passing = c.health.status == "healthy"
    else:
        passing = True
    ready = c.state == "running" and is_started and passing

    reason = ""
    for kind in (STARTUP, LIVENESS):
        st = states.get(kind)
        if kind in cfgs and st is not None and st.result == FAILURE and (
                kind == STARTUP or is_started):
            reason = (f"{kind} probe failed {st.consecutive_failures} times: "
                      f"{cfgs[kind].text} {st.message}")
            break
    return Verdict(ready=ready and not reason, restart_reason=reason, reports=tuple(reports))


_LONG_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")


def _short(text: str) -> str:
    text = _LONG_ID.sub(r"\1", " ".join(text.split()))   # container ids as docker ps shows them
    return text if len(text) <= MESSAGE_MAX else text[:MESSAGE_MAX - 3] + "..."


# -- attempts: what one check does --

class NoResult(Exception):
    """The attempt could not be made (not a failure of the container): it is not counted."""


def attempt(cfg: ProbeConfig, target: "Target", runtime) -> tuple[bool, str]:
    """(success, message) of one check of `target`; raises NoResult when it could not run."""
    c = target.container
    if cfg.action == "exec":
        return _exec(runtime, c.id, cfg)
    if c.pid <= 0:
        raise NoResult("the container is not running")
    if cfg.action == "http":
        return _http_get(c.pid, c.ip, cfg)
    return _tcp(c.pid, c.ip, cfg)


def _exec(runtime, container_id: str, cfg: ProbeConfig) -> tuple[bool, str]:
    from agent.runtime.docker import ContainerError, RuntimeUnavailable
    try:
        code, output = runtime.exec_probe(container_id, cfg.command, cfg.timeout_s)
    except RuntimeUnavailable as e:
        raise NoResult(str(e)) from e
    except ContainerError as e:
        return False, f"could not run: {e}"
    text = output.decode(errors="replace").strip()
    if code is None:
        return False, f"timed out after {cfg.timeout_s}s" + (f": {text}" if text else "")
    if code == 0:
        return True, text
    return False, f"exited with {code}" + (f": {text}" if text else "")


def _http_get(pid: int, ip: str, cfg: ProbeConfig) -> tuple[bool, str]:
    try:
        conn = netns.connect(pid, ip, cfg.port, cfg.timeout_s)
    except netns.ConnectFailed as e:
        return False, str(e)
    client = http.client.HTTPConnection(conn.host, cfg.port, timeout=cfg.timeout_s)
    client.sock = conn.sock   # already connected, maybe from inside the container's namespace
    try:
        client.request("GET", cfg.path, headers={"User-Agent": "orchestra-probe/1",
                                                  "Accept": "*/*", "Connection": "close"})
        resp = client.getresponse()
        status = resp.status
        resp.read(4096)
    except (OSError, http.client.HTTPException) as e:
        return False, f"{netns.describe(e, cfg.timeout_s)} ({conn.where})"
    finally:
        client.close()
    return 200 <= status < 400, f"answered {status}"


def _tcp(pid: int, ip: str, cfg: ProbeConfig) -> tuple[bool, str]:
    try:
        conn = netns.connect(pid, ip, cfg.port, cfg.timeout_s)
    except netns.ConnectFailed as e:
        return False, str(e)
    conn.sock.close()
    return True, f"connected ({conn.where})"


# -- the workers --

@dataclass(frozen=True)
class Target:
    """A running container to probe, with the spec it was created from."""
    replica_id: str
    container: "Container"
    spec: "agent_pb2.ContainerSpec"

    @property
    def run(self) -> tuple[str, int]:
        return (self.container.id, self.container.started_at_ms)


class _Worker:
    def __init__(self, target: Target, cfg: ProbeConfig):
        self.target = target
        self.cfg = cfg
        self.state = ProbeState()
        self.due_ms = first_due_ms(cfg, target.container.started_at_ms)
        self.busy = False


class Prober:
    """Runs the probes of the targets the converger gives it (`update`), each attempt on a
    short-lived thread (the network namespace of a thread is its own: see agent.netns), at
    most one attempt of a worker at a time. `on_change()` is called when a result changes or
    the startup probe lets the others run: readiness and restarts depend on it."""

    def __init__(self, runtime, clock: Callable[[], int],
                 on_change: Callable[[], None] = lambda: None):
        self.runtime = runtime
        self.clock = clock
        self.on_change = on_change
        self._workers: dict[tuple[str, str], _Worker] = {}     # (replica id, kind)
        self._healthchecks: dict[str, tuple[tuple[str, int], ProbeState]] = {}
        self._cond = threading.Condition()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="prober", daemon=True)
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread:
            self._thread.join(5)

    def update(self, targets: Iterable[Target]) -> None:
        """The containers to probe now; workers of any other container (or an earlier run of
        one) are dropped, new ones begin from scratch."""
        now = self.clock()
        changed = False
        with self._cond:
            keep: dict[tuple[str, str], _Worker] = {}
            healthchecks = {}
            for t in targets:
                for kind, cfg in probe_configs(t.spec).items():
                    key = (t.replica_id, kind)
                    w = self._workers.get(key)
                    if w is None or w.target.run != t.run or w.cfg != cfg:
                        w = _Worker(t, cfg)
                    else:
                        w.target = t          # fresher details (pid, address)
                    keep[key] = w
                if t.container.health is not None:
                    result = healthcheck_result(t.container.health.status)
                    old = self._healthchecks.get(t.replica_id)
                    if old is None or old[0] != t.run or old[1].result != result:
                        healthchecks[t.replica_id] = (t.run, ProbeState(result=result,
                                                                        last_change_ms=now))
                        changed = changed or old is not None
                    else:
                        healthchecks[t.replica_id] = old
            self._workers, self._healthchecks = keep, healthchecks
            self._cond.notify_all()
        if changed:
            self.on_change()

    def states(self) -> dict[str, RunStates]:
        """replica id -> the cached results of its current container run."""
        with self._cond:
            out: dict[str, dict[str, ProbeState]] = {}
            runs: dict[str, tuple[str, int]] = {}
            for (rid, kind), w in self._workers.items():
                out.setdefault(rid, {})[kind] = w.state
                runs[rid] = w.target.run
            for rid, (run, st) in self._healthchecks.items():
                if runs.setdefault(rid, run) == run:
                    out.setdefault(rid, {})[HEALTHCHECK] = st
            return {rid: RunStates(runs[rid], states) for rid, states in out.items()}

    # -- the loop --

    def _loop(self) -> None:
        with self._cond:
            while not self._stopping:
                now = self.clock()
                wake_ms = None
                for w in list(self._workers.values()):
                    if w.busy or not may_run(w.cfg.kind, w.state, self._started(w)):
                        continue
                    if w.due_ms <= now:
                        w.busy = True
                        w.due_ms = next_due_ms(w.cfg, now)
                        threading.Thread(target=self._attempt, args=(w,), daemon=True,
                                         name=f"probe-{w.target.replica_id}-{w.cfg.kind}").start()
                    elif wake_ms is None or w.due_ms < wake_ms:
                        wake_ms = w.due_ms
                timeout = None if wake_ms is None else max(0.0, (wake_ms - now) / 1000)
                self._cond.wait(timeout if timeout is None else min(timeout, 60.0))

    def _started(self, w: _Worker) -> bool:
        startup = self._workers.get((w.target.replica_id, STARTUP))
        if startup is None or startup.target.run != w.target.run:
            return True
        return startup.state.result == SUCCESS

    def _attempt(self, w: _Worker) -> None:
        began = self.clock()
        try:
            ok, message = attempt(w.cfg, w.target, self.runtime)
        except NoResult as e:
            log.debug("%s: %s probe not run: %s", w.target.replica_id, w.cfg.kind, e)
            ok = message = None
        except Exception:   # a bug in a check must not stop the worker for good
            log.exception("%s: %s probe attempt failed", w.target.replica_id, w.cfg.kind)
            ok = message = None
        changed = False
        with self._cond:
            w.busy = False
            if ok is not None and self._workers.get((w.target.replica_id, w.cfg.kind)) is w:
                metrics.probe_result(w.cfg.kind, ok)
                before = w.state
                w.state = observe(before, w.cfg, ok, message, began)
                changed = w.state.result != before.result
                if changed:
                    log.info("%s: %s probe %s -> %s: %s %s", w.target.replica_id, w.cfg.kind,
                             before.result, w.state.result, w.cfg.text, w.state.message)
            self._cond.notify_all()
        if changed:
            self.on_change()
