"""Resident memory (RSS) of the orchestra-agent inside a lab VM while it manages N containers.

    python3 bench/agent_memory_guest.py [--containers 10] [--seconds 30]

The guest counterpart of bench/agent_memory.py: a real control plane on 127.0.0.1
(tests/e2e/labtools.py), `orchestra cluster up --nodes 1` (the box's agent layer, Debian's
Python 3.11 in the guest), the local busybox image loaded into the VM, a workload of N `sleep`
replicas applied; once all N run, the agent's RSS is read from the guest's /proc over SSH every
second for --seconds. The lab and the plane are removed at the end.
"""
from __future__ import annotations

import argparse
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
sys.path.insert(0, str(ROOT))

from labtools import Plane, free_port_range, require_vm_tier, wait_for  # noqa: E402
from tests.support import busybox_image  # noqa: E402

MANIFEST = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {{name: memory-bench}}
spec:
  replicas: {n}
  template:
    image: local/busybox:1
    command: [sleep, "100000"]
    resources: {{cpu: 50m, memory: 16Mi}}
"""
# The agent's PID: the unit's main process (the agent re-executes itself after its first join).
AGENT_RSS = "cat /proc/$(systemctl show -p MainPID --value orchestra-agent)/status | grep -E '^(VmRSS|Threads)'"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--containers", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=30)
    args = ap.parse_args()
    try:
        require_vm_tier()
    except BaseException as e:  # pytest.fail outside pytest
        print(e, file=sys.stderr)
        return 2
    from orchestra.lab.ssh import Node
    from orchestra.lab.vagrant import Lab
    work = Path(tempfile.mkdtemp(prefix="agent-mem-guest-"))
    plane = Plane(work, labnet=False)   # its lab network links exactly two VMs
    plane.start()
    name = f"mem-{secrets.token_hex(2)}"
    try:
        plane.cli_logged("cluster-up.log", "cluster", "up", "--nodes", "1", "--lab", name,
                         "--ssh-port-base", str(free_port_range(1)),
                         "--token-file", str(plane.data_dir / "node-token"))
        tarball = str(work / "busybox.tar")
        busybox_image.build(tarball)
        plane.cli("image", "load", tarball)     # through the plane, into every node
        manifest = work / "memory-bench.yaml"
        manifest.write_text(MANIFEST.format(n=args.containers))
        t0 = time.monotonic()
        plane.cli("apply", "-f", str(manifest), "--no-wait")
        wait_for(f"{args.containers} replicas Running",
                 lambda: sum(r.get("phase") == "Running" for r in plane.cli_json("get", "replicas", "--workload", "memory-bench"))
                 == args.containers, timeout=900)
        converge_s = time.monotonic() - t0
        (machine,) = Lab(name, work / "labs" / name).machines()
        samples, threads = [], 0
        with Node(machine.ssh, machine.key) as node:
            for _ in range(args.seconds):
                out = node.run(AGENT_RSS, sudo=True).stdout
                fields = dict(line.split(":", 1) for line in out.splitlines())
                samples.append(int(fields["VmRSS"].split()[0]) * 1024)
                threads = int(fields["Threads"])
                time.sleep(1)
            python = node.run("python3 --version").stdout.strip()
        mib = 2**20
        print(f"guest:                   {machine.name}, {python}, agent from the box's agent layer")
        print(f"containers managed:      {args.containers} (all Running {converge_s:.1f}s after apply)")
        print(f"agent RSS over {args.seconds}s:   max {max(samples) / mib:.1f} MiB, "
              f"median {statistics.median(samples) / mib:.1f} MiB, min {min(samples) / mib:.1f} MiB")
        print(f"agent threads:           {threads}")
        return 0
    finally:
        res = plane.cli("cluster", "down", "--lab", name, check=False, timeout=600)
        print(f"cluster down: {res.stdout.strip()}", file=sys.stderr)
        plane.stop()


if __name__ == "__main__":
    sys.exit(main())
