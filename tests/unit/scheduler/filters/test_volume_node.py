import numpy as np

from orchestra.scheduler import schedule
from orchestra.scheduler.demand import Demand
from orchestra.scheduler.filters.volume_node import VolumeNode
from orchestra.scheduler.plugin import WorkloadState
from orchestra.scheduler.snapshot import PendingReplica, Snapshot

from ..builders import node, state, workload

WHY = "volume data of db-0 is on b"


def test_a_replica_with_data_goes_only_to_its_node():
    c = state([node("a"), node("b"), node("c")])
    w = WorkloadState(c, Demand.of(workload("db"), "spread", volume_node="b", volume_why=WHY))
    f = VolumeNode()
    assert f.applies(w.demand) and not f.applies(Demand.of(workload("db"), "spread"))
    assert f.mask(c, w).tolist() == [False, True, False]
    [(reason, idx, _)] = f.explain(c, w, np.array([0, 2]))
    assert reason == WHY and c.node_names(idx) == ["a", "c"]


def test_pinned_replicas_are_placed_on_their_node_even_when_others_score_better():
    snap = Snapshot((node("a"), node("b", memory=2 << 30), node("c")))
    db = workload("db", replicas=2)
    result = schedule(snap, [PendingReplica("db-0", db, volume_node="b", volume_why=WHY),
                             PendingReplica("db-1", db, volume_node="c", volume_why="volume data of db-1 is on c")])
    assert result.placements == {"db-0": "b", "db-1": "c"}


def test_when_its_node_is_lost_it_stays_unplaced_and_says_why_and_what_to_do():
    snap = Snapshot((node("a"), node("b", ready=False), node("c")))
    result = schedule(snap, [PendingReplica("db-0", workload("db"), volume_node="b", volume_why=WHY)])
    assert result.placements == {}
    line = result.explanations["db-0"]
    assert line.startswith("0/3 nodes fit: 2 volume data of db-0 is on b (a, c), 1 node not ready (b)")
    assert "it waits for b" in line and "orchestra move" in line and "the data stays on b" in line


def test_a_node_that_left_the_cluster_is_no_excuse_to_start_empty_elsewhere():
    snap = Snapshot((node("a"), node("c")))
    result = schedule(snap, [PendingReplica("db-0", workload("db"), volume_node="b", volume_why=WHY)])
    assert result.placements == {} and "2 volume data of db-0 is on b" in result.explanations["db-0"]
