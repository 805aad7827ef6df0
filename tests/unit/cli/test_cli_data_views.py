"""Rows of configs, secrets and volumes; a secret's row and description hold keys and sizes only."""
from orchestra.api import orchestra_pb2 as pb
from orchestra.cli import views
from orchestra.cli.describe import describe_data, describe_volume, describe_workload

NOW = 1_000_000


def test_secret_rows_and_description_show_keys_and_sizes():
    s = pb.SecretInfo(name="db", sizes={"password": 12, "tls.key": 2048}, version=3, used_by=["web", "api"],
                      created_at_ms=NOW - 5000)
    assert views.secret_row(s, False, NOW) == ["db", "2", "2Ki", "3", "web,api", "5s"]
    assert views.secret_row(s, True, NOW)[-1] == "password(12B),tls.key(2Ki)"
    text = describe_data("secret", s, [], NOW)
    assert "password (12 bytes), tls.key (2048 bytes)" in text and "Data:" not in text


def test_config_rows_and_description_show_the_entries():
    c = pb.ConfigInfo(name="web", data={"app.conf": "a\nb\n"}, version=1, created_at_ms=NOW)
    assert views.config_row(c, True, NOW) == ["web", "1", "4B", "1", "<none>", "0s", "<none>", "app.conf"]
    assert "  app.conf:\n    a\n    b" in describe_data("config", c, [], NOW)


def test_volume_rows():
    v = pb.VolumeInfo(name="orchestra.db-0.data", workload="db", replica="", node="vm-2", state="Released",
                      volume="data", message="released by a move of db-0; its data stays on vm-2", created_at_ms=NOW)
    assert views.volume_row(v, True, NOW) == ["orchestra.db-0.data", "db", "<released>", "vm-2", "Released", "0s",
                                              "data", "released by a move of db-0; its data stays on vm-2"]


def test_a_workload_description_names_where_variables_come_from_and_what_is_mounted():
    doc = {"spec": {"template": {"image": "i", "env": {"A": "b", "PW": {"valueFrom": {"secretKeyRef": {
        "name": "db", "key": "password"}}}}, "envFrom": [{"configRef": {"name": "web"}, "prefix": "C_"}],
        "volumes": [{"name": "data"}, {"name": "creds", "secret": {"secretName": "db"}}],
        "volumeMounts": [{"name": "data", "mountPath": "/d", "readOnly": False},
                         {"name": "creds", "mountPath": "/s", "readOnly": True}]}}}
    import json
    text = describe_workload(pb.WorkloadDescription(workload=pb.WorkloadInfo(name="w", workload_json=json.dumps(doc))),
                             NOW)
    assert "A=b, PW=<secret db, key password>" in text
    assert "every key of config web (prefix C_)" in text
    assert "/d: data (its own volume, kept on its node); /s: creds (secret db, read-only)" in text


def test_a_volume_description_says_where_its_data_is_and_whose_it_was():
    v = pb.VolumeInfo(name="orchestra.db-0.data", workload="db", index=0, replica="", node="vm-2", state="Released",
                      volume="data", message="released by a move of db-0; its data stays on vm-2", created_at_ms=NOW)
    text = describe_volume(v, [], NOW)
    assert "Replica:  <none> (released; it held db-0's data)" in text
    assert "Node:     vm-2" in text
    assert "State:    Released: released by a move of db-0; its data stays on vm-2" in text
