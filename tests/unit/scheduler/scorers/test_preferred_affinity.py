from orchestra.scheduler.scorers.preferred_affinity import PreferredAffinity
from orchestra.spec.model import PreferredTerm
from orchestra.spec.model import SelectorRequirement as R

from ..builders import node, state, view, workload


def test_share_of_matched_weight():
    c = state([node("a", labels={"zone": "a", "disk": "ssd"}), node("b", labels={"zone": "a"}), node("c")])
    w = view(c, workload(preferred=(PreferredTerm(75, (R("disk", "In", ("ssd",)),)),
                                    PreferredTerm(25, (R("zone", "In", ("a",)),)))))
    s = PreferredAffinity()
    assert s.vector(c, w).tolist() == [100.0, 25.0, 0.0]
    assert s.one(c, w, 1) == 25.0
