"""agent.reconciler.plan: every case, with the clock given as `now` (and the probes' results,
the operations in flight and the previous statuses given too)."""
from __future__ import annotations

import copy

from agent.probes import FAILURE, LIVENESS, READINESS, SUCCESS, ProbeState, RunStates
from agent.reconciler import (
    RESTART_MAX_MS, Container, Create, Desired, Remove, Start, Status, Stop, missing_image_reason,
    plan, record_failure,
)
from orchestra.api import agent_pb2


def want(rid="web-0", rev=1, inc=1, policy="Always", image="local/busybox:1", template="t1", **kw):
    spec = agent_pb2.ContainerSpec(replica_id=rid, workload=rid.rsplit("-", 1)[0], revision=rev,
                                   template_hash=template, incarnation=inc, image=image,
                                   restart_policy=policy, command=["sleep", "1000"], **kw)
    return Desired(spec)


def seen(d: Desired, cid="c1", state="running", **kw):
    return Container(id=cid, replica_id=d.replica_id, incarnation=d.spec.incarnation,
                     template_hash=d.spec.template_hash, revision=d.spec.revision, state=state, **kw)


def test_creates_a_missing_replica():
    d = want()
    p = plan([d], [], now_ms=1000)
    assert p.actions == [Create(d)]
    assert p.statuses["web-0"].phase == "Starting"
    assert p.statuses["web-0"].incarnation == 1


def test_keeps_a_matching_running_container():
    d = want()
    p = plan([d], [seen(d)], now_ms=1000)
    assert p.actions == []
    s = p.statuses["web-0"]
    assert (s.phase, s.container_id) == ("Running", "c1")


def test_starts_a_created_container():
    d = want()
    p = plan([d], [seen(d, state="created")], now_ms=1000)
    assert p.actions == [Start("c1", "web-0")]


def test_replaces_on_template_hash_and_incarnation_change():
    old = want(rev=1, inc=1, template="t1")
    for new, why in [(want(rev=2, inc=1, template="t2"), "template changed (revision 1 -> 2)"),
                     (want(rev=1, inc=2, template="t1"), "incarnation 1 -> 2")]:
        p = plan([new], [seen(old)], now_ms=1000)
        assert p.actions == [Remove("c1", "web-0", p.actions[0].reason), Create(new)]
        assert why in p.actions[0].reason
        assert p.statuses["web-0"].phase == "Starting"


def test_only_the_plane_s_template_hash_decides_re_creation():
    # The agent does not second-guess the plane: other fields of the spec changing under the
    # same hash (which the plane never sends) re-create nothing.
    old = want(template="t1")
    p = plan([want(template="t1", env={"A": "b"})], [seen(old)], now_ms=1000)
    assert p.actions == [] and p.statuses["web-0"].phase == "Running"


def test_removes_unknown_containers_first():
    d = want("web-0")
    stray = seen(want("old-3"), cid="c9")
    p = plan([d], [stray], now_ms=0)
    assert p.actions == [Remove("c9", "old-3", "not in the desired set"), Create(d)]
    s = p.statuses["old-3"]
    assert (s.phase, s.container_id, s.incarnation) == ("Terminating", "c9", 1)


def test_empty_desired_set_removes_everything():
    a, b = want("a-0"), want("b-0")
    p = plan([], [seen(a, "c1"), seen(b, "c2")], now_ms=0)
    assert {x.container_id for x in p.actions} == {"c1", "c2"}
    assert all(isinstance(x, Remove) for x in p.actions)


def test_duplicates_keep_the_running_one():
    d = want()
    p = plan([d], [seen(d, "old", state="exited", created_at_ms=5),
                   seen(d, "new", state="running", created_at_ms=1)], now_ms=10)
    assert [type(a) for a in p.actions] == [Remove]
    assert p.actions[0].container_id == "old"
    assert p.statuses["web-0"].container_id == "new"


def test_missing_image_fails_with_reason_and_no_action():
    d = want(image="local/x:1")
    p = plan([d], [], now_ms=0, missing_images={"local/x:1"}, node="n1")
    assert p.actions == []
    s = p.statuses["web-0"]
    assert s.phase == "Failed"
    assert s.reason == missing_image_reason("local/x:1", "n1")
    assert s.reason == ("image local/x:1 is not present on node n1 (orchestra never pulls; "
                        "load it with docker load or orchestra image load)")


def exited(d, finished, started=None, code=1, **kw):
    return seen(d, state="exited", exit_code=code, finished_at_ms=finished,
                started_at_ms=finished - 100 if started is None else started, **kw)


def test_never_does_not_restart():
    d = want(policy="Never")
    p = plan([d], [exited(d, 1000, code=1)], now_ms=100_000)
    assert p.actions == []
    s = p.statuses["web-0"]
    assert (s.phase, s.exit_code, s.reason) == ("Exited", 1, "exited with code 1")


def test_on_failure_does_not_restart_success_but_restarts_failure():
    d = want(policy="OnFailure")
    p = plan([d], [exited(d, 1000, code=0)], now_ms=100_000)
    assert p.actions == [] and p.statuses["web-0"].phase == "Exited"
    p = plan([d], [exited(d, 1000, code=3)], now_ms=100_000)
    assert p.actions == [Start("c1", "web-0", restart=True)]
    p = plan([d], [exited(d, 1000, code=0, oom_killed=True)], now_ms=100_000)
    assert p.actions == [Start("c1", "web-0", restart=True)]
    assert p.statuses["web-0"].reason.startswith("restarting after OOMKilled")


def test_always_restarts_even_after_success():
    d = want(policy="Always")
    p = plan([d], [exited(d, 1000, code=0)], now_ms=100_000)
    assert p.actions == [Start("c1", "web-0", restart=True)]


def test_back_off_doubles_from_one_second_to_five_minutes():
    d = want(policy="OnFailure")
    book = {}
    finished, delays = 10_000, []
    for _ in range(12):
        # Just after the exit: BackOff, with the time of the restart.
        p = plan([d], [exited(d, finished)], now_ms=finished, book=book)
        assert p.actions == []
        s = p.statuses["web-0"]
        assert s.phase == "BackOff"
        delay = s.next_restart_ms - finished
        delays.append(delay)
        # A millisecond early: still waiting. On time: restart, counted.
        p = plan([d], [exited(d, finished)], now_ms=finished + delay - 1, book=p.book)
        assert p.actions == []
        p = plan([d], [exited(d, finished)], now_ms=finished + delay, book=p.book)
        assert p.actions == [Start("c1", "web-0", restart=True)]
        assert p.statuses["web-0"].restarts == len(delays)
        book = p.book
        # Runs a little, fails again.
        finished = finished + delay + 500
    assert delays[:9] == [1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000]
    assert delays[9:] == [RESTART_MAX_MS] * 3


def test_back_off_resets_after_ten_minutes_of_good_running():
    d = want(policy="Always")
    book = {}
    finished = 0
    for _ in range(5):   # grow the delay to 16 s
        finished += 100_000
        p = plan([d], [exited(d, finished)], now_ms=finished + 400_000, book=book)
        book = p.book
    assert book["web-0"].next_delay_ms == 32_000
    start = finished + 400_000
    # Ran for 10 minutes, then exited: back to 1 s.
    p = plan([d], [exited(d, start + 600_000, started=start)], now_ms=start + 600_000, book=book)
    assert p.statuses["web-0"].next_restart_ms == start + 600_000 + 1000
    # Ran for a bit less: keeps growing.
    p = plan([d], [exited(d, start + 599_000, started=start)], now_ms=start + 599_000, book=book)
    assert p.statuses["web-0"].next_restart_ms == start + 599_000 + 32_000


def test_restart_count_resets_when_the_container_is_replaced():
    d1 = want(rev=1, template="t1")
    p = plan([d1], [exited(d1, 1000)], now_ms=50_000)
    assert p.statuses["web-0"].restarts == 1
    d2 = want(rev=2, template="t2")
    p = plan([d2], [seen(d2, "c2")], now_ms=60_000, book=p.book)
    assert p.statuses["web-0"].restarts == 0


def test_failed_action_is_reported_and_retried_with_back_off():
    d = want()
    book = record_failure({}, "web-0", d.key, "port is already allocated", now_ms=1000)
    p = plan([d], [], now_ms=1500, book=book)
    assert p.actions == []
    s = p.statuses["web-0"]
    assert (s.phase, s.reason, s.next_restart_ms) == ("Failed", "port is already allocated", 2000)
    p = plan([d], [], now_ms=2000, book=book)
    assert p.actions == [Create(d)]
    book = record_failure(book, "web-0", d.key, "again", now_ms=2000)
    assert book["web-0"].retry_at_ms == 4000
    # Once it runs, the error is forgotten.
    p = plan([d], [seen(d)], now_ms=2500, book=book)
    assert p.statuses["web-0"].phase == "Running" and p.book["web-0"].error == ""


def test_plan_does_not_mutate_its_inputs():
    d = want(policy="Always")
    c = exited(d, 1000)
    book = plan([d], [c], now_ms=1000).book      # a non-empty book: an exit is scheduled in it
    assert book
    before = copy.deepcopy(book)
    plan([d], [c], now_ms=5000, book=book)       # would restart and count: in its own book only
    assert book == before


# -- probes: readiness and restarts --

def with_probes(**probes):
    d = want(policy="Always")
    for kind, p in probes.items():
        getattr(d.spec, f"{kind}_probe").CopyFrom(p)
    return d


HTTP = agent_pb2.Probe(http_get=agent_pb2.HttpGetAction(path="/", port=8080))


def test_running_replica_is_ready_by_its_readiness_probe_and_is_probed():
    d = with_probes(readiness=HTTP)
    c = seen(d, started_at_ms=500)
    p = plan([d], [c], now_ms=1000)
    s = p.statuses["web-0"]
    assert (s.phase, s.ready) == ("Running", False)
    assert [(r.probe, r.result, r.action) for r in s.probes] == [("readiness", "Unknown", "GET :8080/")]
    assert [(t.replica_id, t.container) for t in p.targets] == [("web-0", c)]
    ok = {"web-0": RunStates(("c1", 500), {READINESS: ProbeState(result=SUCCESS)})}
    assert plan([d], [c], now_ms=1000, health=ok).statuses["web-0"].ready
    # Without any probe, running is ready.
    assert plan([want()], [seen(want())], now_ms=1000).statuses["web-0"].ready


def test_liveness_giving_up_stops_then_restarts_with_back_off_and_the_reason():
    d = with_probes(liveness=HTTP)
    c = seen(d, started_at_ms=500, stop_timeout_s=7)
    dead = {"web-0": RunStates(("c1", 500), {LIVENESS: ProbeState(
        result=FAILURE, consecutive_failures=3, message="answered 503")})}
    why = "liveness probe failed 3 times: GET :8080/ answered 503"
    p = plan([d], [c], now_ms=10_000, health=dead)
    assert p.actions == [Stop("c1", "web-0", why, 7)]
    s = p.statuses["web-0"]
    assert (s.phase, s.ready, s.reason, s.restarts) == ("Running", False, f"stopping: {why}", 0)
    # Stopped: an exit like any other, restarted after the back-off, counted, with the reason.
    stopped = seen(d, state="exited", exit_code=143, started_at_ms=500, finished_at_ms=11_000)
    p = plan([d], [stopped], now_ms=11_000, book=p.book)
    s = p.statuses["web-0"]
    assert (s.phase, s.reason, s.next_restart_ms) == ("BackOff", f"{why}; back-off 1s", 12_000)
    p = plan([d], [stopped], now_ms=12_000, book=p.book)
    assert p.actions == [Start("c1", "web-0", restart=True)]
    s = p.statuses["web-0"]
    assert (s.restarts, s.reason) == (1, f"restarting after {why}")
    # The next run exits on its own: its own reason, not the probe's.
    again = seen(d, state="exited", exit_code=1, started_at_ms=12_100, finished_at_ms=13_000)
    p = plan([d], [again], now_ms=13_000, book=p.book)
    assert p.statuses["web-0"].reason == "exited with code 1; back-off 2s"


def test_liveness_restart_obeys_restart_policy_never():
    d = with_probes(liveness=HTTP)
    d.spec.restart_policy = "Never"
    dead = {"web-0": RunStates(("c1", 500), {LIVENESS: ProbeState(
        result=FAILURE, consecutive_failures=3, message="timed out after 1s")})}
    p = plan([d], [seen(d, started_at_ms=500)], now_ms=1000, health=dead)
    stopped = seen(d, state="exited", exit_code=143, started_at_ms=500, finished_at_ms=2000)
    p = plan([d], [stopped], now_ms=3000, book=p.book)
    assert p.actions == []
    assert (p.statuses["web-0"].phase, p.statuses["web-0"].reason) == (
        "Exited", "liveness probe failed 3 times: GET :8080/ timed out after 1s")


def test_a_stop_that_failed_waits_for_its_retry():
    d = with_probes(liveness=HTTP)
    dead = {"web-0": RunStates(("c1", 500), {LIVENESS: ProbeState(
        result=FAILURE, consecutive_failures=3, message="answered 500")})}
    c = seen(d, started_at_ms=500)
    book = record_failure({}, "web-0", d.key, "stop failed: boom", now_ms=1000)
    p = plan([d], [c], now_ms=1500, book=book, health=dead)
    assert p.actions == [] and "stop failed: boom" in p.statuses["web-0"].reason
    p = plan([d], [c], now_ms=2000, book=book, health=dead)
    assert [type(a) for a in p.actions] == [Stop]


# -- operations in flight --

def test_a_replica_in_flight_gets_no_action_and_keeps_its_status():
    d = want(policy="Always")
    prev = Status("web-0", "Starting", reason="restarting after exited with code 1", restarts=1)
    book = plan([d], [exited(d, 1000)], now_ms=1000).book
    p = plan([d], [exited(d, 1000)], now_ms=100_000, book=book,
             in_flight={"web-0": (Start("c1", "web-0", restart=True),)}, previous={"web-0": prev})
    assert p.actions == []
    assert p.statuses["web-0"] == prev
    assert p.book["web-0"] == book["web-0"]          # no restart counted twice
    # A replica in flight with nothing said about it yet.
    p = plan([d], [], now_ms=0, in_flight={"web-0": (Create(d),)})
    assert p.actions == [] and p.statuses["web-0"].reason == "operation in progress"


def test_others_are_not_held_up_by_a_replica_in_flight():
    a, b = want("a-0"), want("b-0")
    p = plan([b], [seen(a, "ca")], now_ms=0, in_flight={"a-0": (Remove("ca", "a-0", "x"),)})
    assert p.actions == [Create(b)]


# -- Terminating: exactly while a container of a retired replica exists --

def test_retired_replica_is_terminating_until_its_container_is_gone():
    old = want("web-3", inc=4)
    c = seen(old, "c3", stop_timeout_s=30)
    p = plan([], [c], now_ms=0)
    assert p.actions == [Remove("c3", "web-3", "not in the desired set", 30)]
    s = p.statuses["web-3"]
    assert (s.phase, s.incarnation, s.container_id) == ("Terminating", 4, "c3")
    # Its removal in flight: still there, still Terminating, no second removal.
    flying = {"web-3": tuple(p.actions)}
    p = plan([], [c], now_ms=1, in_flight=flying, previous=p.statuses)
    assert p.actions == [] and p.statuses["web-3"].phase == "Terminating"
    # Gone from the engine: gone from the report, even while the removal is still finishing.
    p = plan([], [], now_ms=2, in_flight=flying, previous=p.statuses)
    assert p.statuses == {}
    assert plan([], [], now_ms=3, previous=p.statuses).statuses == {}


def test_a_create_in_flight_for_a_retired_replica_is_terminating():
    d = want("web-3", inc=4)
    p = plan([], [], now_ms=0, in_flight={"web-3": (Create(d),)})
    s = p.statuses["web-3"]
    assert (s.phase, s.incarnation) == ("Terminating", 4)


def test_duplicate_containers_of_a_retired_replica_are_all_removed():
    old = want("web-3")
    p = plan([], [seen(old, "c1", created_at_ms=1), seen(old, "c2", created_at_ms=2)], now_ms=0)
    assert {a.container_id for a in p.actions} == {"c1", "c2"}
    assert p.statuses["web-3"].container_id == "c2"


def test_replaced_container_is_removed_with_its_own_grace():
    old, new = want(template="t1"), want(template="t2", rev=2)
    p = plan([new], [seen(old, stop_timeout_s=12)], now_ms=0)
    assert p.actions[0].grace_s == 12 and isinstance(p.actions[1], Create)


def test_status_essentials_leave_out_probe_counts_and_times():
    d = with_probes(readiness=HTTP)
    c = seen(d, started_at_ms=500)
    a = plan([d], [c], 0, health={"web-0": RunStates(("c1", 500), {READINESS: ProbeState(
        result=SUCCESS, consecutive_successes=1, last_run_ms=600)})}).statuses["web-0"]
    b = plan([d], [c], 0, health={"web-0": RunStates(("c1", 500), {READINESS: ProbeState(
        result=SUCCESS, consecutive_successes=9, last_run_ms=9600)})}).statuses["web-0"]
    f = plan([d], [c], 0, health={"web-0": RunStates(("c1", 500), {READINESS: ProbeState(
        result=FAILURE)})}).statuses["web-0"]
    assert a != b and a.essential == b.essential
    assert a.essential != f.essential
