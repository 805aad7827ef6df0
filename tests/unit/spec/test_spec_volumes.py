"""Template volumes, mounts and variables from configs and secrets: parsing, the canonical form,
and every error that needs only the template."""
import json

import pytest

from orchestra.spec import codec, volumes
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import parse_document
from orchestra.spec.model import Budget


def doc(template: dict, update: dict | None = None) -> dict:
    spec = {"replicas": 2, "template": {"image": "local/busybox:1", **template}}
    if update is not None:
        spec["update"] = update
    return {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"}, "spec": spec}


def parsed(template: dict, update: dict | None = None):
    return parse_document(doc(template, update), "w.yaml", 1)


def problems(template: dict, update: dict | None = None) -> str:
    with pytest.raises(ManifestError) as e:
        parsed(template, update)
    return str(e.value)


FULL = {
    "volumes": [{"name": "data"}, {"name": "conf", "config": {"name": "web-config"}},
                {"name": "creds", "secret": {"secretName": "db", "items": [{"key": "password", "path": "pw/db"}]}}],
    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/web"}, {"name": "conf", "mountPath": "/etc/web"},
                     {"name": "creds", "mountPath": "/run/secrets/db"}],
    "env": {"GREETING": "hi", "DB_PASSWORD": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}},
    "envFrom": [{"configRef": {"name": "web-config"}, "prefix": "CFG_"}],
}


def test_a_full_template_parses_and_round_trips():
    w = parsed(FULL)
    t = w.spec.template
    assert [v.source for v in t.volumes] == [volumes.PERSISTENT, volumes.CONFIG, volumes.SECRET]
    assert t.volumes[2].items == (volumes.KeyToPath("password", "pw/db"),)
    # Config and secret volumes are read-only whatever the manifest says; the replica's own is not.
    assert [m.read_only for m in t.volume_mounts] == [False, True, True]
    assert t.env == {"GREETING": "hi"}
    assert t.env_refs == {"DB_PASSWORD": volumes.KeyRef(volumes.SECRET, "db", "password")}
    assert t.env_from == (volumes.EnvFrom(volumes.CONFIG, "web-config", "CFG_"),)
    assert codec.from_json(codec.to_json(w), "x") == w
    assert volumes.used_objects(t) == {(volumes.CONFIG, "web-config"), (volumes.SECRET, "db")}


def test_a_workload_without_volumes_keeps_its_canonical_form_and_hash():
    w = parsed({"command": ["sleep", "1"]})
    template = json.loads(codec.to_json(w))["spec"]["template"]
    assert not {"volumes", "volumeMounts", "envFrom"} & set(template)
    assert codec.template_hash(w) == codec.template_hash(w, {})


def test_referenced_content_is_part_of_the_template_hash():
    w = parsed(FULL)
    assert codec.template_hash(w, {"secret/db": "a"}) != codec.template_hash(w, {"secret/db": "b"})


def test_persistent_volumes_replace_in_place_by_default_and_refuse_a_surge():
    u = parsed(FULL).spec.update
    assert (u.max_surge, u.max_unavailable) == (Budget(0), Budget(1))
    text = problems(FULL, {"maxSurge": 1})
    assert "spec.update.maxSurge: 1 is not possible with volumes" in text
    # Without a replica's own volume a surge is fine.
    only_config = {**FULL, "volumes": FULL["volumes"][1:], "volumeMounts": FULL["volumeMounts"][1:]}
    assert parsed(only_config, {"maxSurge": 1}).spec.update.max_surge == Budget(1)


@pytest.mark.parametrize("change, expected", [
    ({"volumeMounts": FULL["volumeMounts"][:2] + [{"name": "creds", "mountPath": "/etc/web"}]},
     "spec.template.volumeMounts[2].mountPath: /etc/web is also the mount path of spec.template.volumeMounts[1]"),
    ({"volumeMounts": FULL["volumeMounts"] + [{"name": "data", "mountPath": "/etc/web/cache"}]},
     "/etc/web/cache is inside /etc/web, the read-only mount of config volume conf"),
    ({"volumeMounts": FULL["volumeMounts"][:2]}, "spec.template.volumes[2]: volume creds is not mounted"),
    ({"volumeMounts": FULL["volumeMounts"] + [{"name": "cache", "mountPath": "/cache"}]},
     'spec.template.volumeMounts[3].name: "cache" is not a volume of this template (volumes: data, conf, creds)'),
    ({"volumeMounts": [{"name": "data", "mountPath": "data"}]}, 'mountPath: "data" must be an absolute path'),
    ({"volumeMounts": [{"name": "data", "mountPath": "/a/../b"}]}, "is not a normalised path"),
    ({"volumeMounts": [{"name": "data", "mountPath": "/run/orchestra/x"}]}, "clashes with /run/orchestra"),
    ({"volumes": FULL["volumes"] + [{"name": "data"}]}, 'volumes[3].name: "data" is also the name of'),
    ({"volumes": [{"name": "x", "config": {"name": "a"}, "secret": {"secretName": "b"}}]}, "has both config and secret"),
    ({"volumes": [{"name": "x", "config": {"name": "a", "items": [{"key": "k", "path": "../k"}]}}]},
     "must not contain empty, '.' or '..' parts"),
    ({"volumeMounts": FULL["volumeMounts"][:1] + [{"name": "conf", "mountPath": "/etc/web", "readOnly": False}]
      + FULL["volumeMounts"][2:]}, "a config volume is always mounted read-only"),
    ({"env": {"DB-PASSWORD": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}}},
     'variable "DB-PASSWORD" is not a shell variable name'),
    ({"env": {"my.var": "x", "P": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "p"}}}}},
     'spec.template.env["my.var"]: variable "my.var" is not a shell variable name'),
    ({"env": {"X": {"valueFrom": {"secretKeyRef": {"name": "db"}}}}}, "secretKeyRef.key: required field is missing"),
    ({"env": {"X": {"value": "y"}}}, "spec.template.env.X.value: unknown field"),
    ({"envFrom": [{"configRef": {"name": "a"}, "secretRef": {"name": "b"}}]}, "needs exactly one of configRef or secretRef"),
])
def test_template_errors_are_precise(change, expected):
    assert expected in problems({**FULL, **change})


def test_references_say_which_field_uses_which_key():
    refs = volumes.references(parsed(FULL).spec.template)
    by_path = {(r.path, r.key): r for r in refs}
    assert ("spec.template.volumes[1].config.name", "") in by_path
    r = by_path["spec.template.volumes[2].secret.secretName", "password"]
    assert r.key_path == "spec.template.volumes[2].secret.items[0].key"
    r = by_path["spec.template.env.DB_PASSWORD.valueFrom.secretKeyRef.name", "password"]
    assert r.as_variable and r.key_path.endswith("secretKeyRef.key")
    assert any(r.prefix == "CFG_" and r.as_variable for r in refs)


@pytest.mark.parametrize("mode,why", [("daemon", "a daemon's replica is replaced by a new one on its node"),
                                      ("job", "a job's failed replica is replaced by a new one")])
def test_a_daemon_or_job_takes_config_and_secret_volumes_but_no_volume_of_its_own(mode, why):
    d = doc(FULL)
    del d["spec"]["replicas"]
    d["spec"]["mode"] = mode
    with pytest.raises(ManifestError) as e:
        parse_document(d, "w.yaml", 1)
    text = str(e.value)
    assert ("spec.template.volumes[0]: volume \"data\" has no config or secret: a volume kept per replica is for "
            "replicated workloads only") in text and why in text
    assert "volumes[1]" not in text and "volumes[2]" not in text
    d["spec"]["template"]["volumes"] = FULL["volumes"][1:]
    d["spec"]["template"]["volumeMounts"] = FULL["volumeMounts"][1:]
    w = parse_document(d, "w.yaml", 1)
    assert w.spec.mode == mode and [v.name for v in w.spec.template.volumes] == ["conf", "creds"]


def test_an_env_key_that_is_no_string_is_an_error_not_a_crash():
    assert "spec.template.env: variable names must be strings, got" in problems({"env": {0: {}}})
