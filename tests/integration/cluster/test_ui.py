"""Issue 13: the web UI (`orchestra ui`) in a real browser (Debian's headless Chromium, driven by
Playwright) against a real plane, real agents and their dockerd engines. What the page shows is
compared with what `orchestra get` says; a screenshot of each page is saved with the test output."""
from __future__ import annotations

import sys
import urllib.request

import pytest

from harness import Proc, wait_for
from test_core import workload

from tests.support.browser import chromium_page
from tests.support.ports import free_port
from tests.support.processes import stop

TOPOLOGY = """() => Object.fromEntries([...document.querySelectorAll('article.vm[data-node]')]
    .filter((n) => n.dataset.node).map((n) => [n.dataset.node,
        [...n.querySelectorAll('[data-replica]')].map((c) => c.dataset.replica).sort()]))"""


def start_ui(cluster) -> tuple[Proc, str]:
    """`orchestra ui` as a user runs it (the admin config the plane wrote): (its process, its URL)."""
    port = free_port()
    proc = Proc("ui", [sys.executable, "-m", "orchestra.cli.main", "ui", "--listen", f"127.0.0.1:{port}"],
                cluster.workdir / "ui.log", cluster.env()).start()
    url = f"http://127.0.0.1:{port}/"

    def answers():
        if not proc.alive:
            raise AssertionError(f"orchestra ui exited:\n{proc.log()}")
        try:
            with urllib.request.urlopen(url + "api/state", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False
    try:
        wait_for("orchestra ui to serve the cluster's state", answers)
    except AssertionError:
        proc.stop()
        raise
    assert f"orchestra ui: {url}" in proc.log()
    return proc, url


@pytest.fixture
def ui(cluster, request):
    """`ui()` starts `orchestra ui` for the cluster and returns its URL; it is stopped (and its log
    printed when the test failed) at the end."""
    started = []

    def start() -> str:
        proc, url = start_ui(cluster)
        started.append(proc)
        return url
    yield start
    for proc in started:
        code = stop(proc.popen)
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            print(f"----- orchestra ui -----\n{proc.log()[-6000:]}")
        assert code == 0, f"orchestra ui did not end cleanly on SIGTERM (exit {code}):\n{proc.log()[-3000:]}"


def placed(cluster) -> dict[str, list[str]]:
    """node -> its replicas, as `orchestra get replicas` says."""
    out: dict[str, list[str]] = {n: [] for n in cluster.nodes()}
    for r in cluster.replicas():
        if r.get("node"):
            out[r["node"]].append(r["id"])
    return {n: sorted(ids) for n, ids in out.items()}


def screenshot(page, cluster, name: str) -> None:
    path = cluster.workdir / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def test_topology_is_live_and_explains_a_pending_replica(cluster, ui):
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(workload(name="web", replicas=3, cpu="100m", memory="32Mi"))
    cluster.wait_running("web", 3)
    url = ui()
    nodes = list(cluster.agents)

    with chromium_page(cluster.workdir) as page:
        page.goto(url)
        # Every node, drawn with the containers `get` places on it.
        wait_for("the topology to show every node and its containers",
                 lambda: page.evaluate(TOPOLOGY) == placed(cluster), timeout=60)
        assert sorted(page.evaluate(TOPOLOGY)) == sorted(nodes)
        for node in nodes:
            card = page.locator(f'article.vm[data-node="{node}"]')
            assert card.locator(".node-status").inner_text() == "Ready"
            assert "capacity 2 CPU, 2Gi" in card.locator(".vm-facts").inner_text()
        wait_for("every container Running and ready on the page", lambda: page.evaluate(
            "() => [...document.querySelectorAll('.container')].map((c) => c.dataset.phase + c.dataset.ready)")
            == ["Runningtrue"] * 3, timeout=60)

        # A scale-up appears without a reload.
        page.evaluate("() => { window.sameDocument = 'still here'; "
                      "document.querySelector('article.vm[data-node=\"node-1\"]').marked = true; }")
        cluster.apply(workload(name="web", replicas=5, cpu="100m", memory="32Mi"))
        page.wait_for_selector('article.vm [data-replica="web-4"]', timeout=60_000)
        wait_for("the topology to show the scale-up", lambda: page.evaluate(TOPOLOGY) == placed(cluster), timeout=60)
        assert sum(len(ids) for ids in page.evaluate(TOPOLOGY).values()) == 5
        assert page.evaluate("() => window.sameDocument") == "still here"
        assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
        # Redrawn in place: the node's box is the same element (a reader's selection or hover survives).
        assert page.evaluate("() => document.querySelector('article.vm[data-node=\"node-1\"]').marked") is True

        # A replica no node can take shows why, on the topology and on its own page in full.
        cluster.apply(workload(name="huge", replicas=1, cpu="16", memory="32Mi"), "--no-wait")
        pending = page.locator('.unplaced [data-replica="huge-0"]')
        pending.wait_for(timeout=60_000)
        [rep] = cluster.replicas("huge")
        explanation = rep["placement"]
        assert rep["phase"] == "Pending" and explanation["summary"].startswith("0/2 nodes")
        wait_for("the explanation on the topology",
                 lambda: pending.locator(".why").inner_text() == explanation["summary"], timeout=30)
        screenshot(page, cluster, "topology.png")

        pending.click()
        page.wait_for_selector("#placement [data-rejection]", timeout=30_000)
        assert page.url.endswith("#/replica/huge-0")
        assert page.locator("[data-placement-summary]").inner_text() == explanation["summary"]
        shown = page.locator("#placement table.rejections").inner_text()
        for rejection in explanation["rejections"]:
            assert rejection["reason"] in shown            # e.g. "insufficient cpu"
            for node in rejection["nodes"]:
                assert node in shown
        assert "2 of 2" not in shown and "0 of 2 nodes passed every filter" in page.locator("#placement").inner_text()
        screenshot(page, cluster, "pending-replica.png")
        assert page.evaluate("() => window.sameDocument") == "still here"   # all of it without a reload


def test_workloads_rollout_history_replica_logs_and_events(cluster, ui):
    cluster.start_server()
    cluster.add_nodes(1)
    command = '[sh, -c, "echo hello from $GREETING; sleep 3600"]'
    probe = '    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}\n    resources:'
    cluster.apply(workload(name="web", replicas=2, cpu="100m", memory="32Mi", command=command)
                  .replace("    resources:", probe))
    cluster.apply(workload(name="web", replicas=2, cpu="100m", memory="32Mi", command=command)
                  .replace("    resources:", probe).replace("GREETING: hello", "GREETING: revision-two"))
    reps = cluster.wait_running("web", 2)
    assert all(r["revision"] == 2 for r in reps)
    url = ui()

    with chromium_page(cluster.workdir) as page:
        page.goto(url + "#/workloads")
        row = page.locator('tr[data-workload="web"]')
        row.wait_for(timeout=60_000)
        wait_for("2/2 ready on the workloads page",
                 lambda: row.locator('[data-count="ready"]').inner_text() == "2/2", timeout=60)
        assert row.locator('[data-count="up-to-date"]').inner_text() == "2"
        assert "Complete" in row.inner_text()

        row.locator("a").first.click()
        page.wait_for_selector('tr[data-revision="1"]', timeout=30_000)
        history = page.locator("table.revisions").inner_text()
        assert "2 (current)" in history and "GREETING" in history         # what changed
        assert page.locator('[data-rollout-state]').get_attribute("data-rollout-state") == "Complete"
        screenshot(page, cluster, "workload.png")

        replica = reps[0]["id"]
        page.locator(f'table.replicas a[href="#/replica/{replica}"]').click()
        wait_for("the replica's logs", lambda: "hello from revision-two" in page.locator("#logs").inner_text(),
                 timeout=60)
        wait_for("its readiness probe's last result", lambda: page.locator('tr[data-probe="readiness"]').count() == 1
                 and "Success" in page.locator('tr[data-probe="readiness"]').inner_text(), timeout=30)
        assert "placed on node-1" in page.locator("[data-placement-summary]").inner_text()
        screenshot(page, cluster, "replica.png")

        page.goto(url + "#/events")
        wait_for("the Scheduled event of the replica", lambda: any(
            "Scheduled" in t and replica in t for t in page.locator("table.events tbody tr").all_inner_texts()),
            timeout=30)
        everything = page.locator("table.events tbody tr").count()
        page.fill("input.filter", replica)
        wait_for("the filter to keep only that replica's events", lambda: 0 < page.locator(
            "table.events tbody tr").count() < everything and all(
            replica in t for t in page.locator("table.events tbody tr").all_inner_texts()), timeout=10)
        screenshot(page, cluster, "events.png")
