"""The real orchestra-agent process, driven over real gRPC by a real AgentLink peer
(link_peer.py), running containers on a real dockerd."""
from __future__ import annotations

import time

from engines import BUSYBOX_IMAGE
from orchestra.api import agent_pb2, types_pb2

NODE = "node-a"


def spec(rid="web-0", rev=1, inc=1, command=("sleep", "1000"), policy="Always",
         image=BUSYBOX_IMAGE, **kw) -> agent_pb2.ContainerSpec:
    return agent_pb2.ContainerSpec(
        replica_id=rid, workload=rid.rsplit("-", 1)[0], index=int(rid.rsplit("-", 1)[1]),
        revision=rev, template_hash=f"template-{rev}", incarnation=inc, image=image,
        command=list(command), restart_policy=policy, **kw)


def running(*ids):
    return lambda st: all(i in st and st[i].phase == "Running" for i in ids)


def managed(engine) -> dict[str, str]:
    """replica id -> container id of the managed containers on the engine."""
    c = engine.client()
    try:
        return {x["Labels"]["orchestra.replica"]: x["Id"]
                for x in c.api.containers(all=True, filters={"label": "orchestra.managed=true"})}
    finally:
        c.close()


def test_hello_desired_set_status_heartbeat_usage(engine, peer, agents):
    agents(peer.address, NODE, engine, "--labels", "zone=a,disk=ssd", "--cpu", "1500m",
           "--memory", "2Gi")
    hello = peer.wait_for("hello", lambda: peer.messages(NODE, "hello"))[0]
    assert dict(hello.labels) == {"zone": "a", "disk": "ssd"}
    assert hello.capacity == types_pb2.Resources(cpu_millis=1500, memory_bytes=2 * 2**30)
    assert hello.facts.docker_version.startswith("20.10")
    assert hello.facts.cpus >= 1 and hello.facts.memory_bytes > 0 and hello.facts.kernel
    assert hello.agent_instance

    peer.set_desired(NODE, 1, [spec("web-0"), spec("web-1", env={"A": "1"},
                                                   resources=types_pb2.Resources(
                                                       cpu_millis=100, memory_bytes=32 * 2**20))])
    st = peer.wait_status(NODE, running("web-0", "web-1"), "both replicas Running")
    ids = managed(engine)
    assert {r: s.container_id for r, s in st.items()} == ids
    assert all(s.incarnation == 1 and s.restarts == 0 for s in st.values())

    beat = peer.wait_for("heartbeat applying revision 1", lambda: [
        h for h in peer.messages(NODE, "heartbeat") if h.applied_revision == 1])[-1]
    assert beat.runtime_status == "available"
    usage = peer.wait_for("usage of both replicas", lambda: [
        u for u in peer.messages(NODE, "usage") if len(u.replicas) == 2])[-1]
    assert usage.node.memory_total_bytes > 0 and usage.node.sampled_at_ms > 0
    by = {r.replica_id: r.usage for r in usage.replicas}
    assert by["web-1"].memory_limit_bytes == 32 * 2**20
    assert 0 < by["web-1"].memory_bytes < 32 * 2**20

    # Scale down: the agent removes what is no longer desired.
    peer.set_desired(NODE, 2, [spec("web-0")])
    peer.wait_status(NODE, lambda st: set(st) == {"web-0"}, "web-1 gone from the report")
    deadline = time.monotonic() + 30
    while set(managed(engine)) != {"web-0"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_replaces_on_a_new_template_and_ignores_older_revisions(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.wait_for("session", lambda: peer.session_count(NODE))
    peer.set_desired(NODE, 5, [spec("web-0", rev=1)])
    first = peer.wait_status(NODE, running("web-0"), "Running")["web-0"].container_id

    peer.set_desired(NODE, 6, [spec("web-0", rev=2, env={"V": "2"})])
    st = peer.wait_status(NODE, lambda st: running("web-0")(st) and st["web-0"].container_id != first,
                          "revision 2 Running")
    second = st["web-0"].container_id
    assert managed(engine) == {"web-0": second}
    info = engine.client().api.inspect_container(second)
    assert info["Config"]["Labels"]["orchestra.revision"] == "2"
    assert "V=2" in info["Config"]["Env"]

    # An older revision (reordered, or from a stale plane) changes nothing.
    peer.set_desired(NODE, 4, [])
    time.sleep(3)
    assert managed(engine) == {"web-0": second}
    assert peer.messages(NODE, "heartbeat")[-1].applied_revision == 6


def test_adoption_after_restart_keeps_containers(engine, peer, agents):
    a = agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("web-0"), spec("web-1")])
    peer.wait_status(NODE, running("web-0", "web-1"), "Running")
    before = managed(engine)
    assert a.stop() == 0
    first_instance = peer.messages(NODE, "hello")[0].agent_instance

    # The next agent finds the containers; before the plane sends a desired set it changes
    # nothing, even though the plane's answer will not include web-1.
    peer.send_desired_on_connect = False
    peer.set_desired(NODE, 2, [spec("web-0")], send=False)
    b = agents(peer.address, NODE, engine)
    peer.wait_for("second session", lambda: peer.session_count(NODE) == 2)
    hello = peer.messages(NODE, "hello")[-1]
    assert hello.agent_instance != first_instance
    time.sleep(3)
    assert managed(engine) == before
    assert "found 2 managed containers" in b.log()

    peer.send(NODE, agent_pb2.PlaneMessage(desired=peer.desired[NODE]))
    st = peer.wait_status(NODE, lambda st: set(st) == {"web-0"} and running("web-0")(st),
                          "web-0 adopted")
    assert st["web-0"].container_id == before["web-0"]
    deadline = time.monotonic() + 30
    while managed(engine) != {"web-0": before["web-0"]}:
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_on_failure_restarts_with_growing_delay_and_never_does_not(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [
        spec("flaky-0", command=["sh", "-c", "exit 1"], policy="OnFailure"),
        spec("once-0", command=["sh", "-c", "exit 1"], policy="Never"),
        spec("fine-0", command=["sh", "-c", "exit 0"], policy="OnFailure"),
    ])
    st = peer.wait_status(NODE, lambda st: "flaky-0" in st and st["flaky-0"].restarts >= 4,
                          "flaky-0 restarted 4 times", timeout=90)
    # Each exit was followed by a BackOff twice as long as the one before.
    backoffs = []
    for report in peer.messages(NODE, "status"):
        for r in report.replicas:
            if r.replica_id == "flaky-0" and r.phase == "BackOff":
                delay = r.reason.rsplit("back-off ", 1)[1]
                if not backoffs or backoffs[-1] != delay:
                    backoffs.append(delay)
    assert backoffs[:4] == ["1s", "2s", "4s", "8s"], backoffs
    assert st["flaky-0"].container_id == managed(engine)["flaky-0"]   # restarted, not re-created

    once = st["once-0"]
    assert (once.phase, once.exit_code, once.restarts, once.reason) == (
        "Exited", 1, 0, "exited with code 1")
    fine = st["fine-0"]
    assert (fine.phase, fine.exit_code, fine.restarts) == ("Exited", 0, 0)
    info = engine.client().api.inspect_container(once.container_id)
    assert info["RestartCount"] == 0 and info["State"]["Status"] == "exited"


def test_missing_image_fails_with_reason(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("app-0", image="local/x:1")])
    st = peer.wait_status(NODE, lambda st: "app-0" in st and st["app-0"].phase == "Failed",
                          "app-0 Failed")
    assert st["app-0"].reason == (
        "image local/x:1 is not present on node node-a (orchestra never pulls; load it with "
        "docker load or orchestra image load)")
    assert managed(engine) == {}


def test_logs_tail_follow_and_cancel(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("talk-0", command=[
        "sh", "-c", "for i in 1 2 3; do echo hello$i; done; while true; do echo tick; sleep 0.2; done"])])
    peer.wait_status(NODE, running("talk-0"), "Running")
    time.sleep(1)

    def collect(rid):
        return [m for m in peer.messages(NODE, "log") if m.request_id == rid]

    peer.send(NODE, agent_pb2.PlaneMessage(log_request=agent_pb2.LogRequest(
        request_id="r1", replica_id="talk-0", tail=0)))
    peer.wait_for("eof of r1", lambda: any(m.eof for m in collect("r1")))
    data = b"".join(m.data for m in collect("r1"))
    assert data.startswith(b"hello1\nhello2\nhello3\ntick\n")
    assert [m.error for m in collect("r1") if m.eof] == [""]

    peer.send(NODE, agent_pb2.PlaneMessage(log_request=agent_pb2.LogRequest(
        request_id="r2", replica_id="talk-0", tail=1, follow=True)))
    peer.wait_for("followed lines", lambda: sum(m.data.count(b"tick") for m in collect("r2")) >= 5)
    peer.send(NODE, agent_pb2.PlaneMessage(log_cancel=agent_pb2.LogCancel(request_id="r2")))
    peer.wait_for("eof of r2", lambda: any(m.eof for m in collect("r2")))

    peer.send(NODE, agent_pb2.PlaneMessage(log_request=agent_pb2.LogRequest(
        request_id="r3", replica_id="nope-0")))
    eof = peer.wait_for("eof of r3", lambda: [m for m in collect("r3") if m.eof])[0]
    assert eof.error == "no container for replica nope-0 on node node-a"


def test_engine_down_is_reported_and_converges_when_back(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("web-0")])
    peer.wait_status(NODE, running("web-0"), "Running")
    engine.kill_daemon()
    peer.wait_for("unavailable heartbeat", lambda: [
        h for h in peer.messages(NODE, "heartbeat") if h.runtime_status.startswith("unavailable: ")])
    engine.start_daemon()
    # The engine comes back with web-0's container stopped; Always restarts it.
    peer.wait_for("available again", lambda: peer.messages(NODE, "heartbeat")[-1].runtime_status
                  == "available")
    peer.wait_status(NODE, running("web-0"), "Running again", timeout=90)


def test_reconnects_after_the_plane_returns(engine, peer, agents):
    from link_peer import LinkPeer
    a = agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("web-0")])
    cid = peer.wait_status(NODE, running("web-0"), "Running")["web-0"].container_id
    port = peer.port
    peer.stop()
    time.sleep(2)
    again = LinkPeer(port=port)
    try:
        again.set_desired(NODE, 1, [spec("web-0")], send=False)
        hello = again.wait_for("hello again", lambda: again.messages(NODE, "hello"))[0]
        assert hello.agent_instance == peer.messages(NODE, "hello")[0].agent_instance
        assert hello.last_revision == 1
        st = again.wait_status(NODE, running("web-0"), "Running")
        assert st["web-0"].container_id == cid
    finally:
        again.stop()
    assert a.proc.poll() is None


def test_refusal_ends_the_agent_with_an_error(engine, peer, agents):
    peer.refusal = "node name node-a is not allowed"
    a = agents(peer.address, NODE, engine)
    assert a.wait() == 3
    assert "plane refused node node-a: node name node-a is not allowed" in a.log()


def test_start_failure_is_reported_and_retried(engines, peer, agents):
    (engine,) = engines(1, bridge=True)
    agents(peer.address, NODE, engine, network="bridge")
    port = [types_pb2.Port(container_port=8080, host_port=18081, host_ip="127.0.0.1")]
    peer.set_desired(NODE, 1, [spec("a-0", ports=port)])
    peer.wait_status(NODE, running("a-0"), "a-0 Running")
    # b-0 wants the same host port: the engine refuses to start it.
    peer.set_desired(NODE, 2, [spec("a-0", ports=port), spec("b-0", ports=port)])
    st = peer.wait_status(NODE, lambda st: "b-0" in st and st["b-0"].phase == "Failed",
                          "b-0 Failed")
    assert st["b-0"].reason.startswith("start failed: ")
    assert "18081" in st["b-0"].reason
    assert st["b-0"].next_restart_ms > 0
    # Once a-0 is gone, the retry succeeds.
    peer.set_desired(NODE, 3, [spec("b-0", ports=port)])
    st = peer.wait_status(NODE, lambda st: set(st) == {"b-0"} and running("b-0")(st),
                          "b-0 Running after a-0 left")


def test_usage_of_a_busy_container_is_near_its_cpu_limit(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("busy-0", command=["sh", "-c", "yes > /dev/null"],
                                    resources=types_pb2.Resources(cpu_millis=500,
                                                                  memory_bytes=64 * 2**20))])
    peer.wait_status(NODE, running("busy-0"), "Running")

    def busy_samples():
        got = [r.usage.cpu_percent for u in peer.messages(NODE, "usage") for r in u.replicas
               if r.replica_id == "busy-0" and r.usage.cpu_percent > 0]
        return got if len(got) >= 3 else None
    samples = peer.wait_for("three CPU samples", busy_samples)
    # Limited to half a CPU: about 50 (100 = one CPU); wide bounds, the machine is shared.
    assert all(10 < s < 75 for s in samples[-2:]), samples


def test_agent_started_before_its_engine_converges_once_it_answers(engine, peer, agents):
    engine.stop_daemon()   # as on a VM where the agent's service starts before Docker's
    peer.set_desired(NODE, 1, [spec("web-0")], send=False)
    agents(peer.address, NODE, engine)
    hello = peer.wait_for("hello", lambda: peer.messages(NODE, "hello"))[0]
    assert hello.facts.docker_version == ""
    beat = peer.wait_for("a heartbeat", lambda: peer.messages(NODE, "heartbeat"))[-1]
    assert beat.runtime_status.startswith("unavailable: ")
    st = peer.wait_for("a status report", lambda: peer.messages(NODE, "status"))[-1]
    assert st.runtime_status.startswith("unavailable: ")
    engine.start_daemon()
    peer.wait_status(NODE, running("web-0"), "Running once the engine answers")
    assert set(managed(engine)) == {"web-0"}
