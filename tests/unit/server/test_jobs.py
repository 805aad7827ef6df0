"""orchestra.server.jobs: run to completions, at most parallelism at a time, fail past the limits."""
from __future__ import annotations

from orchestra.phase import Phase
from orchestra.server.jobs import step
from orchestra.server.rollout import COMPLETE, FAILED, PROGRESSING, ReplicaView
from orchestra.spec.model import JobSpec


def r(i: int, phase=Phase.RUNNING, exit_code: int = 0, restarts: int = 0, reason: str = ""):
    return ReplicaView(id=f"job-{i}", index=i, revision=1, phase=phase, exit_code=exit_code, restarts=restarts,
                       reason=reason)


def test_parallelism_then_completions():
    job = JobSpec(completions=3, parallelism=2)
    s = step(job, [], 0, 0, PROGRESSING)
    assert (s.create, s.state) == (2, PROGRESSING)
    s = step(job, [r(0, Phase.SUCCEEDED), r(1)], 0, 0, PROGRESSING)
    assert (s.create, s.succeeded) == (1, 1) and s.message == "1/3 completed, 1 running"
    s = step(job, [r(0, Phase.SUCCEEDED), r(1, Phase.SUCCEEDED), r(2)], 0, 0, PROGRESSING)
    assert s.create == 0                                 # 2 done + 1 running = 3: no more needed
    s = step(job, [r(i, Phase.SUCCEEDED) for i in range(3)], 0, 0, PROGRESSING)
    assert (s.state, s.message) == (COMPLETE, "3/3 completed")


def test_failures_past_the_backoff_limit_fail_the_job_and_stop_what_runs():
    job = JobSpec(completions=2, parallelism=2, backoff_limit=1)
    failed = [r(0, Phase.FAILED, exit_code=3), r(1, Phase.FAILED, exit_code=3), r(2)]
    s = step(job, failed, 0, 0, PROGRESSING)
    assert s.state == FAILED and s.failures == 2 and "backoffLimit 1 exceeded: 2 failures" in s.message
    assert s.retire == [("job-2", "the job failed")] and s.create == 0


def test_restarts_in_place_count_as_failures_and_engine_refusals_do_not():
    job = JobSpec(completions=1, backoff_limit=2)
    assert step(job, [r(0, Phase.BACKOFF, restarts=3)], 0, 0, PROGRESSING).state == FAILED
    assert step(job, [r(0, Phase.FAILED, reason="image missing")], 0, 0, PROGRESSING).state == PROGRESSING


def test_active_deadline_and_finished_jobs_stay_finished():
    job = JobSpec(completions=1, active_deadline_seconds=10)
    s = step(job, [r(0)], 11_001, 1000, PROGRESSING)
    assert s.state == FAILED and "activeDeadlineSeconds 10 exceeded" in s.message
    s = step(job, [r(0, Phase.SUCCEEDED), r(1)], 0, 0, COMPLETE)
    assert s.state == COMPLETE and s.retire == [("job-1", "the job is complete")]
