"""Every way in without the right credentials is refused with a clear status, and leaves no
trace in the plane's store. Real `orchestra server` process, real TLS on 127.0.0.1."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import grpc
import pytest

from orchestra import transport
from orchestra.api import agent_pb2, orchestra_pb2, orchestra_pb2_grpc, security_pb2, security_pb2_grpc
from orchestra.security.ca import ROLE_ADMIN, create_ca, load_cert
from orchestra.security.identity import serial_hex

WORKLOAD = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"},
            "spec": {"replicas": 1, "template": {"image": "local/busybox:1", "command": ["sleep", "60"]}}}


def rpc_error(fn):
    with pytest.raises(grpc.RpcError) as e:
        fn()
    return e.value.code(), e.value.details()


def nothing_stored(plane):
    c = plane.client()
    return (list(c.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10).nodes) == []
            and list(c.ListWorkloads(orchestra_pb2.ListWorkloadsRequest(), timeout=10).workloads) == [])


def security(plane):
    return security_pb2_grpc.SecurityStub(transport.client_channel(plane.address, plane.admin_tls()))


def run_agent(plane, tmp_path, name, *extra, timeout=60):
    """A real orchestra-agent; returns its CompletedProcess (it should exit on its own)."""
    argv = [sys.executable, "-m", "agent.main", "--server", plane.address, "--name", name,
            "--docker-host", "unix:///nonexistent.sock", "--state-dir", str(tmp_path / f"state-{name}"), *extra]
    env = {k: v for k, v in os.environ.items() if k != "ORCHESTRA_TOKEN"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def test_plane_keeps_its_keys_private_and_writes_an_admin_config(plane):
    pki = os.path.join(plane.data_dir, "pki")
    assert stat.S_IMODE(os.stat(pki).st_mode) == 0o700
    for f in os.listdir(pki):
        assert stat.S_IMODE(os.stat(os.path.join(pki, f)).st_mode) == 0o600, f
    for f in ("admin.conf", "node-token"):
        assert stat.S_IMODE(os.stat(os.path.join(plane.data_dir, f)).st_mode) == 0o600
    assert json.loads(open(os.path.join(plane.data_dir, "admin.conf")).read())["server"] == plane.address


def test_plaintext_client_is_refused(plane):
    stub = orchestra_pb2_grpc.OrchestraStub(grpc.insecure_channel(plane.address))
    code, _ = rpc_error(lambda: stub.Apply(orchestra_pb2.ApplyRequest(documents_json=[json.dumps(WORKLOAD)]),
                                           timeout=10))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert nothing_stored(plane)


def test_client_certificate_from_another_ca_is_refused(plane):
    other = create_ca().issue_client("admin", ROLE_ADMIN)
    tls = transport.ClientTLS(plane.admin_tls().ca_pem, other.key_pem, other.cert_pem)
    stub = orchestra_pb2_grpc.OrchestraStub(transport.client_channel(plane.address, tls))
    code, _ = rpc_error(lambda: stub.Apply(orchestra_pb2.ApplyRequest(documents_json=[json.dumps(WORKLOAD)]),
                                           timeout=10))
    assert code == grpc.StatusCode.UNAVAILABLE
    assert nothing_stored(plane)


def test_node_certificate_cannot_use_the_admin_api(plane):
    stub = orchestra_pb2_grpc.OrchestraStub(plane.channel("vm-1"))
    code, details = rpc_error(lambda: stub.Apply(
        orchestra_pb2.ApplyRequest(documents_json=[json.dumps(WORKLOAD)]), timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED and "needs role admin" in details
    assert nothing_stored(plane)


def test_agent_without_token_exits_with_the_reason(plane, tmp_path):
    res = run_agent(plane, tmp_path, "vm-1")
    assert res.returncode == 4
    assert "node 'vm-1' has not joined yet" in res.stderr and "--token" in res.stderr
    assert nothing_stored(plane)


def test_agent_with_expired_or_revoked_or_wrong_token_is_refused(plane, tmp_path):
    sec = security(plane)
    short = sec.CreateJoinToken(security_pb2.CreateJoinTokenRequest(ttl_seconds=1), timeout=10)
    revoked = sec.CreateJoinToken(security_pb2.CreateJoinTokenRequest(ttl_seconds=3600), timeout=10)
    sec.RevokeJoinToken(security_pb2.RevokeJoinTokenRequest(id=revoked.info.id), timeout=10)
    import time
    while time.time() * 1000 < short.info.expires_at_ms + 50:
        time.sleep(0.2)
    res = run_agent(plane, tmp_path, "vm-1", "--token", short.token)
    assert res.returncode == 4 and f"join token {short.info.id} expired at" in res.stderr, res.stderr
    res = run_agent(plane, tmp_path, "vm-2", "--token", revoked.token)
    assert res.returncode == 4 and f"join token {revoked.info.id} was revoked" in res.stderr, res.stderr
    wrong_secret = revoked.token[:-4] + ("aaaa" if not revoked.token.endswith("aaaa") else "bbbb")
    res = run_agent(plane, tmp_path, "vm-3", "--token", wrong_secret)
    assert res.returncode == 4 and "UNAUTHENTICATED" in res.stderr
    res = run_agent(plane, tmp_path, "vm-4", "--token", "nonsense")
    assert res.returncode == 4 and "malformed join token" in res.stderr
    assert nothing_stored(plane)
    for n in ("vm-1", "vm-2", "vm-3", "vm-4"):
        assert not (tmp_path / f"state-{n}" / "tls" / "node.crt").exists()


def test_token_pinning_another_ca_never_sends_the_secret(plane, tmp_path):
    token = plane.node_token()
    forged = "K10" + create_ca().fingerprint + token[token.index("::"):]
    res = run_agent(plane, tmp_path, "vm-1", "--token", forged)
    assert res.returncode == 4 and "does not present the CA the join token pins" in res.stderr
    assert nothing_stored(plane)


def test_node_a_cannot_claim_to_be_node_b(plane):
    stream = plane.channel("vm-a").stream_stream(
        "/orchestra.v1.AgentLink/Session", request_serializer=agent_pb2.AgentMessage.SerializeToString,
        response_deserializer=agent_pb2.PlaneMessage.FromString)
    hello = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-b", agent_instance="x"))
    code, details = rpc_error(lambda: list(stream(iter([hello]), timeout=10)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    assert "node certificate for 'vm-a' may not open a session as node 'vm-b'" in details
    c = plane.client()
    assert list(c.ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10).nodes) == []


def test_revoked_node_certificate_is_refused_at_its_next_connection(plane):
    tls = plane.node_tls("vm-r")
    serial = serial_hex(load_cert(tls.cert_pem).serial_number)
    security(plane).RevokeNodeCertificate(security_pb2.RevokeNodeCertificateRequest(serial=serial), timeout=10)
    stream = transport.client_channel(plane.address, tls).stream_stream(
        "/orchestra.v1.AgentLink/Session", request_serializer=agent_pb2.AgentMessage.SerializeToString,
        response_deserializer=agent_pb2.PlaneMessage.FromString)
    hello = agent_pb2.AgentMessage(hello=agent_pb2.Hello(node_name="vm-r", agent_instance="x"))
    code, details = rpc_error(lambda: list(stream(iter([hello]), timeout=10)))
    assert code == grpc.StatusCode.UNAUTHENTICATED and "was revoked" in details
    assert nothing_stored(plane)


@pytest.mark.parametrize("template_extra,needle", [
    ({"privileged": True}, "privileged"),
    ({"hostMounts": ["/etc:/host-etc"]}, "hostMounts"),
    ({"addCapabilities": ["SYS_ADMIN"]}, "capability SYS_ADMIN is not allowed"),
    ({"addCapabilities": ["ALL"]}, '"ALL" is not a Linux capability'),
])
def test_manifest_asking_for_too_much_is_refused_at_apply(plane, template_extra, needle):
    doc = json.loads(json.dumps(WORKLOAD))
    doc["spec"]["template"].update(template_extra)
    code, details = rpc_error(lambda: plane.client().Apply(
        orchestra_pb2.ApplyRequest(documents_json=[json.dumps(doc)]), timeout=10))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and needle in details, details
    assert nothing_stored(plane)


def test_operator_can_allow_a_capability(plane_factory, tmp_path):
    p = plane_factory("--allow-capability", "SYS_ADMIN", data_dir=str(tmp_path / "allowing"))
    doc = json.loads(json.dumps(WORKLOAD))
    doc["spec"]["template"]["addCapabilities"] = ["SYS_ADMIN"]
    res = p.client().Apply(orchestra_pb2.ApplyRequest(documents_json=[json.dumps(doc)]), timeout=10)
    assert res.results[0].action == "created"


def test_bad_allow_capability_flag_fails_start(tmp_path):
    from plane_process import run_plane_expecting_failure
    res = run_plane_expecting_failure(str(tmp_path / "d"), "--allow-capability", "NOPE")
    assert res.returncode != 0 and "unknown capability 'NOPE'" in res.stderr
