"""The table `bench isolation` prints: one row per metric, one column per arm with the median
of its runs and its ratio to the host. Pure formatting."""
from __future__ import annotations

import statistics

from orchestra.bench.families import METRICS

ARMS = ("host", "vm", "container_in_vm", "container_on_host")
ARM_TITLES = {"host": "host", "vm": "VM", "container_in_vm": "container in VM",
              "container_on_host": "container on host"}


def medians(runs: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """arm -> metric -> runs  =>  arm -> metric -> median."""
    return {arm: {k: statistics.median(v) for k, v in per.items() if v} for arm, per in runs.items()}


def _number(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 1:
        return f"{x:.2f}"
    return f"{x:.4f}"


def _ratio(x: float) -> str:
    return f"{x:.2f}x" if x < 100 else f"{x:,.0f}x"


def cell(value: float | None, host: float | None) -> str:
    if value is None:
        return "missing"
    if not host:
        return _number(value)
    return f"{_number(value)} ({_ratio(value / host)})"


def accelerator_note(accel: str) -> str:
    if accel == "kvm":
        return "accelerator: KVM (hardware virtualization)"
    return ("accelerator: TCG (QEMU software emulation: KVM is not usable here). TCG overstates every "
            "VM cost: the VM and container-in-VM columns are far slower than they would be under KVM")


def render(med: dict[str, dict[str, float]], *, accel: str, runs: int, sizes_note: str) -> str:
    head = ["family", "test", "unit", *(ARM_TITLES[a] for a in ARMS)]
    rows = [head]
    for m in METRICS:
        host = med.get("host", {}).get(m.key)
        rows.append([m.family, m.label, m.unit, *(cell(med.get(a, {}).get(m.key), host) for a in ARMS)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [f"orchestra bench isolation: median of {runs} runs per cell, (ratio to the host)",
             accelerator_note(accel), sizes_note,
             "every arm has one CPU: the VM one vCPU, host and containers on the host pinned to CPU 0;"
             " creation is lower-is-better, everything else higher-is-better", ""]
    for i, r in enumerate(rows):
        lines.append("  ".join(c.ljust(widths[j]) if j < 3 else c.rjust(widths[j]) for j, c in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def missing_cells(med: dict[str, dict[str, float]]) -> list[str]:
    return [f"{a}/{m.key}" for a in ARMS for m in METRICS if m.key not in med.get(a, {})]
