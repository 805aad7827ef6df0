import numpy as np
from hypothesis import given

from orchestra.scheduler.filters import DYNAMIC_FILTERS
from orchestra.scheduler.pipeline import Pipeline
from orchestra.scheduler.ranking import NEG, Ranking
from orchestra.scheduler.scorers import SCORERS
from orchestra.scheduler.snapshot import BoundReplica
from orchestra.spec.model import Resources

from .builders import GI, node, state, view, workload
from .test_properties import SETTINGS, scenarios


def _ranking(c, w):
    static_ok, feasible, _ = Pipeline(c).feasibility(w)
    dynamic = [f for f in DYNAMIC_FILTERS if f.applies(w.demand)]
    return Ranking(c, w, static_ok, feasible, dynamic, [(s, wt) for s, wt in SCORERS if s.active(c, w)])


def _place(c, w, rank, j, k):
    d = w.demand
    c.add(j, BoundReplica(f"{d.workload}-{k}", d.workload, c.names[j], Resources(d.cpu, d.memory), d.priority,
                          d.tenant, d.ports))
    w.counts[j] += 1
    rank.placed(j)


@SETTINGS
@given(scenarios())
def test_updating_after_each_placement_equals_ranking_afresh(scenario):
    snap, pending = scenario
    c = state(snap.nodes, snap.bound, snap.default_strategy)
    w = view(c, pending[0].workload)
    rank = _ranking(c, w)
    for k in range(4):
        j = rank.pick()
        if j is None:
            assert not rank.feasible.any()
            break
        _place(c, w, rank, j, k)
        fresh = _ranking(c, w)
        assert rank.feasible.tolist() == fresh.feasible.tolist()
        assert rank.n_feasible == fresh.n_feasible
        assert rank.best.tolist() == fresh.best.tolist()      # bit for bit: same sums in the same order


def test_top_lists_the_pick_with_its_parts_then_runners_up_by_name_on_ties():
    c = state([node("c"), node("a"), node("b"), node("d", memory=GI // 2)])
    w = view(c, workload(memory=GI))
    rank = _ranking(c, w)
    j = rank.pick()
    top = rank.top(j, 3)
    assert [s.node for s in top] == ["a", "b", "c"]
    assert [name for name, _ in top[0].parts] == ["spread", "workload-spread"]
    assert rank.best[c.index["d"]] == NEG and np.isfinite(rank.best[j])      # top() leaves the ranking as it was
