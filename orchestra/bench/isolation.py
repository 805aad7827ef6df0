"""`orchestra bench isolation`: what each isolation layer costs, measured with the test families
of Potdar et al. 2020 (KVM vs Docker) on four arms: the host, a VM (the lab's box, booted by
orchestra.bench.scratchvm), a container inside that VM, and a container on the host.

Each arm runs the same bash scripts (orchestra.bench.families) with one CPU. The container arms
use an image built from Debian binaries where the engine runs (orchestra/bench/image.sh); nothing
is pulled. Host arms run first, with no VM up, so that a VM does not take the host's CPU.
"""
from __future__ import annotations

import dataclasses
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Callable

from orchestra.bench import families as fam
from orchestra.bench import scratchvm, stream
from orchestra.bench.table import ARMS, medians, missing_cells, render
from orchestra.lab.accel import kvm_usable
from orchestra.lab.boxcache import build_box
from orchestra.lab.ssh import LabError, Node

IMAGE = "local/orchestra-bench:1"
IMAGE_SCRIPT = Path(__file__).with_name("image.sh")
GUEST_DIR = "/var/tmp/orchestra-bench"
CONTAINER_DIR = "/tmp"
GUEST_HTTP_PORT = 18080
HOST_TOOLS = {"sysbench": "sysbench", "ab": "apache2-utils", "busybox": "busybox-static",
              "taskset": "util-linux", "docker": "docker.io", "gzip": "gzip"}

Shell = Callable[[str, float], str]


class BenchError(LabError):
    """A run failed; the message names the arm, the test and what the tool said."""


@dataclasses.dataclass
class Options:
    runs: int = 3
    short: bool = False
    disk_mib: int | None = None          # default: 4096, or 64 with short
    workdir: Path = Path("/var/tmp/orchestra-bench")
    docker_host: str = "unix:///var/run/docker.sock"
    vm_memory_mib: int = 1024

    def sizes(self) -> fam.Sizes:
        if self.short:
            return fam.Sizes.short(**({"disk_mib": self.disk_mib} if self.disk_mib else {}))
        return fam.Sizes.full(**({"disk_mib": self.disk_mib} if self.disk_mib else {}))


def host_shell(cwd: Path) -> Shell:
    def run(command: str, timeout: float) -> str:
        res = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise BenchError(f"on the host, `{command[:200]}` exited {res.returncode}: "
                             f"{(res.stderr or res.stdout).strip()[-1500:]}")
        return res.stdout + res.stderr
    return run


def guest_shell(node: Node) -> Shell:
    def run(command: str, timeout: float) -> str:
        res = node.run(command, sudo=True, check=False, timeout=timeout)
        if res.status != 0:
            raise BenchError(f"in the VM, `{command[:200]}` exited {res.status}: "
                             f"{(res.stderr or res.stdout).strip()[-1500:]}")
        return res.stdout + res.stderr
    return run


@dataclasses.dataclass
class Arm:
    """How one arm runs a family's script: in bash directly, or in a fresh container."""
    name: str
    shell: Shell
    workdir: str
    http_port: int
    wrap: Callable[[str], str]           # script -> command for `shell`

    def run(self, script: str, timeout: float = 3600) -> str:
        return self.shell(self.wrap(script), timeout)


def pinned_bash(script: str) -> str:
    return f"taskset -c 0 bash -c {shlex.quote(script)}"


def plain_bash(script: str) -> str:
    return f"bash -c {shlex.quote(script)}"


def in_container(docker: str, extra: str = "") -> Callable[[str], str]:
    def wrap(script: str) -> str:
        return f"{docker} run --rm --network none {extra}{IMAGE} bash -c {shlex.quote(script)}"
    return wrap


def family_runs(arm: Arm, sizes: fam.Sizes) -> list[tuple[str, str, Callable[[str], dict]]]:
    """(test name, script, parser) for every family but creation."""
    return [
        ("cpu prime", fam.cpu_prime(sizes), fam.parse_cpu_prime),
        ("cpu gzip", fam.cpu_gzip(sizes, arm.workdir), fam.parse_cpu_gzip),
        ("memory", fam.memory(sizes), fam.parse_memory),
        ("disk", fam.disk(sizes, arm.workdir), fam.parse_disk),
        ("http", fam.http(sizes, arm.workdir, arm.http_port), fam.parse_http),
    ]


MARK = "@@ orchestra-bench "


def one_run(tests: list[tuple[str, str, Callable[[str], dict]]]) -> str:
    """One invocation runs every family, each in its own subshell, after a marker line: in a
    container arm that is one container per run (creating one costs seconds under emulation)."""
    return "set -e\n" + "".join(f"echo '{MARK}{name}'\n(\n{script})\n" for name, script, _ in tests)


def split_run(out: str) -> dict[str, str]:
    sections, name = {}, None
    for line in out.splitlines(keepends=True):
        if line.startswith(MARK):
            name = line[len(MARK):].strip()
            sections[name] = ""
        elif name is not None:
            sections[name] += line
    return sections


def measure(arm: Arm, sizes: fam.Sizes, runs: int, into: dict[str, list[float]], log) -> None:
    tests = family_runs(arm, sizes)
    for i in range(runs):
        t = time.monotonic()
        sections = split_run(arm.run(one_run(tests)))
        got = {}
        for test, _, parse in tests:
            try:
                got.update(parse(sections.get(test, "")))
            except fam.ParseError as e:
                raise BenchError(f"{arm.name}, {test}: {e}") from None
        for k, v in got.items():
            into.setdefault(k, []).append(v)
        log(f"  {arm.name}: run {i + 1}/{runs} ({time.monotonic() - t:.1f}s): "
            + ", ".join(f"{k} {v:.4g}" for k, v in got.items()))


def check_host(docker_host: str) -> None:
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if shutil.which(tool) is None})
    if missing:
        raise BenchError(f"the host lacks tools the bench runs: apt-get install {' '.join(missing)} "
                         "(scripts/install-vm-deps.sh installs them)")
    res = subprocess.run(["docker", "-H", docker_host, "version", "--format", "{{.Server.Version}}"],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise BenchError(f"no Docker engine answers at {docker_host} (the container-on-host arm needs one: "
                         f"start dockerd or pass --docker-host): {res.stderr.strip()[-300:]}")


def run(opt: Options, log=print) -> tuple[str, dict[str, dict[str, float]]]:
    """Runs every arm; returns the rendered table and the medians."""
    if opt.runs < 3:
        raise BenchError(f"--runs must be at least 3 (a median of fewer says little), got {opt.runs}")
    sizes = opt.sizes()
    check_host(opt.docker_host)
    accel = "kvm" if kvm_usable() else "tcg"
    box_dir, _ = build_box(log)
    binary = str(stream.binary())
    opt.workdir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, list[float]]] = {a: {} for a in ARMS}
    hsh = host_shell(opt.workdir)
    docker = f"docker -H {shlex.quote(opt.docker_host)}"

    log(f"bench: host arm (work dir {opt.workdir})")
    shutil.copy(binary, opt.workdir / "stream")
    (opt.workdir / "stream").chmod(0o755)
    host_path = f"export PATH={shlex.quote(str(opt.workdir))}:$PATH\n"
    host = Arm("host", hsh, str(opt.workdir), scratchvm.free_port(), lambda script: pinned_bash(host_path + script))
    measure(host, sizes, opt.runs, results["host"], log)
    for _ in range(opt.runs):
        results["host"].setdefault("create", []).append(fam.parse_create(host.run(fam.process_start()))["create"])

    log(f"bench: container-on-host arm (engine {opt.docker_host})")
    hsh(f"bash {shlex.quote(str(IMAGE_SCRIPT))} {IMAGE} {shlex.quote(binary)} {shlex.quote(opt.docker_host)}", 600)
    chost = Arm("container_on_host", hsh, CONTAINER_DIR, GUEST_HTTP_PORT, in_container(docker, "--cpuset-cpus 0 "))
    measure(chost, sizes, opt.runs, results["container_on_host"], log)
    for _ in range(opt.runs):
        out = hsh(plain_bash(fam.container_start(docker, IMAGE)), 600)
        results["container_on_host"].setdefault("create", []).append(fam.parse_create(out)["create"])

    extra_gib = -(-sizes.disk_mib // 1024) + 2
    for i in range(opt.runs):
        log(f"bench: VM boot {i + 1}/{opt.runs} ({accel})")
        vm = scratchvm.boot(box_dir, kvm=accel == "kvm", extra_disk_gib=extra_gib if i == 0 else 0,
                            memory_mib=opt.vm_memory_mib)
        try:
            results["vm"].setdefault("create", []).append(vm.boot_seconds)
            log(f"  vm: ready over SSH after {vm.boot_seconds:.1f}s")
            if i == 0:
                guest_arms(vm, binary, sizes, opt.runs, results, log)
        finally:
            vm.stop()
    missing = missing_cells(medians(results))
    if missing:
        raise BenchError(f"cells without a figure: {', '.join(missing)}")
    med = medians(results)
    note = (f"sizes: {'short (a quick check, not for figures)' if opt.short else 'as in the study'}; "
            f"disk file {sizes.disk_mib} MiB, gzip of `seq 1 {sizes.gzip_lines}`, STREAM arrays of "
            f"{sizes.stream_elements:,} doubles, sysbench --cpu-max-prime={sizes.prime_limit} "
            f"for {sizes.cpu_seconds}s, ab -n {sizes.http_requests} -c {sizes.http_concurrency}")
    return render(med, accel=accel, runs=opt.runs, sizes_note=note), med


def guest_arms(vm: scratchvm.ScratchVM, binary: str, sizes: fam.Sizes, runs: int,
               results: dict[str, dict[str, list[float]]], log) -> None:
    with vm.node() as node:
        gsh = guest_shell(node)
        gsh(f"mkdir -p {GUEST_DIR}", 60)
        node.run(f"cat > {GUEST_DIR}/stream && chmod 755 {GUEST_DIR}/stream", sudo=True,
                 stdin=Path(binary).read_bytes())
        node.run(f"cat > {GUEST_DIR}/image.sh", sudo=True, stdin=IMAGE_SCRIPT.read_bytes())
        # Docker starts with the VM; it may still be coming up right after SSH answers.
        gsh("for i in $(seq 120); do docker version >/dev/null 2>&1 && exit 0; sleep 1; done; docker version", 180)

        log("bench: VM arm")
        guest_path = f"export PATH={GUEST_DIR}:$PATH\n"
        vmarm = Arm("vm", gsh, GUEST_DIR, GUEST_HTTP_PORT, lambda script: plain_bash(guest_path + script))
        measure(vmarm, sizes, runs, results["vm"], log)

        log("bench: container-in-VM arm")
        gsh(f"bash {GUEST_DIR}/image.sh {IMAGE} {GUEST_DIR}/stream", 900)
        cvm = Arm("container_in_vm", gsh, CONTAINER_DIR, GUEST_HTTP_PORT, in_container("docker"))
        measure(cvm, sizes, runs, results["container_in_vm"], log)
        for _ in range(runs):
            out = gsh(plain_bash(fam.container_start("docker", IMAGE)), 600)
            results["container_in_vm"].setdefault("create", []).append(fam.parse_create(out)["create"])
