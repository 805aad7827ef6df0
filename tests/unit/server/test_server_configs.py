"""Configs and secrets on the plane: what a template reads of them (an apply: test_config_plan.py)."""
import json

from orchestra.security.secret_box import SecretBox
from orchestra.server import config_plan, configs
from orchestra.server.catalog import WorkloadCatalog
from orchestra.spec.codec import from_json
from orchestra.spec.configs import Config, Secret
from orchestra.store import SqliteStore
from orchestra.store.records import ConfigRecord, SecretRecord

BOX = SecretBox.ephemeral()


def workload(template_extra: dict):
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"},
           "spec": {"template": {"image": "local/busybox:1", **template_extra}}}
    return from_json(json.dumps(doc), "w")


def test_resolve_snapshots_what_a_template_reads():
    store = SqliteStore(":memory:")
    _store(store, [Config("c", {"a": "1"}), Secret("s", {"P": b"x"})])
    w = workload({"volumes": [{"name": "v", "config": {"name": "c"}}], "volumeMounts": [{"name": "v", "mountPath": "/c"}],
                  "env": {"P": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "P"}}}}})
    resolved, problems = configs.resolve(w, _objects(store))
    assert problems == []
    assert resolved.refs["config/c"] == {"digest": store.get(ConfigRecord, "c").digest, "data": {"a": "1"}}
    assert set(resolved.refs["secret/s"]) == {"digest", "sealed", "key_id"}       # still sealed
    assert resolved.digests == {"config/c": store.get(ConfigRecord, "c").digest,
                                "secret/s": store.get(SecretRecord, "s").digest}


def test_resolve_names_every_missing_object_and_key():
    store = SqliteStore(":memory:")
    _store(store, [Secret("s", {"P": b"x", "bad.key": b"y", "nul": b"a\x00b"})])
    w = workload({"volumes": [{"name": "v", "config": {"name": "c"}}], "volumeMounts": [{"name": "v", "mountPath": "/c"}],
                  "env": {"Q": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "Q"}}},
                          "N": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "nul"}}}},
                  "envFrom": [{"secretRef": {"name": "s"}}]})
    _, problems = configs.resolve(w, _objects(store))
    text = "\n".join(problems)
    assert "workload web: spec.template.volumes[0].config.name: config 'c' does not exist" in text
    assert "spec.template.env.Q.valueFrom.secretKeyRef.key: key 'Q' is not in secret s (its keys: P, bad.key, nul)" in text
    assert "key 'bad.key' of secret s makes the variable 'bad.key', which is not a shell variable name" in text
    assert "key 'nul' of secret s holds a NUL byte" in text
    assert "a\x00b" not in text


def test_what_changed_between_snapshots_never_says_what_they_hold():
    before = {"secret/s": {"digest": "1", "sealed": "x"}, "config/a": {"digest": "2"}}
    after = {"secret/s": {"digest": "3", "sealed": "y"}, "config/b": {"digest": "4"}}
    assert configs.refs_change(before, after) == ["config a no longer used", "config b used", "secret s changed"]


def _store(store, docs):
    config_plan.commit(store, _Events(), config_plan.plan(config_plan.State({}, {}, {}), BOX, docs, [], 1))


def _objects(store):
    state = config_plan.State.read(store, WorkloadCatalog())
    return configs.Objects(state.configs, state.secrets, BOX)


class _Events:
    def emit(self, *args):
        pass
