"""`orchestra ui`'s local server over real HTTP, in front of an in-process plane over real gRPC with
its mutual TLS (the same Target the CLI uses): the page's files, the look-ups, the live stream, and
what it refuses. What the page does with them is tested in a real browser
(tests/integration/cluster/test_ui.py)."""
from __future__ import annotations

import http.client
import json
import threading

import pytest

from orchestra.cli.connection import Target
from orchestra.security.plane_security import plane_security
from orchestra.server.grpc_server import build_server
from orchestra.server.plane import Plane
from orchestra.store import SqliteStore
from orchestra.ui.feed import ClusterFeed
from orchestra.ui.server import UiServer, allowed_hosts
from tests.support.waiting import wait_for
from tests.unit.server.plane_fixtures import Agents, Clock, workload_json


class Served:
    def __init__(self, tmp_path):
        self.clock = Clock()
        self.store = SqliteStore(":memory:")
        self.plane = Plane(self.store, clock_ms=self.clock)
        sec = plane_security(tmp_path / "data", "127.0.0.1:0", self.store)
        self.grpc, port = build_server(self.plane, "127.0.0.1:0", interceptors=sec.interceptors,
                                       extra_handlers=sec.handlers, tls=sec.tls)
        self.grpc.start()
        self.agents = Agents(self.plane)
        self.agents.join("vm-1")
        self.plane.service.apply([workload_json("web", replicas=2)])
        self.plane.service.apply([workload_json("huge", replicas=1, cpu="64")])
        self.agents.settle(self.clock)
        self.target = Target(address=f"127.0.0.1:{port}", tls=sec.pki.admin_tls)
        self.admin_conf = sec.pki.write_admin_config(self.target.address)
        self.feed = ClusterFeed(self.target)
        self.feed.start()
        wait_for("the feed's first listing", lambda: self.feed.state is not None, timeout=30, every=0.05)
        self.ui = UiServer("127.0.0.1", 0, self.target, self.feed)
        threading.Thread(target=self.ui.serve_forever, daemon=True).start()

    def get(self, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.ui.port, timeout=20)
        try:
            conn.request("GET", path, headers={"Host": host or f"127.0.0.1:{self.ui.port}"})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def json(self, path: str) -> tuple[int, dict]:
        status, _, body = self.get(path)
        return status, json.loads(body)

    def close(self) -> None:
        self.ui.shutdown()
        self.ui.server_close()
        self.feed.stop()
        self.target.close()
        self.grpc.stop(None)
        self.store.close()


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.close()


def test_the_page_and_its_files_with_a_strict_policy(served):
    status, headers, body = served.get("/")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert '<script src="/static/app.js"' in page and '<link rel="stylesheet" href="/static/style.css">' in page
    assert "http" not in page.replace('http-equiv', '')          # nothing from anywhere else
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    for name, kind in (("app.js", "javascript"), ("style.css", "text/css")):
        status, headers, body = served.get(f"/static/{name}")
        assert status == 200 and kind in headers["Content-Type"] and body
    assert served.get("/static/../server.py")[0] == 404
    assert served.get("/static/nothing.js")[0] == 404


def test_another_host_name_is_refused(served):
    """A page elsewhere that rebinds its own name to 127.0.0.1 still sends its own Host: refused."""
    status, _, body = served.get("/api/state", host=f"evil.example:{served.ui.port}")
    assert status == 403 and b"its own address" in body
    assert served.get("/", host=f"localhost:{served.ui.port}")[0] == 200
    assert allowed_hosts("0.0.0.0", 8765) is None
    assert allowed_hosts("127.0.0.1", 8765) == {"127.0.0.1:8765", "localhost:8765", "[::1]:8765"}


def test_state_and_look_ups(served):
    status, state = served.json("/api/state")
    assert status == 200
    assert [n["name"] for n in state["nodes"]] == ["vm-1"]
    assert {w["name"]: w["manifest"]["spec"]["replicas"] for w in state["workloads"]} == {"huge": 1, "web": 2}
    by_id = {r["id"]: r for r in state["replicas"]}
    assert by_id["web-0"]["phase"] == "Running" and by_id["web-0"]["node"] == "vm-1"
    assert set(by_id["web-0"]["placement"]) == {"summary", "node"}           # the stream carries the line only
    assert by_id["huge-0"]["placement"]["summary"].startswith("0/1 nodes fit")

    status, full = served.json("/api/replica?id=huge-0")
    assert status == 200
    [rejection] = full["replica"]["placement"]["rejections"]
    assert rejection["reason"] == "insufficient cpu" and rejection["nodes"] == ["vm-1"]
    assert [e["reason"] for e in full["events"]] == ["FailedScheduling"]
    assert served.json("/api/replica?id=web-0")[1]["replica"]["placement"]["scores"][0]["node"] == "vm-1"

    status, w = served.json("/api/workload?name=web")
    assert status == 200 and w["current_revision"] == 1 and [r["number"] for r in w["revisions"]] == [1]
    assert w["rollout"]["state"] == "Complete" and len(w["replicas"]) == 2
    assert served.json("/api/node?name=vm-1")[1]["node"]["status"] == "Ready"
    assert "Created" in [e["reason"] for e in served.json("/api/events?object=web")[1]["events"]]


def test_what_it_cannot_answer_says_why(served):
    assert served.json("/api/workload?name=nope") == (404, {"error": "workload 'nope' not found"})
    assert served.json("/api/replica?id=web-9") == (404, {"error": "replica 'web-9' not found"})
    assert served.json("/api/workload") == (400, {"error": "the query needs name="})
    assert served.json("/api/logs?replica=web-0&tail=x")[0] == 400
    status, err = served.json("/api/logs?replica=huge-0")
    assert status == 409 and "not on a node" in err["error"]
    assert served.json("/api/nothing")[0] == 404
    conn = http.client.HTTPConnection("127.0.0.1", served.ui.port, timeout=10)
    conn.request("POST", "/api/state", body=b"{}", headers={"Host": f"127.0.0.1:{served.ui.port}"})
    assert conn.getresponse().status == 501          # read-only: nothing but GET
    conn.close()


def read_events(resp, wanted: set[str]) -> dict[str, list]:
    """SSE messages from the stream until every name in `wanted` arrived: name -> [data, ...]."""
    got: dict[str, list] = {}
    name = None
    while not wanted <= set(got):
        line = resp.readline().decode()
        assert line, f"the stream ended; got {sorted(got)}"
        if line.startswith("event: "):
            name = line[7:].strip()
        elif line.startswith("data: "):
            got.setdefault(name, []).append(json.loads(line[6:]))
    return got


def test_the_stream_sends_state_events_and_changes(served):
    conn = http.client.HTTPConnection("127.0.0.1", served.ui.port, timeout=20)
    conn.request("GET", "/api/stream", headers={"Host": f"127.0.0.1:{served.ui.port}"})
    resp = conn.getresponse()
    assert resp.status == 200 and resp.getheader("Content-Type").startswith("text/event-stream")
    first = read_events(resp, {"status", "state", "events"})
    assert first["status"][0] == {"status": "live", "live": True}
    assert len(first["state"][-1]["replicas"]) == 3
    assert first["events"][0]["reset"] and "Created" in [e["reason"] for e in first["events"][0]["events"]]

    served.plane.service.apply([workload_json("web", replicas=3)])       # a change: an event, then a re-list
    changed = read_events(resp, {"events", "state"})
    while len(changed["state"][-1]["replicas"]) != 4:
        changed = read_events(resp, {"state"})
    assert "web-2" in [r["id"] for r in changed["state"][-1]["replicas"]]

    served.grpc.stop(None)                      # the plane goes away: the page is told, and why
    gone = read_events(resp, {"status"})["status"][-1]
    assert gone["live"] is False and gone["status"].startswith("cannot reach the plane: ")
    conn.close()


def test_the_command_says_why_it_cannot_listen(served):
    """`orchestra ui` itself: a busy or malformed --listen is one line and exit 1 (2 for a bad value)."""
    from click.testing import CliRunner

    from orchestra.cli.main import cli

    runner = CliRunner()
    busy = runner.invoke(cli, ["--config", str(served.admin_conf), "ui", "--listen", f"127.0.0.1:{served.ui.port}"])
    assert busy.exit_code == 1
    assert busy.output.strip().startswith(f"orchestra: cannot listen on 127.0.0.1:{served.ui.port}: ")
    bad = runner.invoke(cli, ["--config", str(served.admin_conf), "ui", "--listen", "8765"])
    assert bad.exit_code == 2 and "'8765' is not HOST:PORT" in bad.output
