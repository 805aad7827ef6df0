"""orchestra.server.rollout: the rolling-update arithmetic as a pure function, case by case and as
properties over random states."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.server.rollout import (COMPLETE, PAUSED, PROGRESSING, Goal, ReplicaView, message, progress,
                                      step)


def rv(i: int, revision: int, available: bool = True, terminating: bool = False, bound: bool = True, **kw):
    return ReplicaView(id=f"web-{i}", index=i, revision=revision, available=available, ready=available,
                       terminating=terminating, bound=bound, **kw)


def test_first_creation_is_plain_scaling():
    s = step(Goal(desired=3, revision=1, max_surge=1, max_unavailable=0), [])
    assert (s.create, s.retire) == (3, [])


def test_scale_down_retires_unplaced_then_unready_then_highest_index():
    replicas = [rv(0, 1), rv(1, 1, available=False), rv(2, 1), rv(3, 1, bound=False, available=False), rv(4, 1)]
    s = step(Goal(desired=2, revision=1, max_surge=1, max_unavailable=0), replicas)
    assert [rid for rid, _ in s.retire] == ["web-3", "web-1", "web-4"]
    assert s.create == 0


def test_surge_first_then_retire_when_the_new_one_is_available():
    g = Goal(desired=4, revision=2, max_surge=1, max_unavailable=0)
    old = [rv(i, 1) for i in range(4)]
    s = step(g, old)
    assert (s.create, s.retire) == (1, [])
    # The new one exists but is not available: nothing more happens.
    s = step(g, old + [rv(4, 2, available=False)])
    assert (s.create, s.retire) == (0, [])
    # Available: one old one goes; a Terminating one still counts against the surge.
    s = step(g, old + [rv(4, 2)])
    assert s.create == 0 and len(s.retire) == 1
    retired = s.retire[0][0]
    after = [rv(r.index, 1, terminating=r.id == retired) for r in old] + [rv(4, 2)]
    assert step(g, after).create == 0
    gone = [r for r in after if not r.terminating]
    assert step(g, gone).create == 1


def test_max_unavailable_without_surge_retires_first():
    g = Goal(desired=4, revision=2, max_surge=0, max_unavailable=1)
    old = [rv(i, 1) for i in range(4)]
    s = step(g, old)
    assert s.create == 0 and len(s.retire) == 1
    gone = old[:3]
    assert step(g, gone).create == 1


def test_old_replicas_that_are_not_available_go_first():
    g = Goal(desired=3, revision=2, max_surge=1, max_unavailable=0)
    replicas = [rv(0, 1), rv(1, 1, available=False), rv(2, 1), rv(3, 2)]
    s = step(g, replicas)
    assert [rid for rid, _ in s.retire][0] == "web-1"


def test_paused_rollout_does_nothing_but_plain_scaling_still_works():
    g = Goal(desired=2, revision=2, max_surge=1, max_unavailable=0, paused=True)
    s = step(g, [rv(0, 1), rv(1, 1)])
    assert (s.create, s.retire) == (0, [])
    assert progress(g, [rv(0, 1), rv(1, 1)]).state == PAUSED
    assert step(Goal(desired=3, revision=2, max_surge=1, max_unavailable=0, paused=True),
                [rv(0, 2), rv(1, 2)]).create == 1


def test_deleting_retires_everything():
    s = step(Goal(desired=2, revision=1, max_surge=1, max_unavailable=0, deleting=True), [rv(0, 1), rv(1, 1)])
    assert sorted(rid for rid, _ in s.retire) == ["web-0", "web-1"]


def test_progress_complete_only_when_old_and_terminating_are_gone():
    g = Goal(desired=2, revision=2, max_surge=1, max_unavailable=0)
    assert progress(g, [rv(0, 2), rv(1, 2), rv(2, 1, terminating=True)]).state == PROGRESSING
    assert progress(g, [rv(0, 2), rv(1, 2)]).state == COMPLETE


def test_message_names_what_the_rollout_waits_for():
    g = Goal(desired=4, revision=3, max_surge=1, max_unavailable=0)
    replicas = [rv(0, 3), rv(1, 3), rv(2, 2), rv(3, 2),
                rv(5, 3, available=False, failing_probe="readinessProbe GET :8080/ answered 503 (3 times)")]
    p = progress(g, replicas)
    assert message(g, p, stuck=True) == ("rollout stuck at 3/4 updated: web-5 not ready: "
                                         "readinessProbe GET :8080/ answered 503 (3 times)")
    crashing = [rv(0, 3, available=False, phase="BackOff", restarts=3, reason="exited with code 1")]
    assert "web-0 restarted 3 times" in progress(g, crashing).failed


# -- properties ------------------------------------------------------------------------------

views = st.builds(
    lambda i, rev, avail, term, bound: rv(i, rev, available=avail and bound and not term, terminating=term,
                                          bound=bound or term),
    st.integers(0, 30), st.integers(1, 3), st.booleans(), st.booleans(), st.booleans())


def _unique(replicas):
    seen, out = set(), []
    for r in replicas:
        if r.index not in seen:
            seen.add(r.index)
            out.append(r)
    return out


@given(st.lists(views, max_size=20).map(_unique), st.integers(0, 10), st.integers(1, 3), st.integers(0, 3),
       st.integers(0, 3))
@settings(max_examples=400, deadline=None)
def test_a_step_never_breaks_the_budget_it_found_kept(replicas, desired, revision, surge, unavailable):
    if surge == 0 and unavailable == 0:
        unavailable = 1
    g = Goal(desired=desired, revision=revision, max_surge=surge, max_unavailable=unavailable)
    s = step(g, replicas)
    live = {r.id: r for r in replicas if not r.terminating}
    assert all(rid in live for rid, _ in s.retire) and len({rid for rid, _ in s.retire}) == len(s.retire)
    new = [r for r in live.values() if r.revision == revision]
    assert 0 <= s.create <= max(0, desired - len(new))
    rolling = any(r.revision != revision for r in replicas)
    if rolling:
        # Never more records than desired + surge, unless there already were.
        assert len(replicas) + s.create <= max(len(replicas), desired + surge)
        # Availability never drops below desired - unavailable through this step.
        available = sum(1 for r in live.values() if r.available)
        after = available - sum(1 for rid, _ in s.retire if live[rid].available)
        assert after >= min(available, desired - unavailable)
    assert step(g, replicas) == s       # pure and deterministic


@given(st.integers(1, 8), st.integers(0, 3), st.integers(0, 3), st.randoms(use_true_random=False))
@settings(max_examples=150, deadline=None)
def test_a_rollout_driven_to_the_end_keeps_its_budget_all_along(desired, surge, unavailable, rnd: random.Random):
    """A world where new replicas become available and stopped ones go away at random moments (and
    nothing fails by itself): the rollout completes, and at no moment are there more than
    desired + surge records or fewer than desired - unavailable available replicas."""
    if surge == 0 and unavailable == 0:
        unavailable = 1
    g = Goal(desired=desired, revision=2, max_surge=surge, max_unavailable=unavailable)
    world = {i: rv(i, 1) for i in range(desired)}
    for _ in range(400):
        current = list(world.values())
        assert len(current) <= desired + surge
        assert sum(1 for r in current if r.available) >= desired - unavailable
        if progress(g, current).state == COMPLETE:
            break
        s = step(g, current)
        for rid, _ in s.retire:
            i = int(rid.rsplit("-", 1)[1])
            world[i] = rv(i, world[i].revision, available=False, terminating=True)
        free = [i for i in range(100) if i not in world][:s.create]
        for i in free:
            world[i] = rv(i, 2, available=False)
        for i, r in list(world.items()):
            if r.terminating and rnd.random() < 0.5:
                del world[i]
            elif not r.available and not r.terminating and rnd.random() < 0.5:
                world[i] = rv(i, r.revision)
    else:
        raise AssertionError("the rollout did not complete")
    assert sorted(r.revision for r in world.values()) == [2] * desired
