"""Where the time of `orchestra cluster up` goes, per phase and per node.

    python3 bench/lab_bringup.py [--nodes 3] [--keep]

Starts a real control plane on 127.0.0.1 (the e2e tier's, tests/e2e/labtools.py), runs the
real `orchestra cluster up --nodes N` (box from the cache, built if missing), and stamps every
line it prints with the time since the command started, while a thread polls the plane for
the moment each node turns Ready. Then it reads each guest's journal over SSH (times since
that guest's kernel started: sshd, dockerd, the agent, its session) and prints:

- the command's own phase timings (its `timings:` line),
- per node, the host-side milestones (domain defined, started, ssh answered, Ready),
- per node, the guest-side milestones.

The lab is destroyed at the end unless --keep. Needs what the e2e tier needs (root, libvirt,
Vagrant: scripts/install-vm-deps.sh).
"""
from __future__ import annotations

import argparse
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

from labtools import Plane, free_port_range, require_vm_tier  # noqa: E402

# (milestone, pattern on a `cluster up` output line naming the node)
HOST_MILESTONES = [
    ("box import", re.compile(r"==> (?P<n>\S+): Uploading base box image")),
    ("define", re.compile(r"==> (?P<n>\S+): Creating image \(snapshot of base box volume\)")),
    ("domain start", re.compile(r"==> (?P<n>\S+): Starting domain\.")),
    ("vagrant ssh ok", re.compile(r"==> (?P<n>\S+): Machine booted and ready!")),
    ("install start", re.compile(r"^(?P<n>\S+): installing orchestra")),
    ("agent restart", re.compile(r"^(?P<n>\S+): agent started")),
]
# (milestone, journalctl unit, pattern in the message)
GUEST_MILESTONES = [
    ("sshd up", "ssh", re.compile(r"Started ssh\.service|Started OpenBSD Secure Shell")),
    ("dockerd up", "docker", re.compile(r"Started docker\.service|Started Docker Application")),
    ("agent process", "orchestra-agent", re.compile(r"Started orchestra-agent|orchestra node agent")),
    ("agent joined", "orchestra-agent", re.compile(r"joined|node certificate", re.I)),
    ("agent session", "orchestra-agent", re.compile(r"connected to .* as node")),
]


def watch_ready(plane: Plane, names_out: dict, t0: float, stop: threading.Event) -> None:
    from orchestra.lab import planequery
    from orchestra.security.client_config import load_client_config
    tls = None
    while not stop.is_set():
        try:
            tls = tls or load_client_config(plane.data_dir / "admin.conf").tls
            for n in planequery.list_nodes(plane.address, tls, timeout=5):
                if n.status == "Ready" and n.name not in names_out:
                    names_out[n.name] = time.monotonic() - t0
        except Exception:  # the plane or its config may not be there yet; keep polling
            pass
        stop.wait(0.5)


def qemu_cpu(names: list[str]) -> dict[str, float]:
    """CPU seconds each node's QEMU process has used so far (the guest's whole boot under TCG)."""
    import psutil
    out = {}
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        for n in names:
            if f"guest={n}," in cmd:
                t = p.cpu_times()
                out[n] = t.user + t.system
    return out


def guest_milestones(machine) -> dict[str, float]:
    from orchestra.lab.ssh import Node
    out: dict[str, float] = {}
    with Node(machine.ssh, machine.key) as node:
        for label, unit, pattern in GUEST_MILESTONES:
            res = node.run(f"journalctl -o short-monotonic --no-pager -b -u {unit}", sudo=True, check=False)
            for line in res.stdout.splitlines():
                m = re.match(r"\[\s*([0-9.]+)\]", line)
                if m and pattern.search(line):
                    out[label] = float(m.group(1))
                    break
        res = node.run("systemd-analyze time", check=False)
        out["systemd-analyze"] = res.stdout.strip().splitlines()[0] if res.stdout.strip() else "?"
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave the lab and plane running")
    args = ap.parse_args()
    require = require_vm_tier
    try:
        require()
    except BaseException as e:  # pytest.fail outside pytest
        print(e, file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="lab-bringup-"))
    plane = Plane(work, labnet=False)   # its lab network links exactly two VMs
    plane.start()
    name = f"bench-{secrets.token_hex(2)}"
    ready: dict[str, float] = {}
    stop = threading.Event()
    lines: list[tuple[float, str]] = []
    t0 = time.monotonic()
    watcher = threading.Thread(target=watch_ready, args=(plane, ready, t0, stop), daemon=True)
    watcher.start()
    code = 1
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "orchestra.cli.main", "cluster", "up", "--nodes", str(args.nodes),
             "--lab", name, "--ssh-port-base", str(free_port_range(args.nodes)),
             "--token-file", str(plane.data_dir / "node-token")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=plane.env(), cwd=ROOT)
        for line in proc.stdout:
            stamp = time.monotonic() - t0
            lines.append((stamp, line.rstrip()))
            print(f"{stamp:7.1f}  {line.rstrip()}", flush=True)
        code = proc.wait()
        total = time.monotonic() - t0
        children = resource.getrusage(resource.RUSAGE_CHILDREN)     # the CLI and the Vagrant it ran
        time.sleep(1.0)
        stop.set()
        (work / "cluster-up.log").write_text("".join(f"{s:7.1f}  {ln}\n" for s, ln in lines))
        if code != 0:
            print(f"cluster up failed (exit {code}); log in {work}/cluster-up.log", file=sys.stderr)
            return code
        from orchestra.lab.vagrant import Lab
        lab = Lab(name, work / "labs" / name)
        machines = sorted(lab.machines(), key=lambda m: m.name)
        print(f"\n== cluster up --nodes {args.nodes}: {total:.1f} s (box cached: "
              f"{'no' if any('Uploading base box' in ln for _, ln in lines) else 'yes, imported'})")
        for _, ln in lines:
            if ln.startswith("timings:"):
                print("   " + ln)
        print("\n== host side, seconds since `cluster up` started")
        labels = [m for m, _ in HOST_MILESTONES] + ["Ready"]
        print(f"{'node':<14}" + "".join(f"{lb:>16}" for lb in labels))
        for m in machines:
            row = {}
            for label, pattern in HOST_MILESTONES:
                for stamp, ln in lines:
                    hit = pattern.search(ln.strip())
                    if hit and hit.group("n").rstrip(":") == m.name:
                        row[label] = stamp
                        break
            row["Ready"] = ready.get(m.name)
            print(f"{m.name:<14}" + "".join(f"{row[lb]:>16.1f}" if row.get(lb) is not None else f"{'-':>16}"
                                             for lb in labels))
        print("\n== CPU seconds spent (the machine has %d cores; load average %s at the end)"
              % (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3])))
        qemu = qemu_cpu([m.name for m in machines])
        for m in machines:
            print(f"{m.name:<14} QEMU {qemu.get(m.name, float('nan')):7.1f}")
        print(f"{'cluster up':<14} CLI + Vagrant {children.ru_utime + children.ru_stime:7.1f}")
        print(f"{'all':<14} {sum(qemu.values()) + children.ru_utime + children.ru_stime:7.1f} "
              f"(over {os.cpu_count()} cores: at least "
              f"{(sum(qemu.values()) + children.ru_utime + children.ru_stime) / os.cpu_count():.0f} s of wall time "
              "on an otherwise idle machine)")
        print("\n== guest side, seconds since the guest's kernel started")
        glabels = [g for g, _, _ in GUEST_MILESTONES]
        print(f"{'node':<14}" + "".join(f"{lb:>16}" for lb in glabels))
        for m in machines:
            g = guest_milestones(m)
            print(f"{m.name:<14}" + "".join(f"{g[lb]:>16.1f}" if lb in g else f"{'-':>16}" for lb in glabels)
                  + f"   ({g.get('systemd-analyze')})")
        return 0
    finally:
        stop.set()
        if not args.keep:
            res = plane.cli("cluster", "down", "--lab", name, check=False, timeout=600)
            print(f"cluster down: {res.stdout.strip()} {res.stderr.strip()[-500:]}")
            plane.stop()
        else:
            print(f"kept: lab {name} (ORCHESTRA_LAB_DIR={work / 'labs'}), plane {plane.address} "
                  f"(ORCHESTRA_CONFIG={plane.data_dir / 'admin.conf'}), pid {plane.proc.pid}")


if __name__ == "__main__":
    sys.exit(main())
