"""Spread (least allocated): prefer nodes that would be emptiest after placing, evening out load."""
from __future__ import annotations

from orchestra.scheduler.plugin import Scorer

NAME = "spread"


def least_allocated(cap_cpu, cap_mem, used_cpu, used_mem, inv_cpu, inv_mem, cpu, memory):
    """0..100 per node, the mean of CPU and memory fractions still free after placing."""
    return ((cap_cpu - used_cpu - cpu) * inv_cpu + (cap_mem - used_mem - memory) * inv_mem) * 50.0


class Spread(Scorer):
    name = NAME

    def applies(self, d):
        return d.strategy != "binpack"

    def vector(self, c, w):
        d = w.demand
        return least_allocated(c.cap_cpu, c.cap_mem, c.used_cpu, c.used_mem, c.inv_cpu, c.inv_mem, d.cpu, d.memory)

    def one(self, c, w, i):
        d = w.demand
        return least_allocated(c.cap_cpu[i], c.cap_mem[i], c.used_cpu[i], c.used_mem[i],
                               c.inv_cpu[i], c.inv_mem[i], d.cpu, d.memory)
