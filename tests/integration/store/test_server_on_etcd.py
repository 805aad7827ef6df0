"""A real `orchestra server --store etcd://...` process: its state is in etcd, it survives a
restart there, and bad store options fail at once with a clear message."""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "server"))

from plane_process import run_plane_expecting_failure, start_plane  # noqa: E402

import grpc  # noqa: E402

from orchestra.api import orchestra_pb2  # noqa: E402
from orchestra.store.etcd import EtcdStore  # noqa: E402
from orchestra.store.records import JoinTokenRecord  # noqa: E402
from tests.support.waiting import wait_for  # noqa: E402


def etcd_args(cluster, prefix: str) -> list[str]:
    return ["--store", f"{cluster.url}{prefix}", "--etcd-ca", cluster.tls.ca, "--etcd-cert", cluster.tls.cert,
            "--etcd-key", cluster.tls.key]


def test_the_plane_keeps_its_state_in_etcd(etcd_cluster, etcd_prefix, tmp_path):
    plane = start_plane(str(tmp_path / "data"), *etcd_args(etcd_cluster, etcd_prefix))
    try:
        # On etcd a plane listens before it has won the election (it may be one of several): it serves
        # once it leads, and says so meanwhile (UNAVAILABLE: "no plane leads right now", "taking over as leader").
        assert wait_for("the plane to lead and answer", lambda: _nodes(plane), timeout=60) == ([],)
        plane.node_tls("vm-1")   # a real Join: the plane checks the node token it stored in etcd
    finally:
        assert plane.stop() == 0
    seen = EtcdStore(etcd_cluster.endpoints, etcd_cluster.tls, prefix=etcd_prefix)
    tokens = seen.list(JoinTokenRecord)
    assert len(tokens) == 1 and not tokens[0].revoked
    seen.close()
    again = start_plane(str(tmp_path / "data"), *etcd_args(etcd_cluster, etcd_prefix))
    try:
        wait_for("the restarted plane to lead", lambda: _nodes(again), timeout=60)
        again.node_tls("vm-2")   # the same token, read back from etcd by a new process
    finally:
        again.stop()


def _nodes(plane):
    try:
        return ([*plane.client().ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10).nodes],)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.UNAVAILABLE and "lead" in exc.details(), exc   # not leading yet
        return None


def test_bad_store_options_fail_at_once_with_a_reason(etcd_cluster, tmp_path):
    data = str(tmp_path / "data")
    r = run_plane_expecting_failure(data, "--store", "etcd://nowhere")
    assert r.returncode == 1 and "'nowhere' is not HOST:PORT" in r.stderr
    r = run_plane_expecting_failure(data, "--store", etcd_cluster.url, "--etcd-ca", etcd_cluster.tls.ca)
    assert r.returncode == 1 and "needs --etcd-cert, --etcd-key" in r.stderr
    r = run_plane_expecting_failure(data, "--store", etcd_cluster.url, "--etcd-ca", etcd_cluster.tls.ca,
                                    "--etcd-cert", etcd_cluster.tls.cert, "--etcd-key", str(tmp_path / "missing.pem"))
    assert r.returncode == 1 and "cannot read the etcd client key" in r.stderr


def test_an_unreachable_etcd_stops_the_plane_from_starting(tmp_path, etcd_cluster):
    from tests.support.etcd import free_ports
    port = free_ports(1)[0]
    started = time.monotonic()
    r = run_plane_expecting_failure(str(tmp_path / "data"), "--store", f"etcd://127.0.0.1:{port}",
                                    "--etcd-ca", etcd_cluster.tls.ca, "--etcd-cert", etcd_cluster.tls.cert,
                                    "--etcd-key", etcd_cluster.tls.key)
    assert r.returncode == 1
    assert f"cannot open the etcd store at 127.0.0.1:{port}" in r.stderr and "no etcd member is reachable" in r.stderr
    assert time.monotonic() - started < 30
