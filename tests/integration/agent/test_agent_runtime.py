"""agent.runtime.docker against a real engine: what the created container really is."""
from __future__ import annotations

import os
import sys
import time

import pytest

from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from engines import BUSYBOX_IMAGE, REPO_ROOT
from orchestra.api import agent_pb2, types_pb2


def spec(**kw) -> agent_pb2.ContainerSpec:
    base = dict(replica_id="web-1", workload="web", index=1, revision=3, template_hash="t3", incarnation=2,
                image=BUSYBOX_IMAGE, command=["sleep", "1000"], env={"GREETING": "hello"},
                resources=types_pb2.Resources(cpu_millis=250, memory_bytes=64 * 2**20),
                restart_policy="Always", tenant="team-a", termination_grace_seconds=60)
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
    assert hc["Init"] is True and cfg["StopTimeout"] == 60
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
            seen.state, seen.stop_timeout_s, seen.pid) == (
        cid, "web-1", 3, 2, "t3", "running", 60, info["State"]["Pid"])
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


def test_stop_reaches_a_pid_1_deaf_to_sigterm_through_the_init(runtime):
    cid = runtime.create(spec(termination_grace_seconds=120))
    runtime.start(cid)
    runtime.stop(cid)            # the container's own grace: 120 s, were SIGTERM ignored
    c = runtime.inspect(cid)
    # 143: ended by SIGTERM (forwarded by docker-init to sleep); 137 would be the SIGKILL.
    assert (c.state, c.exit_code) == ("exited", 143)
    runtime.start(cid)           # stopped, not removed: it can run again
    assert runtime.inspect(cid).state == "running"


def test_exec_probe_exit_code_output_and_timeout(runtime):
    cid = runtime.create(spec())
    runtime.start(cid)
    code, output = runtime.exec_probe(cid, ["sh", "-c", "echo out; echo err >&2; exit 3"], 5)
    # Both streams, in whichever order the engine passed them on.
    assert (code, sorted(output.splitlines())) == (3, [b"err", b"out"])
    assert runtime.exec_probe(cid, ["cat", "/www/index.html"], 5) == (0, b"hello from orchestra\n")
    code, _ = runtime.exec_probe(cid, ["sleep", "30"], 1)
    assert code is None          # did not end within its second
    with pytest.raises(ContainerError, match="is not running"):
        runtime.stop(cid)
        runtime.exec_probe(cid, ["true"], 1)


NOBODY_CONNECT = """
import sys
from agent import netns
try:
    c = netns.connect(int(sys.argv[1]), sys.argv[2], 8080, 2)
    print("connected", c.where)
except netns.ConnectFailed as e:
    print("failed", e)
"""


def test_probe_connections_without_root_fall_back_to_the_bridge_address(engines):
    """An agent that is not root cannot enter a container's network namespace: it connects to
    the container's bridge address instead, and says so when that does not work either."""
    (engine,) = engines(1, bridge=True)
    rt = DockerRuntime(engine.host, "node-a", network="bridge", stop_timeout_s=1)
    try:
        cid = rt.create(spec(command=["httpd", "-f", "-p", "8080", "-h", "/www"]))
        rt.start(cid)
        c = rt.inspect(cid)
        assert c.ip and c.pid > 0

        def as_nobody(ip: str) -> str:
            # In the engine's namespace, where the bridge is; as uid 65534, without privileges.
            r = engine.run_in_netns(
                ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                 sys.executable, "-c", NOBODY_CONNECT, str(c.pid), ip],
                capture_output=True, text=True, timeout=60,
                env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
            assert r.returncode == 0, r.stderr
            return r.stdout.strip()

        assert as_nobody(c.ip) == f"connected {c.ip}:8080, its bridge address"
        assert as_nobody("") == (
            f"failed cannot reach port 8080: cannot enter the container's network namespace "
            f"(open /proc/{c.pid}/ns/net: Permission denied) and it has no IP address")
    finally:
        rt.close()
