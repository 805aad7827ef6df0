"""The web UI's time to first paint and its update latency after a change, in a real browser.

    python bench/ui_latency.py [--runs 5] [--screenshot docs/topology.png]

Real processes: three dockerd engines in their own network namespaces, a control plane and three
agents (the integration tier's harness), `orchestra ui`, and Debian's headless Chromium driven by
Playwright (tests/support/browser.py). The cluster holds two tenants' workloads and one replica
that no node can take (every node is held by another tenant), which is also the picture that
--screenshot saves.

- first paint: a fresh page load, `first-contentful-paint` from the browser's Performance API, and
  the moment the topology is first drawn from the live state (the page's `orchestra:first-state`
  mark), both from the start of navigation.
- update latency: a scale-up by one replica through the user API (Apply, which returns once the
  replica is created and bound); from Apply's return to the new container being drawn on its node,
  seen by a MutationObserver in the page (one clock: the same machine).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import BUSYBOX_IMAGE, import_busybox, start_engine  # noqa: E402
from harness import Cluster, wait_for  # noqa: E402
from test_ui import start_ui  # noqa: E402

from orchestra.api import orchestra_pb2 as pb  # noqa: E402
from tests.support.browser import chromium_page  # noqa: E402

SEEN = """() => {
  window.seenAt = {};
  const look = () => { for (const el of document.querySelectorAll('article.vm[data-node]:not(.unplaced) [data-replica]'))
    if (!(el.dataset.replica in window.seenAt)) window.seenAt[el.dataset.replica] = Date.now(); };
  look();
  new MutationObserver(look).observe(document.getElementById('view'), {childList: true, subtree: true});
}"""


def manifest(name: str, replicas: int, cpu: str, memory: str, tenant: str = "", command: str = '[sleep, "3600"]') -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}, labels: {{app: {name}}}}}
        spec:
          replicas: {replicas}
          {"tenant: " + tenant if tenant else ""}
          template:
            image: local/busybox:1
            command: {command}
            resources: {{cpu: {cpu}, memory: {memory}}}
            readinessProbe: {{exec: {{command: ["true"]}}, periodSeconds: 2}}
        """)


def scale(cluster, name: str, by: int) -> tuple[float, float]:
    """Apply the workload with `by` more replicas through the API: (when Apply was sent, when it returned),
    epoch ms."""
    api = cluster.api()
    [info] = [w for w in api.ListWorkloads(pb.ListWorkloadsRequest(), timeout=30).workloads if w.name == name]
    doc = json.loads(info.workload_json)
    doc["spec"]["replicas"] += by
    sent = time.time() * 1000
    api.Apply(pb.ApplyRequest(documents_json=[json.dumps(doc)]), timeout=60)
    return sent, time.time() * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--screenshot", default="", help="save the topology page here (PNG), once the cluster settled")
    args = ap.parse_args()
    started = []

    def factory(n: int, bridge: bool = False):
        for _ in range(n):
            e = start_engine(bridge=bridge)
            import_busybox(e, BUSYBOX_IMAGE)
            started.append(e)
        return started[-n:]

    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(workdir=Path(tmp), engine_factory=factory)
        ui = None
        try:
            cluster.start_server()
            cluster.add_nodes(3, labels=lambda i: f"zone={'ab'[i % 2]}", memory="1Gi")
            cluster.apply(manifest("db", 1, "500m", "256Mi", tenant="team-b"))
            cluster.apply(manifest("web", 4, "250m", "64Mi", tenant="team-a"))
            cluster.apply(manifest("api", 2, "500m", "192Mi", tenant="team-a"))
            cluster.apply(manifest("report", 1, "100m", "32Mi"), "--no-wait")     # no tenant: no node is free
            ui, url = start_ui(cluster)
            with chromium_page(Path(tmp), width=1400, height=820) as page:
                paints, drawn = [], []
                for _ in range(args.runs):
                    page.goto("about:blank")                 # each run a whole new load of the page
                    page.goto(url + "#/", wait_until="load")
                    page.wait_for_selector("article.vm [data-replica]")
                    page.wait_for_function("() => performance.getEntriesByName('orchestra:first-state').length > 0")
                    timing = page.evaluate("""() => ({
                        fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
                        state: performance.getEntriesByName('orchestra:first-state')[0].startTime})""")
                    paints.append(timing["fcp"])
                    drawn.append(timing["state"])
                print(f"first contentful paint: median {statistics.median(paints):.0f} ms "
                      f"(runs: {', '.join(f'{x:.0f}' for x in paints)})")
                print(f"topology drawn from the live state: median {statistics.median(drawn):.0f} ms after navigation "
                      f"(runs: {', '.join(f'{x:.0f}' for x in drawn)})")

                wait_for("every placeable replica ready on the page", lambda: page.evaluate(
                    "() => [...document.querySelectorAll('article.vm:not(.unplaced) .container')]"
                    ".every((c) => c.dataset.ready === 'true')"), timeout=120)
                if args.screenshot:
                    page.screenshot(path=args.screenshot, full_page=True)
                    print(f"screenshot: {args.screenshot}")

                page.evaluate(SEEN)
                from_sent, from_returned = [], []
                count = 4
                for _ in range(args.runs):
                    new_id = f"web-{count}"
                    count += 1
                    sent, returned = scale(cluster, "web", 1)
                    wait_for(f"{new_id} on the page", lambda: page.evaluate(f"() => window.seenAt['{new_id}']"),
                             timeout=60, every=0.05)
                    seen = page.evaluate(f"() => window.seenAt['{new_id}']")
                    from_sent.append(seen - sent)
                    from_returned.append(seen - returned)
                    time.sleep(1.0)
                for what, xs in (("Apply returned", from_returned), ("Apply sent", from_sent)):
                    print(f"update latency ({what} -> the new container drawn on its node): median "
                          f"{statistics.median(xs):.0f} ms, max {max(xs):.0f} ms (runs: {', '.join(f'{x:.0f}' for x in xs)})")
        finally:
            if ui is not None:
                ui.stop()
            cluster.stop()
            for e in started:
                e.stop()


if __name__ == "__main__":
    main()
