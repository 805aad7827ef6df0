"""Exec through orchestra (CLI -> plane -> the agent's stream -> Docker exec) next to Docker's
own exec on the same engine: the round trip of a command that does nothing, the echo of one
keystroke through an open session, and bulk output.

    python bench/exec_roundtrip.py [--runs 20]

Real processes: one dockerd in its own network namespace, a control plane and an agent (the
integration tier's harness). Run as root.
"""
from __future__ import annotations

import argparse
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "cluster")]

from engines import BUSYBOX_IMAGE, import_busybox, start_engine  # noqa: E402
from harness import Cluster  # noqa: E402
from test_core import workload  # noqa: E402

from orchestra.api import orchestra_pb2 as pb  # noqa: E402

BULK = 64 * 1024 * 1024


def ms(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return f"median {statistics.median(values) * 1000:7.1f} ms, p90 {p90 * 1000:7.1f} ms"


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def api_exec(api, command: list[str]) -> tuple[int, int]:
    """One Exec call to its end: (exit code, output bytes)."""
    size, code = 0, None
    for r in api.Exec(iter([pb.ExecRequest(command=pb.ExecCommand(replica="web-0", command=command))]), timeout=120):
        size += len(r.stdout) + len(r.stderr)
        if r.HasField("exit"):
            code = r.exit.exit_code
    return code, size


def api_echo(api, runs: int) -> list[float]:
    """Keystroke echo through one open `cat` session: a byte in, the same byte out."""
    requests: queue.SimpleQueue = queue.SimpleQueue()
    requests.put(pb.ExecRequest(command=pb.ExecCommand(replica="web-0", command=["cat"], stdin=True)))

    def stream():
        while (r := requests.get()) is not None:
            yield r

    call = api.Exec(stream(), timeout=300)
    times = []
    try:
        for _ in range(runs):
            t = time.perf_counter()
            requests.put(pb.ExecRequest(stdin=b"x"))
            r = next(call)
            assert r.stdout == b"x", r
            times.append(time.perf_counter() - t)
    finally:
        requests.put(pb.ExecRequest(stdin_eof=True))
        requests.put(None)
        call.cancel()
    return times


def docker_echo(engine, cid: str, runs: int) -> list[float]:
    """The same keystroke echo through `docker exec -i` (a docker CLI process holding the session)."""
    p = subprocess.Popen(["docker", "-H", engine.host, "exec", "-i", cid, "cat"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, bufsize=0)
    times = []
    try:
        for _ in range(runs):
            t = time.perf_counter()
            p.stdin.write(b"x")
            assert p.stdout.read(1) == b"x"
            times.append(time.perf_counter() - t)
    finally:
        p.stdin.close()
        p.wait(30)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    engine = start_engine()
    try:
        import_busybox(engine, BUSYBOX_IMAGE)
        with tempfile.TemporaryDirectory() as tmp:
            cluster = Cluster(workdir=Path(tmp), engine_factory=lambda n, **_: [engine])
            try:
                cluster.start_server()
                [node] = cluster.add_nodes(1)
                cluster.apply(workload(replicas=1))
                cluster.wait_running("web", 1)
                [container] = cluster.containers(node, "web")
                cid = container.id
                api = cluster.api()
                env = cluster.env()
                cli = [sys.executable, "-m", "orchestra.cli.main", "exec", "web-0", "--", "true"]
                docker = ["docker", "-H", engine.host, "exec", cid, "true"]
                with engine.client() as client:
                    results = {
                        "orchestra exec web-0 -- true (a CLI process)":
                            timed(lambda: subprocess.run(cli, env=env, check=True), max(5, args.runs // 4)),
                        "docker exec CID true (a docker CLI process)":
                            timed(lambda: subprocess.run(docker, check=True, capture_output=True), max(5, args.runs // 4)),
                        "Exec call, `true`, start to exit code": timed(lambda: api_exec(api, ["true"]), args.runs),
                        "docker SDK exec_run, `true`":
                            timed(lambda: client.api.exec_start(client.api.exec_create(cid, ["true"])["Id"]), args.runs),
                        "keystroke echo, open orchestra session": api_echo(api, args.runs * 10),
                        "keystroke echo, open docker exec -i": docker_echo(engine, cid, args.runs * 10),
                    }
                    bulk = ["head", "-c", str(BULK), "/dev/zero"]
                    t = time.perf_counter()
                    code, size = api_exec(api, bulk)
                    ours = time.perf_counter() - t
                    assert (code, size) == (0, BULK), (code, size)
                    t = time.perf_counter()
                    with open(os.devnull, "wb") as null:
                        subprocess.run(["docker", "-H", engine.host, "exec", cid, *bulk], stdout=null, check=True)
                    theirs = time.perf_counter() - t
            finally:
                cluster.stop()
    finally:
        engine.stop()
    print(f"exec round trips ({args.runs} runs each, CLI processes {max(5, args.runs // 4)}, echoes {args.runs * 10}):")
    for name, values in results.items():
        print(f"  {name:48s} {ms(values)}")
    print(f"  {BULK >> 20} MiB of output: orchestra Exec {BULK / ours / 2**20:6.1f} MiB/s, "
          f"docker exec {BULK / theirs / 2**20:6.1f} MiB/s")


if __name__ == "__main__":
    main()
