"""The user service with configs, secrets and volumes, over a plane with in-process agents: what an
apply stores and rolls out, where content travels, and the lifecycle of a replica's volumes."""
from __future__ import annotations

import base64
import json

import pytest
from plane_fixtures import Agents, desired_of, drain, workload_json

from orchestra.server.errors import FailedPrecondition, InvalidArgument
from orchestra.store.records import SecretRecord, VolumeRecord


def config(data: dict, name: str = "web-config") -> str:
    return json.dumps({"apiVersion": "orchestra/v1", "kind": "Config", "metadata": {"name": name}, "data": data})


def secret(value: bytes, name: str = "db") -> str:
    return json.dumps({"apiVersion": "orchestra/v1", "kind": "Secret", "metadata": {"name": name},
                       "data": {"password": base64.b64encode(value).decode()}})


def workload(name: str = "web", replicas: int = 1, volume: bool = False, **update) -> str:
    vols = [{"name": "conf", "config": {"name": "web-config"}}, {"name": "creds", "secret": {"secretName": "db"}}]
    mounts = [{"name": "conf", "mountPath": "/etc/web"}, {"name": "creds", "mountPath": "/run/secrets/db"}]
    if volume:
        vols.append({"name": "data"})
        mounts.append({"name": "data", "mountPath": "/data"})
    spec = {"replicas": replicas, "template": {
        "image": "local/busybox:1", "command": ["sleep", "3600"], "volumes": vols, "volumeMounts": mounts,
        "env": {"DB_PASSWORD": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}}}}
    if update:
        spec["update"] = update
    return json.dumps({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": name}, "spec": spec})


def specs(ds) -> dict:
    return {c.replica_id: c for c in ds.replicas}


def test_apply_stores_secrets_sealed_and_sends_content_only_to_the_node_that_runs_it(plane, clock):
    agents = Agents(plane)
    s1, s2 = agents.join("vm-1"), agents.join("vm-2")
    resp = plane.service.apply([config({"app.conf": "x"}), secret(b"hunter2-pw"), workload()])
    assert [(r.kind, r.workload, r.action) for r in resp.results] == [
        ("Config", "web-config", "created"), ("Secret", "db", "created"), ("Workload", "web", "created")]
    stored = plane.store.get(SecretRecord, "db")
    assert stored.sizes == {"password": 10} and b"hunter2" not in stored.sealed.encode()
    sets = {"vm-1": desired_of(s1), "vm-2": desired_of(s2)}
    [(node, ds)] = [(n, d) for n, d in sets.items() if d.replicas]
    c = ds.replicas[0]
    assert c.secret_env["DB_PASSWORD"] == b"hunter2-pw" and "DB_PASSWORD" not in c.env
    files = {m.mount_path: {f.path: f.content for f in m.files} for m in c.file_mounts}
    assert files == {"/etc/web": {"app.conf": b"x"}, "/run/secrets/db": {"password": b"hunter2-pw"}}
    other = next(n for n in sets if n != node)
    assert all(not d.file_mounts and not d.secret_env for d in (sets[other].replicas if sets[other] else []))
    # The user's answers hold keys and sizes, never values.
    listed = plane.service.list_secrets().secrets[0]
    assert dict(listed.sizes) == {"password": 10} and list(listed.used_by) == ["web"]
    assert b"hunter2" not in listed.SerializeToString()


def test_a_changed_secret_rolls_out_its_workloads_as_a_new_revision(plane, clock):
    agents = Agents(plane)
    s = agents.join("vm-1")
    plane.service.apply([config({"a": "1"}), secret(b"old-value"), workload(replicas=2)])
    agents.settle(clock, rounds=3)
    drain(s)
    res = plane.service.apply([secret(b"new-value")]).results
    assert [(r.kind, r.action, r.revision, r.new_revision) for r in res[:1]] == [("Secret", "configured", 2, True)]
    [w] = [r for r in res if r.kind == "Workload"]
    assert (w.workload, w.revision, w.new_revision, w.cause, w.generation) == ("web", 2, True, "secret db changed", 1)
    assert plane.store.get_revision("web", 2).change == "secret db changed"
    # During the rollout old replicas keep the old value, new ones get the new one.
    agents.sets["vm-1"] = ds = desired_of(s)
    seen = {(c.revision, c.secret_env["DB_PASSWORD"]) for c in ds.replicas}
    assert (1, b"old-value") in seen and (2, b"new-value") in seen
    agents.settle(clock, rounds=8)
    assert {r.revision for r in plane.store.list_replicas(workload="web")} == {2}
    # A dry run says what a change would roll, and changes nothing.
    dry = plane.service.apply([secret(b"third")], dry_run=True).results
    assert [(r.kind, r.action, r.cause) for r in dry] == [("Secret", "configured", ""),
                                                          ("Workload", "configured", "secret db changed")]
    assert plane.store.get(SecretRecord, "db").version == 2 and plane.store.get_workload("web").revision == 2
    # Unchanged content: nothing rolls.
    assert [r.action for r in plane.service.apply([secret(b"new-value")]).results] == ["unchanged"]
    # An undo brings back the content revision 1 was made with.
    plane.service.undo_rollout("web", 1)
    assert plane.store.get_revision("web", 3).refs["secret/db"]["digest"] == \
        plane.store.get_revision("web", 1).refs["secret/db"]["digest"]


def test_bad_references_store_nothing(plane):
    with pytest.raises(InvalidArgument, match="secret 'db' does not exist"):
        plane.service.apply([config({"a": "1"}), workload()])
    assert plane.service.list_configs().configs == [] and plane.store.list_workloads() == []
    plane.service.apply([config({"a": "1"}), secret(b"x"), workload()])
    # A change of a config that a stored workload uses must still satisfy it.
    other = json.dumps({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "api"}, "spec": {
        "template": {"image": "local/busybox:1", "env": {"A": {"valueFrom": {"configKeyRef": {
            "name": "web-config", "key": "a"}}}}}}})
    plane.service.apply([other])
    with pytest.raises(InvalidArgument, match="workload api: .*key 'a' is not in config web-config"):
        plane.service.apply([config({"b": "2"})])
    assert plane.service.list_configs().configs[0].data == {"a": "1"}


def test_a_config_in_use_is_not_deleted_unless_its_users_go_with_it(plane):
    plane.service.apply([config({"a": "1"}), secret(b"x"), workload()])
    with pytest.raises(FailedPrecondition, match="config web-config is used by workload web"):
        plane.service.delete([], [("Config", "web-config"), ("Secret", "db")])
    assert len(plane.service.list_secrets().secrets) == 1           # nothing went
    resp = plane.service.delete(["web"], [("Config", "web-config"), ("Secret", "db"), ("Config", "nope")])
    assert list(resp.deleted) == ["web"]
    assert [(o.kind, o.name) for o in resp.deleted_objects] == [("Config", "web-config"), ("Secret", "db")]
    assert [(o.kind, o.name) for o in resp.not_found_objects] == [("Config", "nope")]


def test_a_replica_with_data_stays_on_its_node_moves_only_when_told_and_volumes_go_when_asked(plane, clock):
    agents = Agents(plane)
    agents.join("vm-1")
    agents.join("vm-2")
    plane.service.apply([config({"a": "1"}), secret(b"x"), workload(volume=True)])
    agents.settle(clock, rounds=3)
    [r] = plane.store.list_replicas(workload="web")
    home = r.node
    [v] = plane.store.list(VolumeRecord)
    assert (v.name, v.node, v.replica) == ("orchestra.web-0.data", home, "web-0")
    assert specs(agents.sets[home])["web-0"].volume_mounts[0].volume == "orchestra.web-0.data"

    # Its node goes silent: the replica waits for it and says why.
    del agents.sessions[home]
    plane.hub.close_session(plane.hub.sessions.get(home))
    for _ in range(15):
        clock.advance(1)
        agents.answer()
        plane.run_controllers_once()
    [r] = plane.store.list_replicas(workload="web")
    assert (r.phase, r.node) == ("Pending", "")
    assert f"volume data of web-0 is on {home}" in r.reason and "orchestra move" in r.reason
    plane.service.apply([workload_json("huge", memory="100Gi")])
    with pytest.raises(FailedPrecondition, match="huge-0 has no volume data holding it to a node"):
        plane.service.move_replica("huge-0")

    moved = plane.service.move_replica("web-0")
    assert [(x.name, x.node, x.state) for x in moved.released] == [("orchestra.web-0.data", home, "Released")]
    assert moved.node and moved.node != home
    assert {v.name: v.state for v in plane.store.list(VolumeRecord)} == {
        "orchestra.web-0.data": "Released", "orchestra.web-0.data.2": "Bound"}

    # Deleted with --volumes: the volume on a connected node is removed by its agent; the one on the
    # lost node waits for it to say so.
    agents.settle(clock, rounds=3)
    plane.service.delete(["web"], with_volumes=True)
    agents.settle(clock, rounds=3)
    s = agents.sessions[moved.node]
    clock.advance(6)
    plane.run_controllers_once()
    ds = desired_of(s)
    assert list(ds.remove_volumes) == ["orchestra.web-0.data.2"]
    plane.hub.on_message(s, _report(ds.revision, volumes=["orchestra.web-0.data.2"]))
    assert plane.store.get(VolumeRecord, "orchestra.web-0.data.2") is not None       # still there
    plane.hub.on_message(s, _report(ds.revision, volumes=[]))
    assert [v.name for v in plane.store.list(VolumeRecord)] == ["orchestra.web-0.data"]
    assert plane.store.get(VolumeRecord, "orchestra.web-0.data").state == "Deleting"


def _report(revision: int, volumes: list[str]):
    from orchestra.api import agent_pb2
    return agent_pb2.AgentMessage(status=agent_pb2.StatusReport(revision=revision, volumes=volumes,
                                                                volumes_listed=True))


def test_a_set_whose_secret_does_not_open_is_not_sent_nor_kept_and_is_built_again(plane, clock, caplog):
    """The publisher keeps a node's message per revision; a ContentError must leave none behind, so
    that the set goes out as soon as its content can be built (here: the right key is back)."""
    from orchestra.security.secret_box import SecretBox
    agents = Agents(plane)
    agents.join("vm-1")
    agents.settle(clock, rounds=1)
    before = agents.sets["vm-1"]
    right = plane.publisher.secret_box
    plane.publisher.secret_box = SecretBox.ephemeral()        # e.g. a plane with another cluster's key
    plane.service.apply([config({"app.conf": "x"}), secret(b"pw"), workload()])
    agents.settle(clock, rounds=8)                             # past the re-send interval: tried again
    assert agents.sets["vm-1"] is before and not before.replicas   # the node keeps its old set
    assert plane.store.get_replica("web-0").node == "vm-1"
    assert sum("not sent" in r.getMessage() for r in caplog.records) == 1    # logged once
    plane.publisher.secret_box = right
    agents.settle(clock, rounds=2)
    ds = agents.sets["vm-1"]
    assert ds.revision > before.revision and specs(ds)["web-0"].secret_env["DB_PASSWORD"] == b"pw"
