import numpy as np

from orchestra.scheduler.explanation import Explanation, NodeNames, NodeScore, Rejection, sort_rejections

NAMES = [f"vm-{i}" for i in range(1, 41)]


def _nodes(*idx):
    return NodeNames(NAMES, np.array(idx, dtype=np.int64))


def test_unplaceable_line_sorts_reasons_by_count_and_abbreviates_names():
    rej = sort_rejections([
        Rejection("tenant", "tenant team-b already on node", _nodes(*range(9))),
        Rejection("fit", "insufficient memory", _nodes(*range(9, 40)), "needs 2Gi; most free 1.5Gi on vm-7"),
    ])
    e = Explanation("web-0", "web", None, 40, 0, rej)
    assert e.line() == ("0/40 nodes fit: 31 insufficient memory (needs 2Gi; most free 1.5Gi on vm-7), "
                        "9 tenant team-b already on node (vm-1..vm-9)")
    assert e.describe()[1] == "     31  insufficient memory: vm-10..vm-40; needs 2Gi; most free 1.5Gi on vm-7"


def test_placed_line_names_score_parts_and_runners_up():
    top = (NodeScore("vm-3", 150.0, (("spread", 50.0), ("workload-spread", 100.0))), NodeScore("vm-1", 149.5))
    e = Explanation("web-0", "web", "vm-3", 40, 12, (), top)
    assert e.line() == "placed on vm-3: score 150.0 (spread 50 + workload-spread 100); 12/40 nodes fit; next vm-1 149.5"
    assert e.describe()[1:] == ["  #1 vm-3 150.0 (spread 50.0, workload-spread 100.0)", "  #2 vm-1 149.5"]


def test_node_names_resolve_lazily_and_compare_as_lists():
    n = _nodes(0, 2)
    assert len(n) == 2 and n[1] == "vm-3" and list(n) == ["vm-1", "vm-3"] and n == ["vm-1", "vm-3"]
