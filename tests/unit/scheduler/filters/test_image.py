import numpy as np

from orchestra.scheduler import PendingReplica, schedule
from orchestra.scheduler.filters.image import ImagePresent
from orchestra.scheduler.snapshot import Snapshot
from orchestra.spec.model import Template, Workload, WorkloadSpec

from ..builders import node, state, view, workload


def app(image: str) -> Workload:
    w = workload("app")
    return Workload("app", WorkloadSpec(Template(image, resources=w.spec.template.resources)))


def test_nodes_without_the_image_are_refused_and_unreported_nodes_are_not_checked():
    c = state([node("a", images=frozenset({"local/app:1"})), node("b", images=frozenset()),
               node("c", images=None)])
    f = ImagePresent()
    w = view(c, app("local/app:1"))
    assert f.mask(c, w).tolist() == [True, False, True]
    [(reason, idx, _)] = f.explain(c, w, np.array([1]))
    assert reason == "lack image local/app:1"


def test_the_replica_s_image_compares_in_the_engine_s_form():
    c = state([node("a", images=frozenset({"busybox:latest", "local/app:1"}))])
    f = ImagePresent()
    assert f.mask(c, view(c, app("docker.io/library/busybox"))).tolist() == [True]
    assert f.mask(c, view(c, app("local/app:2"))).tolist() == [False]


def test_no_node_reporting_images_costs_no_loop():
    c = state([node("a"), node("b")])
    assert ImagePresent().mask(c, view(c, app("local/app:1"))) is c.all_nodes


def test_explanation_in_the_pipeline():
    nodes = (node("n1", images=frozenset()), node("n2", images=frozenset()),
             node("n3", images=frozenset(), ready=False))
    result = schedule(Snapshot(nodes), [PendingReplica("app-0", app("local/app:1"))])
    assert "app-0" not in result.placements
    assert result.explanations["app-0"] == \
        "0/3 nodes fit: 2 lack image local/app:1 (n1, n2), 1 node not ready (n3)"
