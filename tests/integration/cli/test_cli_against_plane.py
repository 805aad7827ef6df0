"""The real `orchestra` command against a real `orchestra server` (no agent: nothing runs)."""
from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path

import yaml

from plane import clean_env, free_port, run_cli

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "web.yaml"

pytestmark = __import__("pytest").mark.integration


def manifest(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(body)
    return str(path)


def workload_names(plane) -> list[str]:
    res = plane.cli("get", "workloads", "-o", "json")
    assert res.returncode == 0, res.stderr
    return [w["name"] for w in json.loads(res.stdout)["workloads"]]


def test_unreachable_server_exit_code_and_message(tmp_path):
    port = free_port()
    res = run_cli("get", "nodes", env=clean_env(tmp_path, ORCHESTRA_SERVER=f"127.0.0.1:{port}"))
    assert res.returncode == 1
    assert res.stdout == ""
    assert res.stderr == (f"orchestra: cannot reach the control plane at 127.0.0.1:{port}: connection refused "
                          f"(start one with `orchestra local up`, or set --server / ORCHESTRA_SERVER)\n")


def test_plaintext_client_is_told_to_use_the_admin_config(plane):
    res = run_cli("--server", plane.address, "get", "nodes", env=clean_env(plane.workdir / "home"))
    assert res.returncode == 1
    assert res.stderr.startswith(f"orchestra: cannot talk to the control plane at {plane.address}:")
    assert "admin.conf" in res.stderr and len(res.stderr.splitlines()) == 1


def test_invalid_manifest_exit_1_and_nothing_stored(plane, tmp_path):
    bad = manifest(tmp_path, "bad.yaml", EXAMPLE.read_text() + "---\napiVersion: orchestra/v1\nkind: Workload\n"
                   "metadata: {name: api}\nspec:\n  replicas: 2000\n  template: {image: local/busybox:1}\n")
    res = plane.cli("apply", "-f", bad)
    assert res.returncode == 1
    assert res.stderr == (f"orchestra: {bad}: document 2: spec.replicas: 2000 is out of range "
                          f"(expected an integer from 0 to 1000)\n")
    assert res.stdout == ""
    assert workload_names(plane) == []
    table = plane.cli("get", "workloads")
    assert table.returncode == 0 and table.stdout == "" and "No workloads found." in table.stderr


def test_not_found(plane):
    for args, text in [(("describe", "workload", "nope"), "nope"), (("describe", "node", "nope"), "nope"),
                       (("cordon", "nope"), "nope"), (("delete", "workload", "nope"), "nope"),
                       (("logs", "nope"), "nope")]:
        res = plane.cli(*args)
        assert res.returncode == 1, args
        assert res.stderr.startswith("orchestra: ") and text in res.stderr, (args, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1, (args, res.stderr)


def test_dry_run_stores_nothing(plane):
    res = plane.cli("apply", "-f", str(EXAMPLE), "--dry-run")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "web: would be created (dry run)"
    assert "web-0: not placed:" in res.stdout     # no node in this cluster, and it says so
    assert workload_names(plane) == []


def test_apply_no_wait_then_get_describe_delete(plane):
    res = plane.cli("apply", "-f", str(EXAMPLE), "--no-wait")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == "web: created"
    assert workload_names(plane) == ["web"]

    table = plane.cli("get", "workloads").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "PENDING", "IMAGE", "AGE"]
    assert table[1].split()[:6] == ["web", "0/3", "3", "0", "3", "local/busybox:1"]

    stored = json.loads(plane.cli("get", "workloads", "-o", "json").stdout)["workloads"][0]
    assert json.loads(stored["workload_json"])["spec"]["replicas"] == 3
    reps = yaml.safe_load(plane.cli("get", "replicas", "--workload", "web", "-o", "yaml").stdout)["replicas"]
    assert sorted(r["id"] for r in reps) == ["web-0", "web-1", "web-2"]
    assert all(r["phase"] == "Pending" for r in reps)

    again = plane.cli("apply", "-f", str(EXAMPLE), "--no-wait")
    assert again.returncode == 0 and again.stdout.splitlines()[0] == "web: unchanged"

    described = plane.cli("describe", "workload", "web")
    assert described.returncode == 0
    assert "Why not running:" in described.stdout and "web-0 (Pending):" in described.stdout

    gone = plane.cli("delete", "-f", str(EXAMPLE), "--timeout", "60")
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.splitlines()[0] == "web: deleted"
    assert workload_names(plane) == []


def test_apply_waits_and_times_out_naming_replicas_and_why(plane):
    res = plane.cli("apply", "-f", str(EXAMPLE), "--timeout", "2")
    assert res.returncode == 1
    assert "web: revision 1: 3/3 updated, 0/3 ready" in res.stdout
    lines = res.stderr.splitlines()
    assert lines[0].startswith("orchestra: timed out after 2s waiting for the rollout of web: rollout to revision 1")
    assert {line.split(":")[0].strip() for line in lines[1:]} == {"web-0", "web-1", "web-2"}
    assert all("Pending" in line for line in lines[1:])


def test_invalid_argument_from_server_is_printed(plane, tmp_path):
    # Valid for the manifest schema, refused by the plane's policy (capabilities beyond the safe list).
    body = EXAMPLE.read_text().replace("restartPolicy: Always", "restartPolicy: Always\n    addCapabilities: [SYS_ADMIN]")
    res = plane.cli("apply", "-f", manifest(tmp_path, "cap.yaml", body), "--no-wait")
    assert res.returncode == 1, res.stdout
    assert res.stderr.startswith("orchestra: ") and "SYS_ADMIN" in res.stderr
    assert workload_names(plane) == []


def test_local_up_without_a_docker_engine_says_so_and_where_the_log_is(tmp_path):
    env = clean_env(tmp_path / "home")
    data = tmp_path / "local"
    up = ("local", "up", "--data-dir", str(data), "--listen", f"127.0.0.1:{free_port()}", "--name", "n1",
          "--timeout", "20")
    try:
        res = run_cli(*up, "--docker-host", f"unix://{tmp_path}/no-docker.sock", env=env)
        assert res.returncode == 1
        assert "control plane: started" in res.stdout
        first = res.stderr.splitlines()[0]
        assert first.startswith("orchestra: node n1 was not ready for work within 20s")
        assert "Docker engine is unavailable" in first and f"{data}/agent.log" in first
        # Running `up` again with other options replaces the agent, keeps the plane.
        res = run_cli(*up, "--docker-host", f"unix://{tmp_path}/still-none.sock", env=env)
        assert "control plane: already running" in res.stdout
        assert "agent: options changed, stopped" in res.stdout
    finally:
        down = run_cli("local", "down", "--data-dir", str(data), env=env)
    assert down.returncode == 0 and "control plane: stopped" in down.stdout


def other_cluster_config(tmp_path: Path, server: str) -> Path:
    """A client config that is valid, but for another cluster (its own CA and admin certificate)."""
    from orchestra.security.ca import ROLE_ADMIN, create_ca
    ca = create_ca()
    admin = ca.issue_client("admin", ROLE_ADMIN)
    path = tmp_path / "other.conf"
    path.write_text(json.dumps({"server": server, "ca_pem": ca.cert_pem.decode(), "cert_pem": admin.cert_pem.decode(),
                                "key_pem": admin.key_pem.decode()}))
    return path


def test_config_of_another_cluster_gives_one_line_and_no_grpc_log(plane, tmp_path):
    config = other_cluster_config(tmp_path, plane.address)
    env = clean_env(tmp_path / "home", ORCHESTRA_CONFIG=str(config))
    env.pop("GRPC_VERBOSITY", None)               # what a user's shell has: nothing
    for args in (("get", "nodes"), ("events",), ("get", "all", "-w")):
        res = run_cli(*args, env=env, timeout=60)
        assert res.returncode == 1 and res.stdout == ""
        assert res.stderr.startswith(f"orchestra: cannot talk to the control plane at {plane.address}: the TLS "
                                     f"handshake failed (is {config} the client config"), res.stderr
        assert len(res.stderr.splitlines()) == 1, res.stderr     # no `ssl_transport_security.cc` line before it


@contextlib.contextmanager
def silent_port():
    """A port that accepts TCP connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                pass
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


def test_port_that_accepts_but_never_answers_fails_at_the_connect_timeout(tmp_path):
    with silent_port() as port:
        address = f"127.0.0.1:{port}"
        tls = clean_env(tmp_path / "home", ORCHESTRA_CONFIG=str(other_cluster_config(tmp_path, address)))
        plain = clean_env(tmp_path / "home", ORCHESTRA_SERVER=address)
        for env, handshake in ((tls, "TLS handshake"), (plain, "handshake")):
            # gRPC alone would wait 20 s for the handshake; the CLI gives it 5 s (time-out here: 15 s).
            res = run_cli("get", "nodes", env=env, timeout=15)
            assert res.returncode == 1 and res.stdout == ""
            assert res.stderr == (f"orchestra: cannot talk to the control plane at {address}: it accepted the "
                                  f"connection but did not complete the {handshake} within 5s (is an orchestra "
                                  f"server listening on that port, and is it running?)\n")
