"""Configs and secrets on the plane: what an apply does to them, and what a template reads of them."""
import json

from orchestra.security.secret_box import SecretBox
from orchestra.server import configs
from orchestra.spec.codec import from_json
from orchestra.spec.configs import Config, Secret
from orchestra.store import SqliteStore
from orchestra.store.records import ConfigRecord, SecretRecord

BOX = SecretBox.ephemeral()


def workload(template_extra: dict):
    doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"},
           "spec": {"template": {"image": "local/busybox:1", **template_extra}}}
    return from_json(json.dumps(doc), "w")


def test_plan_says_created_configured_or_unchanged_and_counts_versions():
    store = SqliteStore(":memory:")
    first = configs.plan(store, BOX, [Config("c", {"a": "1"}), Secret("s", {"p": b"hunter2-secret"})], 1)
    assert [(c.action, c.record.version, c.new_version) for c in first] == [("created", 1, False)] * 2
    assert first[1].record.sizes == {"p": 14} and BOX.open("s", first[1].record.sealed) == {"p": b"hunter2-secret"}
    configs.commit(store, _Events(), first)
    again = configs.plan(store, BOX, [Config("c", {"a": "1"}), Secret("s", {"p": b"hunter2-secret"})], 2)
    assert [c.action for c in again] == ["unchanged", "unchanged"]
    changed = configs.plan(store, BOX, [Config("c", {"a": "2"}), Secret("s", {"p": b"hunter2-secret"},
                                                                          labels={"k": "v"})], 3)
    assert [(c.action, c.record.version, c.new_version) for c in changed] == [("configured", 2, True),
                                                                               ("configured", 1, False)]
    assert configs.content_changed(changed) == {("Config", "c")}
    # Labels alone: the same sealed value, no new version, nothing rolls out.
    assert changed[1].record.sealed == store.get(SecretRecord, "s").sealed


def test_resolve_snapshots_what_a_template_reads():
    store = SqliteStore(":memory:")
    configs.commit(store, _Events(), configs.plan(store, BOX, [Config("c", {"a": "1"}), Secret("s", {"P": b"x"})], 1))
    w = workload({"volumes": [{"name": "v", "config": {"name": "c"}}], "volumeMounts": [{"name": "v", "mountPath": "/c"}],
                  "env": {"P": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "P"}}}}})
    resolved, problems = configs.resolve(w, configs.Objects(store, BOX))
    assert problems == []
    assert resolved.refs["config/c"] == {"digest": store.get(ConfigRecord, "c").digest, "data": {"a": "1"}}
    assert set(resolved.refs["secret/s"]) == {"digest", "sealed", "key_id"}       # still sealed
    assert resolved.digests == {"config/c": store.get(ConfigRecord, "c").digest,
                                "secret/s": store.get(SecretRecord, "s").digest}


def test_resolve_names_every_missing_object_and_key():
    store = SqliteStore(":memory:")
    configs.commit(store, _Events(), configs.plan(store, BOX, [Secret("s", {"P": b"x", "bad.key": b"y",
                                                                             "nul": b"a\x00b"})], 1))
    w = workload({"volumes": [{"name": "v", "config": {"name": "c"}}], "volumeMounts": [{"name": "v", "mountPath": "/c"}],
                  "env": {"Q": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "Q"}}},
                          "N": {"valueFrom": {"secretKeyRef": {"name": "s", "key": "nul"}}}},
                  "envFrom": [{"secretRef": {"name": "s"}}]})
    _, problems = configs.resolve(w, configs.Objects(store, BOX))
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


class _Events:
    def emit(self, *args):
        pass
