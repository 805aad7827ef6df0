"""Health probes, readiness, probe restarts, quick stops and Terminating: the real
orchestra-agent process, driven over real gRPC by a real AgentLink peer (link_peer.py),
running containers on a real dockerd."""
from __future__ import annotations

import io

import pytest

from engines import BUSYBOX_IMAGE
from orchestra.api import agent_pb2

NODE = "node-a"
HELD_OFF = "waiting for the startup probe"


def probe(period=1, failure=3, timeout=1, **action) -> agent_pb2.Probe:
    """probe(http=("/", 8080)) | probe(tcp=6379) | probe(exec=["cat", "/tmp/x"])"""
    kw = dict(period_seconds=period, timeout_seconds=timeout, failure_threshold=failure,
              success_threshold=1)
    if "http" in action:
        path, port = action["http"]
        return agent_pb2.Probe(http_get=agent_pb2.HttpGetAction(path=path, port=port), **kw)
    if "tcp" in action:
        return agent_pb2.Probe(tcp_socket=agent_pb2.TcpSocketAction(port=action["tcp"]), **kw)
    return agent_pb2.Probe(exec=agent_pb2.ExecAction(command=action["exec"]), **kw)


def spec(rid, command, rev=1, inc=1, image=BUSYBOX_IMAGE, **kw) -> agent_pb2.ContainerSpec:
    kw.setdefault("termination_grace_seconds", 10)
    return agent_pb2.ContainerSpec(
        replica_id=rid, workload=rid.rsplit("-", 1)[0], index=int(rid.rsplit("-", 1)[1]),
        revision=rev, template_hash=f"template-{rev}", incarnation=inc, image=image,
        command=list(command), restart_policy="Always", **kw)


HTTPD = ["httpd", "-f", "-p", "8080", "-h", "/www"]


def probes_of(status) -> dict:
    return {p.probe: p for p in status.probes}


def ready(*ids):
    return lambda st: all(i in st and st[i].phase == "Running" and st[i].ready for i in ids)


def sh(engine, container_id: str, script: str) -> None:
    """Run a shell command inside a container, the way an operator would (docker exec)."""
    with engine.client() as c:
        code, out = c.containers.get(container_id).exec_run(["sh", "-c", script])
        assert code == 0, out


def reports(peer, rid):
    return [r for rep in peer.messages(NODE, "status") for r in rep.replicas if r.replica_id == rid]


@pytest.mark.parametrize("network", ["none", "host", "bridge"])
def test_exec_http_and_tcp_probes_whatever_the_network_mode(engines, peer, agents, network):
    (engine,) = engines(1, bridge=network == "bridge")
    agents(peer.address, NODE, engine, network=network)
    peer.set_desired(NODE, 1, [
        spec("web-0", HTTPD, startup_probe=probe(exec=["cat", "/www/index.html"]),
             readiness_probe=probe(http=("/index.html", 8080)), liveness_probe=probe(tcp=8080)),
        spec("cache-0", ["nc", "-ll", "-p", "6379", "-e", "cat"], readiness_probe=probe(tcp=6379)),
    ])
    st = peer.wait_status(NODE, lambda st: ready("web-0", "cache-0")(st) and all(
        p.result == "Success" for p in probes_of(st["web-0"]).values())
        and len(st["web-0"].probes) == 3, "both replicas ready, every probe passing")
    web = probes_of(st["web-0"])
    where = "127.0.0.1:8080 in the container's network namespace"
    assert (web["startup"].action, web["startup"].message) == (
        "exec cat /www/index.html", "hello from orchestra")
    assert (web["readiness"].action, web["readiness"].message) == (
        "GET :8080/index.html", "answered 200")
    assert (web["liveness"].action, web["liveness"].message) == ("tcp :8080", f"connected ({where})")
    assert all(p.last_run_ms > 0 and p.consecutive_successes >= 1 for p in web.values())
    [cache] = st["cache-0"].probes
    assert (cache.probe, cache.action, cache.result) == ("readiness", "tcp :6379", "Success")
    assert st["web-0"].restarts == 0 and st["cache-0"].restarts == 0


def test_readiness_flips_false_and_back_without_a_restart(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec(
        "web-0", ["sh", "-c", "echo ok > /www/ready && exec httpd -f -p 8080 -h /www"],
        readiness_probe=probe(http=("/ready", 8080), failure=2))])
    cid = peer.wait_status(NODE, ready("web-0"), "web-0 ready")["web-0"].container_id

    sh(engine, cid, "rm /www/ready")
    st = peer.wait_status(NODE, lambda st: st["web-0"].phase == "Running" and not st["web-0"].ready,
                          "web-0 not ready")
    r = probes_of(st["web-0"])["readiness"]
    assert (r.result, r.message, r.action) == ("Failure", "answered 404", "GET :8080/ready")
    assert r.consecutive_failures >= 2 and r.last_change_ms > 0

    sh(engine, cid, "echo ok > /www/ready")
    st = peer.wait_status(NODE, ready("web-0"), "web-0 ready again")
    assert (st["web-0"].container_id, st["web-0"].restarts) == (cid, 0)


def test_liveness_restarts_a_frozen_container(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("web-0", HTTPD, liveness_probe=probe(http=("/", 8080)))])
    st = peer.wait_status(NODE, lambda st: ready("web-0")(st) and probes_of(
        st["web-0"])["liveness"].result == "Success", "web-0 live")
    cid = st["web-0"].container_id
    with engine.client() as c:
        c.api.pause(cid)

    st = peer.wait_status(NODE, lambda st: st["web-0"].restarts == 1 and ready("web-0")(st),
                          "web-0 restarted and ready")
    assert st["web-0"].container_id == cid   # restarted, not re-created
    why = ("liveness probe failed 3 times: GET :8080/ timed out after 1s "
           "(127.0.0.1:8080 in the container's network namespace)")
    said = {r.reason for r in reports(peer, "web-0")}
    assert f"stopping: {why}" in said
    assert f"{why}; back-off 1s" in said or f"restarting after {why}" in said
    with engine.client() as c:
        state = c.api.inspect_container(cid)["State"]
    assert state["Status"] == "running" and not state["Paused"]


def test_startup_probe_holds_readiness_and_liveness_off(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [
        spec("gate-0", ["sleep", "1000"],
             startup_probe=probe(exec=["cat", "/tmp/started"], failure=60),
             readiness_probe=probe(exec=["cat", "/tmp/ready"]),
             # Would restart the container at its first run, were it run before startup.
             liveness_probe=probe(exec=["cat", "/tmp/alive"], failure=1)),
        spec("giveup-0", ["sleep", "1000"],
             startup_probe=probe(exec=["cat", "/tmp/never"], failure=2)),
    ])
    st = peer.wait_status(NODE, lambda st: "gate-0" in st and probes_of(
        st["gate-0"]).get("startup") is not None and probes_of(
        st["gate-0"])["startup"].consecutive_failures >= 3, "startup failing 3 times")
    gate = st["gate-0"]
    assert (gate.phase, gate.ready, gate.restarts) == ("Running", False, 0)
    p = probes_of(gate)
    assert p["startup"].result == "Unknown"
    for kind in ("readiness", "liveness"):
        assert (p[kind].result, p[kind].message, p[kind].last_run_ms) == ("Unknown", HELD_OFF, 0)

    sh(engine, gate.container_id, "touch /tmp/started /tmp/ready /tmp/alive")
    st = peer.wait_status(NODE, lambda st: ready("gate-0")(st) and probes_of(
        st["gate-0"])["liveness"].result == "Success", "gate-0 started and ready")
    assert st["gate-0"].restarts == 0
    assert probes_of(st["gate-0"])["startup"].result == "Success"
    # Neither ran before the startup probe succeeded.
    for r in reports(peer, "gate-0"):
        p = probes_of(r)
        if p and p["startup"].result != "Success":
            assert p["readiness"].last_run_ms == 0 and p["liveness"].last_run_ms == 0

    # A startup probe that reaches its failure threshold restarts the container.
    peer.wait_status(NODE, lambda st: st["giveup-0"].restarts >= 1, "giveup-0 restarted")
    why = ("startup probe failed 2 times: exec cat /tmp/never exited with 1: "
           "cat: can't open '/tmp/never': No such file or directory")
    assert f"stopping: {why}" in {r.reason for r in reports(peer, "giveup-0")}


def test_image_healthcheck_counts_as_readiness(engine, peer, agents):
    dockerfile = (f"FROM {BUSYBOX_IMAGE}\n"
                  "HEALTHCHECK --interval=1s --timeout=1s --retries=2 CMD cat /tmp/healthy\n")
    with engine.client() as c:   # built on the test engine from the local image: no pull
        c.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag="local/health:1", rm=True,
                       pull=False)
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("hc-0", ["sh", "-c", "touch /tmp/healthy; exec sleep 1000"],
                                    image="local/health:1")])
    st = peer.wait_status(NODE, ready("hc-0"), "hc-0 healthy")
    [h] = st["hc-0"].probes
    assert (h.probe, h.result, h.action) == ("healthcheck", "Success", "HEALTHCHECK cat /tmp/healthy")
    cid = st["hc-0"].container_id

    sh(engine, cid, "rm /tmp/healthy")
    st = peer.wait_status(NODE, lambda st: st["hc-0"].phase == "Running" and not st["hc-0"].ready,
                          "hc-0 unhealthy, not ready")
    [h] = st["hc-0"].probes
    assert h.result == "Failure"
    assert h.message == "cat: can't open '/tmp/healthy': No such file or directory"
    assert h.consecutive_failures >= 2
    sh(engine, cid, "touch /tmp/healthy")
    st = peer.wait_status(NODE, ready("hc-0"), "hc-0 healthy again")
    assert st["hc-0"].restarts == 0


def test_a_slow_stop_holds_up_nothing_and_is_terminating_until_gone(engine, peer, agents):
    a = agents(peer.address, NODE, engine)
    # Deaf to SIGTERM even under the init process: it stops only at SIGKILL, after its grace.
    stubborn = ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
    peer.set_desired(NODE, 1, [spec("slow-0", stubborn, termination_grace_seconds=15, inc=3)])
    slow = peer.wait_status(NODE, lambda st: st.get("slow-0") and st["slow-0"].phase == "Running",
                            "slow-0 Running")["slow-0"].container_id

    peer.set_desired(NODE, 2, [spec("fast-0", ["sleep", "1000"])])
    seen_together = peer.wait_status(
        NODE, lambda st: ready("fast-0")(st) and "slow-0" in st,
        "fast-0 running while slow-0 is still being stopped")
    t = seen_together["slow-0"]
    assert (t.phase, t.incarnation, t.container_id) == ("Terminating", 3, slow)

    def slow_gone():
        reps = [r for r in peer.messages(NODE, "status") if r.revision >= 2]
        return reps if reps and "slow-0" not in {x.replica_id for x in reps[-1].replicas} else None

    reps = peer.wait_for("a report without slow-0", slow_gone, timeout=90)
    # Left out only once its container is gone ...
    with engine.client() as c:
        assert slow not in {x["Id"] for x in c.api.containers(all=True)}
    # ... and in every report before that, as Terminating.
    first_without = next(i for i, r in enumerate(reps)
                         if "slow-0" not in {x.replica_id for x in r.replicas})
    assert first_without > 0
    for r in reps[:first_without]:
        [s] = [x for x in r.replicas if x.replica_id == "slow-0"]
        assert (s.phase, s.incarnation, s.container_id) == ("Terminating", 3, slow)
    assert all("slow-0" not in {x.replica_id for x in r.replicas} for r in reps[first_without:])
    assert "Traceback" not in a.log()


def test_sleep_stops_at_once_under_the_init_process(engine, peer, agents):
    agents(peer.address, NODE, engine)
    peer.set_desired(NODE, 1, [spec("nap-0", ["sleep", "1000"], termination_grace_seconds=120)])
    cid = peer.wait_status(NODE, ready("nap-0"), "nap-0 Running")["nap-0"].container_id
    with engine.client() as c:
        info = c.api.inspect_container(cid)
    assert info["HostConfig"]["Init"] is True and info["Config"]["StopTimeout"] == 120
    assert open(f"/proc/{info['State']['Pid']}/comm").read().strip() == "docker-init"

    # Gone well within its 120 s grace: sleep, deaf to SIGTERM as PID 1, gets it from the init.
    peer.set_desired(NODE, 2, [])
    peer.wait_for("a report without nap-0", lambda: (r := peer.messages(NODE, "status")) and r[
        -1].revision == 2 and not r[-1].replicas, timeout=60)
    with engine.client() as c:
        assert c.api.containers(all=True) == []
