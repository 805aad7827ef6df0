"""agent.probes, the pure rules: defaults, thresholds, gating, due times, and what a
container's probes make of it (ready, or restart and why)."""
from __future__ import annotations

from agent.probes import (
    FAILURE, HEALTHCHECK, HELD_OFF, LIVENESS, MESSAGE_MAX, READINESS, STARTUP, SUCCESS, UNKNOWN,
    ImageHealth, ProbeConfig, ProbeReport, ProbeState, RunStates, first_due_ms, judge, may_run,
    next_due_ms, observe, probe_config, probe_configs,
)
from agent.reconciler import Container
from orchestra.api import agent_pb2


def http(path="/", port=8080, **kw) -> agent_pb2.Probe:
    return agent_pb2.Probe(http_get=agent_pb2.HttpGetAction(path=path, port=port), **kw)


def tcp(port=6379, **kw) -> agent_pb2.Probe:
    return agent_pb2.Probe(tcp_socket=agent_pb2.TcpSocketAction(port=port), **kw)


def exe(*cmd, **kw) -> agent_pb2.Probe:
    return agent_pb2.Probe(exec=agent_pb2.ExecAction(command=list(cmd)), **kw)


def spec(**probes) -> agent_pb2.ContainerSpec:
    return agent_pb2.ContainerSpec(replica_id="web-0", incarnation=1, template_hash="t",
                                   **{f"{k}_probe": v for k, v in probes.items()})


def running(state="running", health=None, started=1000) -> Container:
    return Container(id="c1", replica_id="web-0", incarnation=1, template_hash="t", state=state,
                     started_at_ms=started, health=health)


def test_defaults_are_kubernetes_and_zeros_count_as_defaults():
    cfg = probe_config(READINESS, http("/healthz"))
    assert (cfg.initial_delay_s, cfg.period_s, cfg.timeout_s, cfg.success_threshold,
            cfg.failure_threshold) == (0, 10, 1, 1, 3)
    cfg = probe_config(READINESS, tcp(initial_delay_seconds=5, period_seconds=2, timeout_seconds=3,
                                      success_threshold=2, failure_threshold=4))
    assert (cfg.initial_delay_s, cfg.period_s, cfg.timeout_s, cfg.success_threshold,
            cfg.failure_threshold) == (5, 2, 3, 2, 4)
    # One success is enough for liveness and startup, whatever was sent.
    assert probe_config(LIVENESS, exe("true", success_threshold=3)).success_threshold == 1
    assert probe_config(STARTUP, exe("true", success_threshold=3)).success_threshold == 1
    assert probe_config(READINESS, agent_pb2.Probe(period_seconds=1)) is None   # no action


def test_what_a_probe_checks_reads_like_the_manifest():
    assert probe_config(READINESS, http("/healthz", 8080)).text == "GET :8080/healthz"
    assert probe_config(READINESS, http("", 80)).text == "GET :80/"
    assert probe_config(READINESS, http("ready", 80)).text == "GET :80/ready"
    assert probe_config(LIVENESS, tcp(6379)).text == "tcp :6379"
    assert probe_config(STARTUP, exe("cat", "/tmp/ready")).text == "exec cat /tmp/ready"


def test_probe_configs_takes_only_the_probes_given():
    s = spec(readiness=http(), liveness=tcp())
    assert set(probe_configs(s)) == {READINESS, LIVENESS}
    assert probe_configs(spec()) == {}


def run(state, cfg, outcomes, start_ms=0, step_ms=1000):
    """Feed outcomes (True/False) one per step; returns every state."""
    out = []
    for i, ok in enumerate(outcomes):
        state = observe(state, cfg, ok, "ok" if ok else "answered 503", start_ms + i * step_ms)
        out.append(state)
    return out


def test_failure_threshold_flips_the_result_only_when_reached():
    cfg = ProbeConfig(READINESS, "http", port=8080, failure_threshold=3)
    s = run(ProbeState(), cfg, [True, False, False, False, True])
    assert [x.result for x in s] == [SUCCESS, SUCCESS, SUCCESS, FAILURE, SUCCESS]
    assert [x.consecutive_failures for x in s] == [0, 1, 2, 3, 0]
    assert [x.consecutive_successes for x in s] == [1, 0, 0, 0, 1]
    # last_change is when the result flipped, last_run when the attempt was made.
    assert [x.last_change_ms for x in s] == [0, 0, 0, 3000, 4000]
    assert [x.last_run_ms for x in s] == [0, 1000, 2000, 3000, 4000]
    assert s[3].message == "answered 503"


def test_success_threshold_of_readiness():
    cfg = ProbeConfig(READINESS, "tcp", port=1, success_threshold=2, failure_threshold=1)
    s = run(ProbeState(), cfg, [True, True, False, True, True])
    assert [x.result for x in s] == [UNKNOWN, SUCCESS, FAILURE, FAILURE, SUCCESS]


def test_messages_are_kept_short_on_one_line():
    cfg = ProbeConfig(READINESS, "exec", command=("x",))
    s = observe(ProbeState(), cfg, False, "line one\nline two   " + "x" * 500, 0)
    assert s.message.startswith("line one line two x") and len(s.message) == MESSAGE_MAX
    s = observe(ProbeState(), cfg, False, "Container " + "ab12" * 16 + " is paused", 0)
    assert s.message == "Container " + ("ab12" * 3) + " is paused"


def test_startup_holds_the_others_off_and_stops_once_done():
    fresh, ok, failed = ProbeState(), ProbeState(result=SUCCESS), ProbeState(result=FAILURE)
    assert may_run(STARTUP, fresh, is_started=False)
    assert not may_run(STARTUP, ok, is_started=True)          # done
    assert not may_run(STARTUP, failed, is_started=False)     # gave up: the container restarts
    for kind in (READINESS, LIVENESS):
        assert not may_run(kind, fresh, is_started=False)
        assert may_run(kind, fresh, is_started=True)
    assert may_run(READINESS, failed, is_started=True)        # readiness goes on failing or not
    assert not may_run(LIVENESS, failed, is_started=True)     # on hold until the restart


def test_due_times():
    cfg = ProbeConfig(READINESS, "tcp", port=1, initial_delay_s=5, period_s=2)
    assert first_due_ms(cfg, 10_000) == 15_000
    assert next_due_ms(cfg, 15_000) == 17_000


def test_without_probes_running_is_ready_and_paused_is_not():
    assert judge(spec(), running(), None).ready
    assert not judge(spec(), running("paused"), None).ready
    v = judge(spec(), running(), None)
    assert (v.restart_reason, v.reports) == ("", ())


def test_readiness_decides_and_starts_unknown():
    s = spec(readiness=http("/ready"))
    v = judge(s, running(), None)
    assert not v.ready
    assert v.reports == (ProbeReport(READINESS, UNKNOWN, action="GET :8080/ready"),)
    ok = RunStates(("c1", 1000), {READINESS: ProbeState(result=SUCCESS, message="answered 200")})
    assert judge(s, running(), ok).ready
    bad = RunStates(("c1", 1000), {READINESS: ProbeState(result=FAILURE, message="answered 503",
                                                         consecutive_failures=3)})
    v = judge(s, running(), bad)
    assert not v.ready and v.restart_reason == ""          # readiness never restarts
    assert v.reports[0].consecutive_failures == 3


def test_results_of_an_earlier_run_do_not_count():
    s = spec(readiness=http())
    old = RunStates(("c1", 500), {READINESS: ProbeState(result=SUCCESS)})
    assert not judge(s, running(started=1000), old).ready
    other = RunStates(("c0", 1000), {READINESS: ProbeState(result=SUCCESS)})
    assert not judge(s, running(started=1000), other).ready


def test_startup_gates_readiness_and_liveness():
    s = spec(startup=exe("cat", "/tmp/started"), readiness=http(), liveness=tcp())
    waiting = RunStates(("c1", 1000), {STARTUP: ProbeState(consecutive_failures=2,
                                                           message="exited with 1")})
    v = judge(s, running(), waiting)
    assert not v.ready and v.restart_reason == ""
    by = {r.probe: r for r in v.reports}
    assert by[STARTUP].result == UNKNOWN and by[STARTUP].consecutive_failures == 2
    assert (by[READINESS].result, by[READINESS].message) == (UNKNOWN, HELD_OFF)
    assert (by[LIVENESS].result, by[LIVENESS].message) == (UNKNOWN, HELD_OFF)
    done = RunStates(("c1", 1000), {STARTUP: ProbeState(result=SUCCESS),
                                    READINESS: ProbeState(result=SUCCESS)})
    assert judge(s, running(), done).ready


def test_startup_or_liveness_giving_up_asks_for_a_restart_with_the_probe_s_words():
    s = spec(startup=exe("cat", "/tmp/started", failure_threshold=2), liveness=http("/", 8080))
    gave_up = RunStates(("c1", 1000), {STARTUP: ProbeState(
        result=FAILURE, consecutive_failures=2,
        message="exited with 1: cat: can't open '/tmp/started': No such file or directory")})
    v = judge(s, running(), gave_up)
    assert not v.ready
    assert v.restart_reason == ("startup probe failed 2 times: exec cat /tmp/started exited with 1: "
                                "cat: can't open '/tmp/started': No such file or directory")
    dead = RunStates(("c1", 1000), {STARTUP: ProbeState(result=SUCCESS), LIVENESS: ProbeState(
        result=FAILURE, consecutive_failures=3, message="answered 503")})
    v = judge(s, running(), dead)
    assert v.restart_reason == "liveness probe failed 3 times: GET :8080/ answered 503"
    assert not v.ready


def test_image_healthcheck_is_readiness_when_there_is_no_readiness_probe():
    h = ImageHealth(status="healthy", test="cat /tmp/healthy", passing_streak=2, output="",
                    last_run_ms=5000)
    v = judge(spec(), running(health=h), RunStates(("c1", 1000), {
        HEALTHCHECK: ProbeState(result=SUCCESS, last_change_ms=4000)}))
    assert v.ready
    assert v.reports == (ProbeReport(HEALTHCHECK, SUCCESS, "", 0, 2, 5000, 4000,
                                     "HEALTHCHECK cat /tmp/healthy"),)
    for status, ready in (("starting", False), ("unhealthy", False)):
        v = judge(spec(), running(health=ImageHealth(status=status, output="nope")), None)
        assert v.ready is ready
        assert v.reports[0].result == (UNKNOWN if status == "starting" else FAILURE)
    # A readiness probe, when given, decides; the image's check is still shown.
    s = spec(readiness=http())
    v = judge(s, running(health=h), None)
    assert not v.ready and [r.probe for r in v.reports] == [READINESS, HEALTHCHECK]
    unhealthy = ImageHealth(status="unhealthy")
    assert judge(s, running(health=unhealthy), RunStates(("c1", 1000), {
        READINESS: ProbeState(result=SUCCESS)})).ready
