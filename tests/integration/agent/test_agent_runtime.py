"""agent.runtime.docker against a real engine: what the created container really is."""
from __future__ import annotations

import time

import pytest

from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from engines import BUSYBOX_IMAGE
from orchestra.api import agent_pb2, types_pb2


def spec(**kw) -> agent_pb2.ContainerSpec:
    base = dict(replica_id="web-1", workload="web", index=1, revision=3, template_hash="t3", incarnation=2,
                image=BUSYBOX_IMAGE, command=["sleep", "1000"], env={"GREETING": "hello"},
                resources=types_pb2.Resources(cpu_millis=250, memory_bytes=64 * 2**20),
                restart_policy="Always", tenant="team-a")
    base.update(kw)
    return agent_pb2.ContainerSpec(**base)


@pytest.fixture
def runtime(engine):
    rt = DockerRuntime(engine.host, "node-a", network="none", stop_timeout_s=1)
    yield rt
    rt.close()


def test_created_container_has_limits_env_command_labels(engine, runtime):
    s = spec()
    cid = runtime.create(s)
    runtime.start(cid)
    info = engine.client().api.inspect_container(cid)
    hc, cfg = info["HostConfig"], info["Config"]
    assert hc["NanoCpus"] == 250_000_000
    assert hc["Memory"] == 64 * 2**20
    assert hc["MemorySwap"] == 64 * 2**20
    assert hc["RestartPolicy"]["Name"] == "no"
    assert hc["NetworkMode"] == "none"
    assert "GREETING=hello" in cfg["Env"]
    assert cfg["Cmd"] == ["sleep", "1000"]
    assert cfg["Image"] == BUSYBOX_IMAGE
    assert info["Name"] == "/orchestra-web-1-2"
    assert {k: v for k, v in cfg["Labels"].items() if k.startswith("orchestra.")} == {
        "orchestra.managed": "true", "orchestra.replica": "web-1", "orchestra.workload": "web",
        "orchestra.node": "node-a", "orchestra.revision": "3", "orchestra.incarnation": "2",
        "orchestra.template-hash": "t3", "orchestra.tenant": "team-a"}
    assert info["State"]["Running"]
    # The kernel applies the limits (cgroup v1, under the engine's own cgroup parent).
    cg = f"/sys/fs/cgroup/memory{engine.cgroup_parent}/{cid}/memory.limit_in_bytes"
    assert open(cg).read().strip() == str(64 * 2**20)
    quota = open(f"/sys/fs/cgroup/cpu{engine.cgroup_parent}/{cid}/cpu.cfs_quota_us").read()
    period = open(f"/sys/fs/cgroup/cpu{engine.cgroup_parent}/{cid}/cpu.cfs_period_us").read()
    assert int(quota) / int(period) == pytest.approx(0.25)

    [seen] = runtime.list_managed()
    assert (seen.id, seen.replica_id, seen.revision, seen.incarnation, seen.template_hash,
            seen.state) == (cid, "web-1", 3, 2, "t3", "running")
    assert seen.started_at_ms > 0 and seen.finished_at_ms == 0


def test_lists_only_this_nodes_containers(engine, runtime):
    other = DockerRuntime(engine.host, "node-b", network="none")
    mine = runtime.create(spec())
    other.create(spec(replica_id="db-0", workload="db"))
    engine.client().containers.create(BUSYBOX_IMAGE, ["true"])   # not managed at all
    assert [c.id for c in runtime.list_managed()] == [mine]
    other.close()


def test_exit_code_and_times_of_an_exited_container(runtime):
    cid = runtime.create(spec(command=["sh", "-c", "exit 3"]))
    runtime.start(cid)
    deadline = time.monotonic() + 30
    while (c := runtime.inspect(cid)).state != "exited":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert c.exit_code == 3
    # The engine takes the two times from different places: finished can be 1 ms "before" start.
    assert c.started_at_ms > 0 and c.finished_at_ms >= c.started_at_ms - 1000


def test_missing_image_is_detected_and_never_pulled(engine, runtime):
    assert runtime.image_present(BUSYBOX_IMAGE)
    assert not runtime.image_present("local/missing:1")
    with pytest.raises(ContainerError, match="No such image"):
        runtime.create(spec(image="local/missing:1"))
    assert [i.tags for i in engine.client().images.list()] == [[BUSYBOX_IMAGE]]


def _wait_logs(runtime, cid, needle: bytes) -> None:
    deadline = time.monotonic() + 30
    while needle not in b"".join(runtime.logs(cid)):
        assert time.monotonic() < deadline, f"{needle!r} never appeared in the logs"
        time.sleep(0.1)


def test_logs_tail_and_follow_cancel(runtime):
    cid = runtime.create(spec(command=["sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; "
                                                  "sleep 1000"]))
    runtime.start(cid)
    _wait_logs(runtime, cid, b"line5")
    assert b"".join(runtime.logs(cid)) == b"line1\nline2\nline3\nline4\nline5\n"
    assert b"".join(runtime.logs(cid, tail=2)) == b"line4\nline5\n"
    stream = runtime.logs(cid, follow=True)
    first = next(iter(stream))
    assert first.startswith(b"line1")
    stream.close()   # ends the follow


def test_logs_include_stderr(runtime):
    cid = runtime.create(spec(replica_id="web-2", command=["sh", "-c", "echo oops >&2; sleep 1000"]))
    runtime.start(cid)
    _wait_logs(runtime, cid, b"oops\n")


def test_remove_stops_and_removes(engine, runtime):
    cid = runtime.create(spec())
    runtime.start(cid)
    runtime.remove(cid)
    assert runtime.list_managed() == []
    runtime.remove(cid)   # already gone: no error


def test_engine_down_is_runtime_unavailable(engine):
    rt = DockerRuntime(engine.host, "node-a", network="none")
    engine.stop_daemon()
    with pytest.raises(RuntimeUnavailable):
        rt.list_managed()
    rt.close()


def test_published_port_is_bound_to_the_given_host_ip(engines):
    (engine,) = engines(1, bridge=True)
    rt = DockerRuntime(engine.host, "node-a", network="bridge", stop_timeout_s=1)
    try:
        s = spec(command=["httpd", "-f", "-p", "8080", "-h", "/www"], ports=[
            types_pb2.Port(container_port=8080, host_port=18080, host_ip="127.0.0.1")])
        cid = rt.create(s)
        rt.start(cid)
        info = engine.client().api.inspect_container(cid)
        assert info["HostConfig"]["PortBindings"] == {
            "8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "18080"}]}
        deadline = time.monotonic() + 30
        while True:
            r = engine.run_in_netns(["busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:18080/"],
                                    capture_output=True, text=True)
            if r.returncode == 0:
                break
            assert time.monotonic() < deadline, r.stderr
            time.sleep(0.3)
        assert r.stdout == "hello from orchestra\n"
    finally:
        rt.close()
