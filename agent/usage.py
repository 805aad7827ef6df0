"""What the node and its containers use: node CPU% and memory from psutil, per container
CPU% and memory from Docker's stats.

One Docker stats call normally waits a second for a second sample; this asks for a single
(one-shot) sample instead and computes CPU% from the difference to its own previous sample
of the same container, so a round is cheap. Containers are sampled concurrently. A
container that stops or disappears while it is sampled is simply left out of that round.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Mapping

import psutil

from agent import heap, metrics
from agent.runtime.docker import ContainerError, DockerRuntime, RuntimeUnavailable
from orchestra.api import agent_pb2, types_pb2

log = logging.getLogger("orchestra.agent")


def cpu_percent(prev: dict | None, cur: dict) -> float:
    """CPU% of one container between two stats samples; 100 = one full CPU (as docker stats).
    0.0 without a usable previous sample."""
    if not prev:
        return 0.0
    try:
        c0 = prev["cpu_stats"]["cpu_usage"]["total_usage"]
        c1 = cur["cpu_stats"]["cpu_usage"]["total_usage"]
        s0 = prev["cpu_stats"]["system_cpu_usage"]
        s1 = cur["cpu_stats"]["system_cpu_usage"]
    except (KeyError, TypeError):
        return 0.0
    online = cur["cpu_stats"].get("online_cpus") or len(
        cur["cpu_stats"]["cpu_usage"].get("percpu_usage") or []) or 1
    d_cpu, d_sys = c1 - c0, s1 - s0
    if d_cpu < 0 or d_sys <= 0:   # the container restarted, or the same sample twice
        return 0.0
    return d_cpu / d_sys * online * 100.0


def memory_bytes(stats: dict) -> tuple[int, int]:
    """(used, limit). Used leaves out reclaimable page cache, as docker stats does."""
    m = stats.get("memory_stats") or {}
    usage = int(m.get("usage") or 0)
    inner = m.get("stats") or {}
    cache = inner.get("total_inactive_file", inner.get("inactive_file", 0)) or 0
    if cache > usage:
        cache = 0
    return usage - int(cache), int(m.get("limit") or 0)


def sampled(stats: dict) -> bool:
    """False for the empty answer the engine gives about a container that is not running
    (read time zero), which would read as 0 bytes used."""
    read = stats.get("read") or ""
    return bool(read) and not read.startswith("0001-01-01")


class UsageSampler:
    def __init__(self, runtime: DockerRuntime, clock: Callable[[], int], workers: int = 4):
        self.runtime = runtime
        self.clock = clock
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stats")
        self._prev: dict[str, dict] = {}   # container id -> last stats sample
        self._lock = threading.Lock()
        psutil.cpu_percent(interval=None)   # the first call only sets the baseline
        self._me = psutil.Process()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def node(self) -> types_pb2.NodeUsage:
        heap.trim()    # the C heap's free pages back to the system before the agent's own RSS is read
        vm = psutil.virtual_memory()
        return types_pb2.NodeUsage(cpu_percent=psutil.cpu_percent(interval=None),
                                   memory_used_bytes=vm.total - vm.available,
                                   memory_total_bytes=vm.total, sampled_at_ms=self.clock(),
                                   agent_memory_bytes=self._me.memory_info().rss)

    def containers(self, running: Mapping[str, str]) -> list[agent_pb2.ReplicaUsage]:
        """Usage of each running replica (replica id -> container id)."""
        futures = {rid: self.pool.submit(self.runtime.stats, cid) for rid, cid in running.items()}
        out = []
        seen = set()
        for rid, fut in futures.items():
            cid = running[rid]
            try:
                cur = fut.result()
            except (ContainerError, RuntimeUnavailable) as e:
                log.debug("no stats for %s: %s", rid, e)
                metrics.usage_error()
                continue
            if not sampled(cur):
                log.debug("no stats for %s: its container is not running", rid)
                continue
            seen.add(cid)
            with self._lock:
                prev = self._prev.get(cid)
                self._prev[cid] = cur
            used, limit = memory_bytes(cur)
            out.append(agent_pb2.ReplicaUsage(replica_id=rid, usage=types_pb2.ContainerUsage(
                cpu_percent=cpu_percent(prev, cur), memory_bytes=used,
                memory_limit_bytes=limit, sampled_at_ms=self.clock())))
        with self._lock:
            for gone in set(self._prev) - seen:
                del self._prev[gone]
        return out
