"""Bin-pack (most allocated): prefer nodes that would be fullest after placing, leaving whole nodes free."""
from __future__ import annotations

from orchestra.scheduler.plugin import Scorer

NAME = "binpack"


def most_allocated(used_cpu, used_mem, inv_cpu, inv_mem, cpu, memory):
    """0..100 per node, the mean of CPU and memory fractions in use after placing.
    Plain arithmetic so it gives bit-identical results on vectors and on one node."""
    return ((used_cpu + cpu) * inv_cpu + (used_mem + memory) * inv_mem) * 50.0


class BinPack(Scorer):
    name = NAME

    def applies(self, d):
        return d.strategy == "binpack"

    def vector(self, c, w):
        d = w.demand
        return most_allocated(c.used_cpu, c.used_mem, c.inv_cpu, c.inv_mem, d.cpu, d.memory)

    def one(self, c, w, i):
        d = w.demand
        return most_allocated(c.used_cpu[i], c.used_mem[i], c.inv_cpu[i], c.inv_mem[i], d.cpu, d.memory)
