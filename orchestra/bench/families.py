"""The test families of Potdar et al. 2020 ("Performance Evaluation of Docker Container and
Virtual Machine"), as bash scripts that run unchanged on the host, in a VM and in a container,
and the parsers of what they print. No I/O here: the arms run the scripts.

Every script runs with one CPU (the VM has one vCPU; host and containers are pinned to CPU 0)
and prints `key value` lines. Rates are "higher is better" except where `lower_is_better`.
"""
from __future__ import annotations

import dataclasses
import re


class ParseError(ValueError):
    """A tool printed something other than what its parser expects (the output is quoted)."""


@dataclasses.dataclass(frozen=True)
class Sizes:
    """How much work each run does: `full` follows the study, `short` only proves every cell."""
    prime_limit: int          # sysbench cpu --cpu-max-prime
    cpu_seconds: int          # sysbench cpu --time
    gzip_lines: int           # the generated file: `seq 1 N` (about 7.9 bytes a line at 10^7)
    stream_elements: int      # STREAM array length (3 arrays of doubles)
    stream_times: int
    disk_mib: int             # sequential write then read of one file, 1 MiB records
    http_requests: int
    http_concurrency: int

    @classmethod
    def full(cls, disk_mib: int = 4096) -> "Sizes":
        return cls(prime_limit=20000, cpu_seconds=10, gzip_lines=8_000_000, stream_elements=10_000_000,
                   stream_times=5, disk_mib=disk_mib, http_requests=5000, http_concurrency=4)

    @classmethod
    def short(cls, disk_mib: int = 64) -> "Sizes":
        return cls(prime_limit=5000, cpu_seconds=1, gzip_lines=200_000, stream_elements=1_000_000,
                   stream_times=2, disk_mib=disk_mib, http_requests=200, http_concurrency=2)


@dataclasses.dataclass(frozen=True)
class Metric:
    key: str
    family: str
    label: str
    unit: str
    lower_is_better: bool = False


METRICS = [
    Metric("cpu_prime", "CPU", "prime search (sysbench cpu)", "events/s"),
    Metric("cpu_gzip", "CPU", "gzip -6 of a generated file", "MB/s"),
    Metric("mem_copy", "memory", "STREAM copy", "MB/s"),
    Metric("mem_scale", "memory", "STREAM scale", "MB/s"),
    Metric("mem_add", "memory", "STREAM add", "MB/s"),
    Metric("mem_triad", "memory", "STREAM triad", "MB/s"),
    Metric("disk_write", "disk", "sequential write, 1 MiB records, O_DIRECT", "MB/s"),
    Metric("disk_read", "disk", "sequential read, 1 MiB records, O_DIRECT", "MB/s"),
    Metric("http_rps", "HTTP", "ab against busybox httpd on loopback", "requests/s"),
    Metric("create", "creation", "process / VM boot to ssh / docker run", "s", lower_is_better=True),
]
BY_KEY = {m.key: m for m in METRICS}

PRELUDE = "set -eu\nexport LC_ALL=C\n"


def cpu_prime(s: Sizes) -> str:
    return PRELUDE + f"sysbench cpu --cpu-max-prime={s.prime_limit} --threads=1 --time={s.cpu_seconds} run\n"


def cpu_gzip(s: Sizes, workdir: str) -> str:
    f = f"{workdir}/orchestra-bench-gzip.txt"
    return PRELUDE + (
        f"seq 1 {s.gzip_lines} > {f}\n"
        f"echo gzip_bytes $(wc -c < {f})\n"
        "t0=$EPOCHREALTIME\n"
        f"gzip -6 -c {f} > /dev/null\n"
        "t1=$EPOCHREALTIME\n"
        f"rm -f {f}\n"
        "echo gzip_start $t0\necho gzip_end $t1\n")


def memory(s: Sizes) -> str:
    return PRELUDE + f"stream {s.stream_elements} {s.stream_times}\n"


def disk(s: Sizes, workdir: str) -> str:
    f = f"{workdir}/orchestra-bench-disk.dat"
    return PRELUDE + (
        f"rm -f {f}\n"
        f"echo disk_write $(dd if=/dev/zero of={f} bs=1M count={s.disk_mib} oflag=direct conv=fsync 2>&1 | tail -n 1)\n"
        f"echo disk_read $(dd if={f} of=/dev/null bs=1M iflag=direct 2>&1 | tail -n 1)\n"
        f"rm -f {f}\n")


def http(s: Sizes, workdir: str, port: int) -> str:
    www = f"{workdir}/orchestra-bench-www"
    url = f"http://127.0.0.1:{port}/index.html"
    return PRELUDE + (
        f"mkdir -p {www}\nhead -c 1024 /dev/zero > {www}/index.html\n"
        f"busybox httpd -f -p 127.0.0.1:{port} -h {www} &\nserver=$!\n"
        "trap 'kill $server 2>/dev/null || true' EXIT\n"
        f"for i in $(seq 50); do ab -q -n 1 {url} >/dev/null 2>&1 && break; sleep 0.1; done\n"
        f"ab -q -n {s.http_requests} -c {s.http_concurrency} {url}\n")


def process_start() -> str:
    """The host's counterpart of creating a VM or a container: starting a process."""
    return PRELUDE + "t0=$EPOCHREALTIME\n/bin/true\nt1=$EPOCHREALTIME\necho create_start $t0\necho create_end $t1\n"


def container_start(docker: str, image: str) -> str:
    """Run where the engine is (host or VM): a fresh container running `true`, created to removed."""
    return PRELUDE + (f"t0=$EPOCHREALTIME\n{docker} run --rm --network none {image} true\nt1=$EPOCHREALTIME\n"
                      "echo create_start $t0\necho create_end $t1\n")


# ---------------------------------------------------------------- parsers

def _need(pattern: str, text: str, what: str) -> re.Match:
    m = re.search(pattern, text, re.M)
    if not m:
        raise ParseError(f"{what}: expected {pattern!r} in the output:\n{text.strip()[-1500:]}")
    return m


def _span(text: str, prefix: str) -> float:
    t0 = float(_need(rf"^{prefix}_start ([0-9.]+)$", text, prefix).group(1))
    t1 = float(_need(rf"^{prefix}_end ([0-9.]+)$", text, prefix).group(1))
    if t1 < t0:
        raise ParseError(f"{prefix}: the clock went backwards ({t0} -> {t1})")
    return t1 - t0


def parse_cpu_prime(text: str) -> dict[str, float]:
    return {"cpu_prime": float(_need(r"events per second:\s+([0-9.]+)", text, "sysbench cpu").group(1))}


def parse_cpu_gzip(text: str) -> dict[str, float]:
    size = int(_need(r"^gzip_bytes (\d+)$", text, "gzip").group(1))
    return {"cpu_gzip": size / 1e6 / max(_span(text, "gzip"), 1e-9)}


def parse_memory(text: str) -> dict[str, float]:
    return {f"mem_{k}": float(_need(rf"^{k} ([0-9.]+)$", text, "stream").group(1))
            for k in ("copy", "scale", "add", "triad")}


def _dd_rate(text: str, key: str) -> float:
    # GNU dd: "67108864 bytes (67 MB, 64 MiB) copied, 0.0977 s, 687 MB/s"
    m = _need(rf"^{key} (\d+) bytes .* copied, ([0-9.e+-]+) s", text, f"dd ({key})")
    return int(m.group(1)) / 1e6 / max(float(m.group(2)), 1e-9)


def parse_disk(text: str) -> dict[str, float]:
    return {"disk_write": _dd_rate(text, "disk_write"), "disk_read": _dd_rate(text, "disk_read")}


def parse_http(text: str) -> dict[str, float]:
    failed = re.search(r"^Failed requests:\s+(\d+)", text, re.M)
    if failed and int(failed.group(1)):
        raise ParseError(f"ab: {failed.group(1)} requests failed:\n{text.strip()[-1500:]}")
    return {"http_rps": float(_need(r"Requests per second:\s+([0-9.]+)", text, "ab").group(1))}


def parse_create(text: str) -> dict[str, float]:
    return {"create": _span(text, "create")}
