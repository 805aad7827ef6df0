"""Resident memory (RSS) of a real orchestra-agent process while it manages N containers.

    python3 bench/agent_memory.py [--containers 10] [--seconds 30] [--metrics]

Starts one real dockerd in its own network namespace (tests/integration/engines.py), a real
AgentLink peer over mutual TLS (tests/integration/agent/link_peer.py) that sends a desired set
of N busybox `sleep` replicas, and the real agent process (heartbeat 2 s, usage every 5 s, the
plane's defaults). Once all N are Running it samples the agent's RSS (psutil) every second for
--seconds and prints the figures. Everything it started is stopped at the end.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "integration" / "agent"))
sys.path.insert(0, str(ROOT))

from engines import BUSYBOX_IMAGE, import_busybox, start_engine  # noqa: E402
from link_peer import AgentProcess, LinkPeer  # noqa: E402
from orchestra.api import agent_pb2, types_pb2  # noqa: E402

NODE = "bench-node"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--containers", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--metrics", action="store_true",
                    help="run the agent with --metrics-listen and scrape it every second while sampling")
    args = ap.parse_args()
    if args.containers < 0 or args.seconds < 1:
        ap.error("--containers must be >= 0 and --seconds >= 1")

    engine = start_engine("bench")
    peer = agent = None
    try:
        import_busybox(engine)
        peer = LinkPeer(heartbeat_ms=2000, usage_ms=5000)
        specs = [agent_pb2.ContainerSpec(
            replica_id=f"bench-{i}", workload="bench", index=i, revision=1, template_hash="t1", incarnation=1,
            image=BUSYBOX_IMAGE, command=["sleep", "100000"], restart_policy="Always",
            resources=types_pb2.Resources(cpu_millis=50, memory_bytes=16 * 2**20))
            for i in range(args.containers)]
        peer.set_desired(NODE, 1, specs, send=False)
        logdir = Path(tempfile.mkdtemp(prefix="agent-mem-"))
        metrics_url = ""
        extra = []
        if args.metrics:
            from tests.support.ports import free_port
            port = free_port()
            extra, metrics_url = ["--metrics-listen", f"127.0.0.1:{port}"], f"http://127.0.0.1:{port}/metrics"
        agent = AgentProcess(peer.address, NODE, engine.host, *extra, log_dir=logdir)
        t0 = time.monotonic()
        ids = {s.replica_id for s in specs}
        peer.wait_status(NODE, lambda st: all(i in st and st[i].phase == "Running" for i in ids),
                         f"{args.containers} replicas Running", timeout=300)
        converge_s = time.monotonic() - t0
        proc = psutil.Process(agent.pid)
        samples = []
        for _ in range(args.seconds):
            if metrics_url:
                import urllib.request
                urllib.request.urlopen(metrics_url, timeout=10).read()
            samples.append(proc.memory_info().rss)
            time.sleep(1)
        cpu = proc.cpu_times()
        usage = peer.messages(NODE, "usage")
        mib = 2**20
        print(f"containers managed:      {args.containers} (all Running after {converge_s:.1f}s "
              f"from agent start)")
        print(f"agent RSS over {args.seconds}s:   max {max(samples) / mib:.1f} MiB, "
              f"median {statistics.median(samples) / mib:.1f} MiB, "
              f"min {min(samples) / mib:.1f} MiB")
        print(f"agent threads:           {proc.num_threads()}")
        print(f"agent CPU time total:    {cpu.user + cpu.system:.1f}s (user {cpu.user:.1f}, "
              f"system {cpu.system:.1f})")
        print(f"usage reports received:  {len(usage)}, last with "
              f"{len(usage[-1].replicas) if usage else 0} replicas")
        return 0
    finally:
        if agent is not None:
            agent.stop()
        if peer is not None:
            peer.stop()
        engine.stop()


if __name__ == "__main__":
    sys.exit(main())
