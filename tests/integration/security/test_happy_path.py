"""The whole path through mutual TLS with real processes: a token made with the Security API, a
real agent that joins with it (then restarts without it), a workload applied by the admin, and
a container on a real dockerd that runs with the safe defaults."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestra import transport
from orchestra.api import orchestra_pb2, security_pb2, security_pb2_grpc
from orchestra.security.policy import DEFAULT_CAPABILITIES, PIDS_LIMIT
from tests.support.processes import stop
from tests.support.waiting import wait_for

WAIT_S = 90


class Agent:
    def __init__(self, plane, name, engine, state, log, *extra):
        self.log_path = log
        with open(log, "ab") as f:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "agent.main", "--server", plane.address, "--name", name,
                 "--docker-host", engine.host, "--network", "none", "--stop-timeout", "1",
                 "--state-dir", str(state), *extra],
                stdout=f, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def stop(self):
        stop(self.proc, timeout=30)


def node_status(plane, name):
    nodes = {n.name: n for n in plane.client().ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10).nodes}
    return nodes.get(name)


def test_join_with_token_then_run_a_safe_container(plane, engine, tmp_path):
    sec = security_pb2_grpc.SecurityStub(transport.client_channel(plane.address, plane.admin_tls()))
    token = sec.CreateJoinToken(security_pb2.CreateJoinTokenRequest(ttl_seconds=600, labels={"zone": "a"}),
                                timeout=10)
    assert [t.id for t in sec.ListJoinTokens(security_pb2.ListJoinTokensRequest(), timeout=10).tokens
            if t.state == "valid"] and token.token.startswith("K10")
    state = tmp_path / "state"
    agent = Agent(plane, "vm-1", engine, state, tmp_path / "agent.log", "--token", token.token)
    try:
        node = wait_for("vm-1 Ready", lambda: (n := node_status(plane, "vm-1")) and n.status == "Ready" and n)
        assert node.labels["zone"] == "a"                     # the token's label
        assert (state / "tls" / "node.crt").exists()
        doc = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"},
               "spec": {"replicas": 1, "template": {"image": "local/busybox:1", "command": ["sleep", "3600"],
                                                    "readOnlyRootFilesystem": True,
                                                    "addCapabilities": ["NET_RAW"]}}}
        plane.client().Apply(orchestra_pb2.ApplyRequest(documents_json=[json.dumps(doc)]), timeout=30)
        wait_for("web-0 Running", lambda: [r for r in plane.client().ListReplicas(
            orchestra_pb2.ListReplicasRequest(workload="web"), timeout=10).replicas if r.phase == "Running"])
        docker = engine.client()
        try:
            [c] = docker.containers.list(filters={"label": "orchestra.replica=web-0"})
            hc = c.attrs["HostConfig"]
        finally:
            docker.close()
        assert hc["SecurityOpt"] == ["no-new-privileges"]
        assert hc["PidsLimit"] == PIDS_LIMIT
        assert hc["CapDrop"] == ["ALL"]
        assert set(hc["CapAdd"]) == set(DEFAULT_CAPABILITIES) | {"NET_RAW"}
        assert hc["ReadonlyRootfs"] is True and hc["Privileged"] is False
        # Another machine with a valid token cannot take over the connected node's name.
        thief = subprocess.run([sys.executable, "-m", "agent.main", "--server", plane.address, "--name", "vm-1",
                                "--docker-host", engine.host, "--state-dir", str(tmp_path / "thief"),
                                "--token", plane.node_token()], capture_output=True, text=True, timeout=60)
        assert thief.returncode == 4 and "node 'vm-1' is connected now" in thief.stderr, thief.stderr
    finally:
        agent.stop()
    # Restart without the token: the agent uses the certificate it keeps.
    sec.RevokeJoinToken(security_pb2.RevokeJoinTokenRequest(id=token.info.id), timeout=10)
    again = Agent(plane, "vm-1", engine, state, tmp_path / "agent2.log")
    try:
        wait_for("the restarted agent's session", lambda: "connected to" in open(tmp_path / "agent2.log").read())
        wait_for("vm-1 Ready again", lambda: (n := node_status(plane, "vm-1")) and n.status == "Ready")
    finally:
        again.stop()
