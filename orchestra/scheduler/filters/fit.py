"""CPU and memory: the request must fit in capacity minus what replicas bound to the node request."""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Filter
from orchestra.spec.quantities import format_cpu, format_memory

NAME = "fit"
REASON_CPU = "insufficient cpu"
REASON_MEMORY = "insufficient memory"
REASON_BOTH = "insufficient cpu and memory"


class ResourcesFit(Filter):
    name = NAME
    static = False

    def mask(self, c, w):
        d = w.demand
        return (c.cap_cpu - c.used_cpu >= d.cpu) & (c.cap_mem - c.used_mem >= d.memory)

    def passes(self, c, w, i):
        d = w.demand
        return c.cap_cpu[i] - c.used_cpu[i] >= d.cpu and c.cap_mem[i] - c.used_mem[i] >= d.memory

    def explain(self, c, w, idx):
        d = w.demand
        free_cpu = c.cap_cpu[idx] - c.used_cpu[idx]
        free_mem = c.cap_mem[idx] - c.used_mem[idx]
        short_cpu = free_cpu < d.cpu
        short_mem = free_mem < d.memory
        out = []
        for reason, sel, free, need, fmt in (
            (REASON_MEMORY, short_mem & ~short_cpu, free_mem, d.memory, format_memory),
            (REASON_CPU, short_cpu & ~short_mem, free_cpu, d.cpu, format_cpu),
        ):
            if sel.any():
                # The closest miss: the rejected node with the most of what was short.
                best = int(np.argmax(np.where(sel, free, np.iinfo(np.int64).min)))
                detail = f"needs {fmt(need)}; most free {fmt(free[best])} on {c.names[idx[best]]}"
                out.append((reason, idx[sel], detail))
        both = short_cpu & short_mem
        if both.any():
            out.append((REASON_BOTH, idx[both], f"needs {format_cpu(d.cpu)} cpu, {format_memory(d.memory)}"))
        return out
