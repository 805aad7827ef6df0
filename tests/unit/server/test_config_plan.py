"""Configs and secrets in an apply: the records, the workloads a change rolls out, the problems."""
import json

import pytest

from orchestra.security.secret_box import SecretBox
from orchestra.server import config_plan
from orchestra.server.catalog import WorkloadCatalog
from orchestra.spec.codec import from_json, to_json
from orchestra.spec.configs import Config, Secret
from orchestra.store import SqliteStore
from orchestra.store.records import SecretRecord, WorkloadRecord

BOX = SecretBox.ephemeral()
USES_C = {"volumes": [{"name": "v", "config": {"name": "c"}}], "volumeMounts": [{"name": "v", "mountPath": "/c"}]}


def workload(name: str, template_extra: dict | None = None, **spec):
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name},
           "spec": {**spec, "template": {"image": "local/busybox:1", **(template_extra or {})}}}
    return from_json(json.dumps(doc), "w")


def state(store):
    return config_plan.State.read(store, WorkloadCatalog())


def stored(store, *workloads):
    for w in workloads:
        store.put_workload(WorkloadRecord(name=w.name, spec_json=to_json(w)))


def test_plan_says_created_configured_or_unchanged_and_counts_versions():
    store = SqliteStore(":memory:")
    first = config_plan.plan(state(store), BOX, [Config("c", {"a": "1"}), Secret("s", {"p": b"hunter2-secret"})], [], 1)
    assert [(c.action, c.record.version, c.new_version) for c in first.changes] == [("created", 1, False)] * 2
    assert first.changes[1].record.sizes == {"p": 14}
    assert BOX.open("s", first.changes[1].record.sealed) == {"p": b"hunter2-secret"}
    assert store.get(SecretRecord, "s") is None                       # planning writes nothing
    config_plan.commit(store, _Events(), first)
    again = config_plan.plan(state(store), BOX, [Config("c", {"a": "1"}), Secret("s", {"p": b"hunter2-secret"})], [], 2)
    assert [c.action for c in again.changes] == ["unchanged", "unchanged"]
    changed = config_plan.plan(state(store), BOX, [Config("c", {"a": "2"}),
                                                   Secret("s", {"p": b"hunter2-secret"}, labels={"k": "v"})], [], 3)
    assert [(c.action, c.record.version, c.new_version) for c in changed.changes] == [("configured", 2, True),
                                                                                       ("configured", 1, False)]
    # Labels alone: the same sealed value, no new version, nothing rolls out.
    assert changed.changes[1].record.sealed == store.get(SecretRecord, "s").sealed


def test_a_changed_config_rolls_the_stored_workloads_that_use_it_but_not_a_job():
    store = SqliteStore(":memory:")
    config_plan.commit(store, _Events(), config_plan.plan(state(store), BOX, [Config("c", {"a": "1"})], [], 1))
    stored(store, workload("web", USES_C), workload("other"), workload("batch", USES_C, mode="job"),
           workload("agentd", USES_C, mode="daemon"), workload("mine", USES_C))
    p = config_plan.plan(state(store), BOX, [Config("c", {"a": "2"})], [workload("mine", USES_C)], 2)
    assert [w.name for w in p.rolled] == ["agentd", "web"]     # "mine" is in the apply itself
    assert p.causes == {"agentd": "config c changed", "web": "config c changed"}
    assert set(p.refs) == {"mine", "agentd", "web"}
    assert p.refs["web"]["config/c"]["data"] == {"a": "2"}      # what the new revision will hold
    unchanged = config_plan.plan(state(store), BOX, [Config("c", {"a": "1"}, labels={"x": "y"})], [], 3)
    assert unchanged.rolled == []                               # labels only


def test_every_problem_of_every_workload_is_refused_at_once():
    store = SqliteStore(":memory:")
    bad = [workload("a", USES_C),
           workload("b", {"env": {"P": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "nope"}}}}})]
    with pytest.raises(config_plan.ConfigsRefused) as e:
        config_plan.plan(state(store), BOX, [Secret("s", {"p": b"x"})], bad, 1)
    text = str(e.value)
    assert "workload a: spec.template.volumes[0].config.name: config 'c' does not exist" in text
    assert "workload b: spec.template.env.P.valueFrom.secretKeyRef.key: key 'nope' is not in secret s" in text
    # A config in the same apply is found.
    ok = config_plan.plan(state(store), BOX, [Config("c", {"k": "v"})], [workload("a", USES_C)], 1)
    assert list(ok.refs["a"]) == ["config/c"]


class _Events:
    def emit(self, *args):
        pass
