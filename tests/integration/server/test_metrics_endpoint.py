"""`orchestra server --metrics-listen`: the real process serves Prometheus' text format there, and a
bad or busy address is one clear line with rc 1 before anything starts."""
from __future__ import annotations

import socket
import urllib.request

from plane_process import run_plane_expecting_failure, start_plane
from prometheus_client.parser import text_string_to_metric_families

from orchestra.api import orchestra_pb2
from tests.support.ports import free_port


def test_serves_metrics_where_asked(tmp_path):
    port = free_port()
    p = start_plane(str(tmp_path / "data"), "--metrics-listen", f"127.0.0.1:{port}")
    try:
        assert p.proc.stdout.readline().strip() == f"metrics: http://127.0.0.1:{port}/metrics"
        p.client().ListNodes(orchestra_pb2.ListNodesRequest(), timeout=10)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as resp:
            families = {f.name: f for f in text_string_to_metric_families(resp.read().decode())}
        assert {"orchestra_nodes", "orchestra_replicas", "orchestra_agent_sessions", "orchestra_build_info",
                "orchestra_api_requests", "orchestra_scheduling_attempts", "process_resident_memory_bytes"} \
            <= set(families)
        calls = {tuple(sorted(s.labels.items())): s.value for s in families["orchestra_api_requests"].samples
                 if s.name == "orchestra_api_requests_total"}
        assert calls[(("code", "OK"), ("method", "ListNodes"))] == 1
    finally:
        assert p.stop() == 0


def test_a_bad_or_busy_address_is_one_line(tmp_path):
    bad = run_plane_expecting_failure(str(tmp_path / "a"), "--metrics-listen", "9464")
    assert bad.returncode == 1
    assert bad.stderr.strip() == "orchestra server: error: --metrics-listen: '9464' is not HOST:PORT " \
                                 "(e.g. 127.0.0.1:7070)"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = run_plane_expecting_failure(str(tmp_path / "b"), "--metrics-listen",
                                           f"127.0.0.1:{s.getsockname()[1]}")
    assert busy.returncode == 1
    lines = busy.stderr.strip().splitlines()
    assert len(lines) == 1 and "--metrics-listen: cannot listen on 127.0.0.1:" in lines[0] \
        and "already in use" in lines[0], busy.stderr
