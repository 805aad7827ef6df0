"""Revisions: what changed, in words; the newest kept, and never one still running."""
from __future__ import annotations

import json

from plane_fixtures import workload_json

from orchestra.server import revisions
from orchestra.spec import codec
from orchestra.store import SqliteStore


def w(**kw):
    return codec.from_json(workload_json("web", **kw), "<test>")


def test_change_summary_names_each_change():
    assert revisions.change_summary(None, w()) == "first revision"
    assert revisions.change_summary(w(cpu="100m"), w(cpu="250m")) == "resources.cpu: 100m -> 250m"
    probe = {"readinessProbe": {"tcpSocket": {"port": 80}}}
    assert revisions.change_summary(w(), w(probes=probe)).startswith('readinessProbe: set to {"failureThreshold"')
    assert revisions.change_summary(w(replicas=1), w(replicas=5)) == "no change in the template"
    many = w(cpu="1", memory="128Mi", command=("a",), probes={"terminationGracePeriodSeconds": 3, "env": {"A": "b"}})
    assert revisions.change_summary(w(), many).endswith("; and 1 more")


def test_prune_keeps_the_newest_and_those_in_use():
    store = SqliteStore(":memory:")
    for n in range(1, 15):
        store.put(revisions.make(w(cpu=f"{100 + n}m"), n, None, n))
    revisions.prune(store, "web", keep={2})
    assert [r.number for r in store.list_revisions("web")] == [2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
    assert revisions.next_number(store, "web", 3) == 15
    assert json.loads(store.get_revision("web", 2).spec_json)["spec"]["template"]["resources"]["cpu"] == "102m"
