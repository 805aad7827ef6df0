"""Issue 9, end to end: rolling updates gated on readiness, through a real plane, real agents and
real engines, sampled all along as a user would see them (the user API) and as the nodes hold them
(the engines' containers)."""
from __future__ import annotations

import json
import textwrap
import threading
import time

from harness import wait_for

from orchestra.api import orchestra_pb2 as pb

# busybox httpd serves /www; the readiness probe asks for it, and the container takes a moment
# to be ready (as real servers do), so that a rollout really waits on readiness.
SERVER = '[sh, -c, "mkdir -p /www && echo {version} > /www/index.html && sleep 2 && exec httpd -f -p 8080 -h /www"]'


READINESS = "    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1, failureThreshold: 1}\n"


def web(version: str = "v1", replicas: int = 4, surge: int | str = 1, unavailable: int | str = 0,
        extra_update: str = "", command: str | None = None, name: str = "web", probe: bool = True) -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}, labels: {{app: {name}}}}}
        spec:
          replicas: {replicas}
          update: {{maxSurge: {surge}, maxUnavailable: {unavailable}{extra_update}}}
          template:
            image: local/busybox:1
            command: {command or SERVER.format(version=version)}
            env: {{VERSION: {version}}}
            resources: {{cpu: 50m, memory: 16Mi}}
            terminationGracePeriodSeconds: 2
        """) + (READINESS if probe else "")


class Sampler:
    """Samples the workload all along: replica records from the user API, containers from the engines."""

    def __init__(self, cluster, name: str = "web"):
        self.cluster, self.name = cluster, name
        self.samples: list[tuple[int, int, int]] = []    # (records, ready replicas, running containers)
        self.node_samples: list[tuple[int, bool]] = []  # (running containers, no replica twice) also while the plane is down
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.errors: list[str] = []

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        api = self.cluster.api()
        while not self._stop.is_set():
            try:
                running = [c.labels["orchestra.replica"] for n in self.cluster.agents
                           for c in self.cluster.containers(n, self.name)]
            except Exception as e:          # an engine being restarted on purpose
                self.errors.append(str(e))
                time.sleep(0.2)
                continue
            containers = len(running)
            self.node_samples.append((containers, len(set(running)) == len(running)))
            try:
                replicas = api.ListReplicas(pb.ListReplicasRequest(workload=self.name), timeout=5).replicas
            except Exception as e:          # the plane may be down on purpose; the next sample counts
                self.errors.append(str(e))
                time.sleep(0.2)
                continue
            ready = sum(1 for r in replicas if r.ready and r.phase != "Terminating")
            self.samples.append((len(replicas), ready, containers))
            time.sleep(0.1)

    def check(self, desired: int, surge: int, unavailable: int) -> None:
        assert len(self.samples) >= 10, self.samples
        most = max(max(records, containers) for records, _, containers in self.samples)
        least = min(ready for _, ready, _ in self.samples)
        assert most <= desired + surge, f"more than {desired}+{surge}: {self.samples}"
        assert least >= desired - unavailable, f"fewer than {desired}-{unavailable} ready: {self.samples}"
        assert all(once for _, once in self.node_samples), "a replica ran twice"
        assert min(n for n, _ in self.node_samples) >= desired - unavailable, self.node_samples


def versions(cluster, name: str = "web") -> dict[str, str]:
    """replica id -> the VERSION its running container has, read from the engines."""
    out = {}
    for node in cluster.agents:
        for c in cluster.containers(node, name):
            env = dict(e.split("=", 1) for e in c.attrs["Config"]["Env"] if "=" in e)
            out[c.labels["orchestra.replica"]] = env.get("VERSION")
    return out


def rollout(cluster, name: str = "web") -> dict:
    return cluster.cli_json("get", "workload", name)["rollout"]


def test_rolling_update_with_a_readiness_probe_keeps_the_budget(cluster):
    cluster.start_server()
    cluster.add_nodes(3, bridge=True)
    cluster.apply(web("v1"), "--timeout", "120")
    assert set(versions(cluster).values()) == {"v1"}
    with Sampler(cluster) as sampler:
        out = cluster.apply(web("v2"), "--timeout", "180").stdout
    sampler.check(desired=4, surge=1, unavailable=0)
    assert "rolling update to revision 2: maxSurge 1, maxUnavailable 0; replaces" in out
    assert "web: revision 2: 4/4 updated, 4/4 ready" in out
    # Done means done: the apply returned only once every old container was gone from the nodes.
    found = versions(cluster)
    assert len(found) == 4 and set(found.values()) == {"v2"}
    replicas = cluster.replicas("web")
    assert {r["revision"] for r in replicas} == {2} and all(r["ready"] is True for r in replicas)
    assert rollout(cluster)["state"] == "Complete"


def test_max_unavailable_without_surge_then_undo_and_pause(cluster):
    cluster.start_server()
    cluster.add_nodes(2, bridge=True)
    cluster.apply(web("v1", replicas=3, surge=0, unavailable=1), "--timeout", "120")
    with Sampler(cluster) as sampler:
        cluster.apply(web("v2", replicas=3, surge=0, unavailable=1), "--timeout", "180")
    sampler.check(desired=3, surge=0, unavailable=1)
    assert set(versions(cluster).values()) == {"v2"}

    # Undo: the template of revision 1 again, as revision 3.
    res = cluster.cli("rollout", "undo", "web", "--timeout", "180")
    assert "as revision 3" in res.stdout
    assert set(versions(cluster).values()) == {"v1"}
    history = cluster.cli("rollout", "history", "web").stdout
    assert "undo to 1" in history and "3 (current)" in history

    # Pause: a new revision makes no progress until resumed.
    cluster.cli("rollout", "pause", "web")
    cluster.apply(web("v3", replicas=3, surge=0, unavailable=1), "--no-wait")
    time.sleep(6)
    assert set(versions(cluster).values()) == {"v1"}
    assert rollout(cluster)["state"] == "Paused"
    cluster.cli("rollout", "resume", "web")
    assert cluster.cli("rollout", "status", "web", "--timeout", "180").returncode == 0
    assert set(versions(cluster).values()) == {"v3"}


def test_auto_rollback_of_a_revision_whose_command_exits_1(cluster):
    cluster.start_server()
    cluster.add_nodes(2, bridge=True)
    auto = ", autoRollback: true"
    cluster.apply(web("v1", replicas=2, extra_update=auto), "--timeout", "120")
    with Sampler(cluster) as sampler:
        res = cluster.apply(web("bad", replicas=2, extra_update=auto, command='[sh, -c, "exit 1"]'),
                            "--timeout", "180", check=False)
    sampler.check(desired=2, surge=1, unavailable=0)       # the old ones served all along
    assert res.returncode == 1
    assert "web: revision 2 was rolled back: automatic rollback to revision 1: revision 2 web-" in res.stderr
    wait_for("the rollback to complete", lambda: rollout(cluster)["state"] == "Complete")
    assert set(versions(cluster).values()) == {"v1"}
    assert {r["revision"] for r in cluster.replicas("web")} == {3}
    status = cluster.cli("rollout", "status", "web", check=False)
    assert status.returncode == 1 and "automatic rollback to revision 1" in status.stderr
    events = cluster.cli("events", "--for", "workload/web").stdout
    assert "RolledBack" in events


def test_liveness_restarts_and_says_why(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.apply(textwrap.dedent("""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {name: sick}
        spec:
          template:
            image: local/busybox:1
            # alive for a few seconds, then the liveness file goes away
            command: [sh, -c, "touch /tmp/alive; sleep 4; rm /tmp/alive; sleep 3600"]
            terminationGracePeriodSeconds: 1
            livenessProbe: {exec: {command: [cat, /tmp/alive]}, periodSeconds: 1, failureThreshold: 2}
        """), "--timeout", "60")
    wait_for("a liveness restart", lambda: cluster.replicas("sick")[0]["restarts"] >= 1, timeout=90)
    described = cluster.cli("describe", "workload", "sick").stdout
    assert "Unhealthy" in described and "liveness probe exec cat /tmp/alive failed" in described
    # Between restarts the container has no probe results yet; once it runs again it has.
    wait_for("the health checks in describe", lambda: "Last health checks:" in
             cluster.cli("describe", "workload", "sick").stdout, timeout=60)


def test_delete_and_scale_down_return_when_the_containers_are_gone(cluster):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(web("v1", replicas=3, command='[sleep, "3600"]', probe=False), "--timeout", "120")
    cluster.apply(web("v1", replicas=1, command='[sleep, "3600"]', probe=False), "--timeout", "120")
    assert sum(len(cluster.containers(n, "web", all_states=True)) for n in cluster.agents) == 1
    cluster.cli("delete", "workload", "web", "--timeout", "120")
    assert sum(len(cluster.containers(n, "web", all_states=True)) for n in cluster.agents) == 0
    assert json.loads(cluster.cli("get", "workloads", "-o", "json").stdout)["workloads"] == []


def _mid_rollout(cluster, desired: int) -> None:
    """Until the rollout to revision 2 is under way: some replicas of each revision."""
    def both():
        revs = [r["revision"] for r in cluster.replicas("web") if r["phase"] != "Terminating"]
        return 2 in revs and revs.count(1) >= 2
    wait_for("the rollout to be half way", both, timeout=120, every=0.2)


def test_kill_9_of_the_plane_mid_rollout_resumes_it(cluster):
    cluster.start_server()
    cluster.add_nodes(2, bridge=True)
    cluster.apply(web("v1", replicas=4), "--timeout", "120")
    with Sampler(cluster) as sampler:
        cluster.apply(web("v2", replicas=4), "--no-wait")
        _mid_rollout(cluster, 4)
        cluster.server.kill9()
        time.sleep(3)                      # the nodes keep their containers meanwhile
        cluster.start_server()
        assert cluster.cli("rollout", "status", "web", "--timeout", "180").returncode == 0
    sampler.check(desired=4, surge=1, unavailable=0)
    assert set(versions(cluster).values()) == {"v2"} and len(versions(cluster)) == 4


def test_kill_9_of_an_agent_mid_rollout(cluster):
    # The agent comes back within the node grace (its node never goes NotReady): a crash of the
    # agent process, not the loss of its node, which test_faults covers.
    cluster.node_grace_s = 30.0
    cluster.start_server()
    cluster.add_nodes(2, bridge=True)
    cluster.apply(web("v1", replicas=4), "--timeout", "120")
    with Sampler(cluster) as sampler:
        cluster.apply(web("v2", replicas=4), "--no-wait")
        _mid_rollout(cluster, 4)
        agent = cluster.agents["node-1"]
        agent.kill9()
        time.sleep(2)
        agent.start()                      # it adopts its containers and carries on
        assert cluster.cli("rollout", "status", "web", "--timeout", "180").returncode == 0
    sampler.check(desired=4, surge=1, unavailable=0)
    assert set(versions(cluster).values()) == {"v2"} and len(versions(cluster)) == 4
