"""The kubectl-like verbs against a real plane and real agents on real dockerd engines:
positional apply, get of one object, label selectors, get all, get --watch, events [--watch]."""
from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.integration

WORKLOAD = """\
apiVersion: orchestra/v1
kind: Workload
metadata:
  name: {name}
  labels: {labels}
spec:
  replicas: {replicas}
  template:
    image: local/busybox:1
    command: [sleep, "3600"]
    resources: {{cpu: 50m, memory: 16Mi}}
"""


def manifest(cluster, name: str, replicas: int = 1, labels: str = "{}") -> str:
    path = cluster.workdir / f"{name}.yaml"
    path.write_text(WORKLOAD.format(name=name, replicas=replicas, labels=labels))
    return str(path)


def names(res: subprocess.CompletedProcess) -> list[str]:
    """First column of a table, header left out."""
    assert res.returncode == 0, res.stderr
    return [line.split()[0] for line in res.stdout.splitlines()[1:] if line.strip()]


class Watcher:
    """A long-running `orchestra ...` whose stdout lines are read on a thread."""

    def __init__(self, cluster, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "orchestra.cli.main", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=cluster.env())
        self.lines: queue.Queue = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_line(self, what: str, check, timeout: float = 90) -> str:
        """The next line (from here on) for which check(line) holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                break
            self.seen.append(line)
            if check(line):
                return line
        raise AssertionError(f"timed out waiting for {what}; output so far:\n" + "\n".join(self.seen)
                             + f"\nstderr: {self._stderr()}")

    def _stderr(self) -> str:
        if self.proc.poll() is None:
            return "(still running)"
        return self.proc.stderr.read()

    def interrupt(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        rc = self.proc.wait(20)
        return rc, self.proc.stderr.read()


def test_positional_apply_one_object_selectors_and_all(cluster):
    cluster.start_server()
    cluster.add_nodes(2, labels=lambda i: f"zone={'ab'[i - 1]}")
    web = manifest(cluster, "web", 2, "{app: web, tier: front}")
    db = manifest(cluster, "db", 1, "{app: db}")
    res = cluster.cli("apply", web, "-f", db, "--timeout", "90")    # FILE arguments and -f together
    assert "web: created" in res.stdout and "db: created" in res.stdout
    assert "web: revision 1: 2/2 updated, 2/2 ready" in res.stdout
    assert "db: revision 1: 1/1 updated, 1/1 ready" in res.stdout
    assert cluster.cli("apply", web).stdout.splitlines()[0] == "web: unchanged"

    node = cluster.cli("get", "node", "node-1")
    assert names(node) == ["node-1"] and node.stdout.splitlines()[1].split()[1] == "Ready"
    one = json.loads(cluster.cli("get", "workload", "web", "-o", "json").stdout)
    assert one["name"] == "web" and one["running"] == 2          # the object itself, not a list
    rep = json.loads(cluster.cli("get", "replica", "web-1", "-o", "json").stdout)
    assert rep["id"] == "web-1" and rep["phase"] == "Running"
    for kind, name in (("replica", "web-7"), ("workload", "nope"), ("node", "node-9")):
        missing = cluster.cli("get", kind, name, check=False)
        assert missing.returncode == 1 and missing.stdout == ""
        assert missing.stderr == f"orchestra: {kind} {name!r} not found\n"

    assert names(cluster.cli("get", "nodes", "-l", "zone=a")) == ["node-1"]
    assert names(cluster.cli("get", "nodes", "-l", "zone!=a")) == ["node-2"]
    assert names(cluster.cli("get", "workloads", "-l", "app=web")) == ["web"]
    assert names(cluster.cli("get", "workloads", "-l", "app!=web")) == ["db"]
    assert names(cluster.cli("get", "replicas", "-l", "app=web,tier=front")) == ["web-0", "web-1"]
    assert names(cluster.cli("get", "replicas", "-l", "tier")) == ["web-0", "web-1"]
    assert names(cluster.cli("get", "replicas", "--workload", "db")) == ["db-0"]
    none = cluster.cli("get", "replicas", "-l", "app=nothing")
    assert none.stdout == "" and "No replicas found." in none.stderr
    data = json.loads(cluster.cli("get", "replicas", "-l", "app=db", "-o", "json").stdout)
    assert [r["id"] for r in data["replicas"]] == ["db-0"]

    everything = cluster.cli("get", "all").stdout.split("\n\n")
    assert len(everything) == 3
    assert [line.split()[0] for line in everything[0].splitlines()] == ["NAME", "node/node-1", "node/node-2"]
    assert [line.split()[0] for line in everything[1].splitlines()] == ["NAME", "workload/db", "workload/web"]
    assert [line.split()[0] for line in everything[2].splitlines()] == ["NAME", "replica/db-0", "replica/web-0",
                                                                        "replica/web-1"]
    selected = json.loads(cluster.cli("get", "all", "-l", "app=db", "-o", "json").stdout)
    assert selected["nodes"] == [] and [w["name"] for w in selected["workloads"]] == ["db"]
    assert [r["id"] for r in selected["replicas"]] == ["db-0"]


def test_get_watch_prints_a_row_when_a_replica_changes(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.cli("apply", manifest(cluster, "web", 1), "--timeout", "90")
    watch = Watcher(cluster, "get", "replicas", "--watch")
    header = watch.wait_line("the header", lambda line: line.startswith("NAME"))
    assert header.split() == ["NAME", "WORKLOAD", "NODE", "PHASE", "READY", "RESTARTS", "AGE"]
    watch.wait_line("the listed web-0", lambda line: line.split()[:1] == ["web-0"] and "Running" in line)
    cluster.cli("apply", manifest(cluster, "web", 2), "--no-wait")       # scale up while watching
    watch.wait_line("web-1 Running", lambda line: line.split()[:1] == ["web-1"] and "Running" in line)
    cluster.cli("delete", "workload", "web")
    deleted: set[str] = set()
    while deleted != {"web-0", "web-1"}:     # in whichever order the plane drops them
        line = watch.wait_line("web-0 and web-1 deleted", lambda line: line.endswith("(deleted)"))
        deleted.add(line.split()[0])
    rc, err = watch.interrupt()
    assert rc == 0 and err == ""
    # Rows line up under the header the first list printed.
    column = header.index("WORKLOAD")
    assert all(line[column:].startswith("web ") for line in watch.seen[1:]), watch.seen


def test_get_watch_json_lists_then_streams_changes(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.cli("apply", manifest(cluster, "api", 1), "--no-wait")
    watch = Watcher(cluster, "get", "workloads", "-w", "-o", "json")
    first = json.loads(watch.wait_line("the listed workload", lambda line: True))
    assert (first["type"], first["kind"], first["object"]["name"]) == ("ADDED", "workload", "api")
    cluster.cli("apply", manifest(cluster, "api", 2), "--timeout", "90")
    scaled = watch.wait_line("api at 2/2", lambda line: json.loads(line)["object"]["running"] == 2)
    assert json.loads(scaled)["type"] == "MODIFIED" and json.loads(scaled)["object"]["desired"] == 2
    assert watch.interrupt()[0] == 0


def test_events_lists_newest_last_and_watch_sees_new_ones(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    listed = cluster.cli("events")
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["AGE", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert any("NodeRegistered" in line and "Node/node-1" in line for line in lines[1:])

    watch = Watcher(cluster, "events", "--watch")
    # The recorded events come first: once they are out, the watch is running.
    watch.wait_line("the recorded NodeRegistered", lambda line: "NodeRegistered" in line)
    cluster.cli("apply", manifest(cluster, "web", 1), "--timeout", "90")
    watch.wait_line("web's Created event", lambda line: "Created" in line and "Workload/web" in line)
    watch.wait_line("web-0 started", lambda line: "Started" in line and "Replica/web-0" in line)
    cluster.cli("cordon", "node-1")
    watch.wait_line("the Cordoned event", lambda line: "Cordoned" in line and "Node/node-1" in line)
    assert watch.interrupt()[0] == 0

    ids = [e["id"] for e in json.loads(cluster.cli("events", "-o", "json").stdout)["events"]]
    assert ids == sorted(ids) and len(ids) >= 4                      # newest last
    about_web = json.loads(cluster.cli("events", "--for", "workload/web", "-o", "json").stdout)["events"]
    assert {(e["kind"], e["object"]) for e in about_web} == {("Workload", "web"), ("Replica", "web-0")}
    about_node = json.loads(cluster.cli("events", "--for", "node/node-1", "-o", "json").stdout)["events"]
    assert {e["kind"] for e in about_node} == {"Node"}
    assert {"NodeRegistered", "Cordoned"} <= {e["reason"] for e in about_node}
    nothing = cluster.cli("events", "--for", "replica/none-0")
    assert nothing.stdout == "" and "No events found." in nothing.stderr


def test_events_watch_for_one_workload_as_json_lines(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.cli("apply", manifest(cluster, "web", 1), "--timeout", "90")
    watch = Watcher(cluster, "events", "-w", "--for", "workload/web", "-o", "json")
    first = json.loads(watch.wait_line("web's recorded events", lambda line: True))
    assert (first["kind"], first["object"], first["reason"]) == ("Workload", "web", "Created")
    cluster.cli("apply", manifest(cluster, "other", 1), "--timeout", "90")   # not about web: not shown
    cluster.cli("apply", manifest(cluster, "web", 2), "--timeout", "90")
    started = watch.wait_line("web-1 started", lambda line: json.loads(line)["object"] == "web-1"
                              and json.loads(line)["reason"] == "Started")
    assert json.loads(started)["kind"] == "Replica"
    assert watch.interrupt()[0] == 0
    assert not any('"other' in line for line in watch.seen)
