"""The lab's VM pool controller: one process on the lab host (where Vagrant and libvirt are) that
watches the plane through its user API and boots or destroys pool VMs as orchestra.lab.pools.plan
decides. Every decision is an event on the plane (RecordEvent): on the Pool, and on each pending
replica a VM is booted for, so that `orchestra describe replica` says so.

Started by `orchestra cluster pool create` when it is not running; it ends once no pool is left.
A VM operation (vagrant up or destroy, minutes under emulation) runs on a thread of its own, one
per pool at a time, while the loop keeps watching.
"""
from __future__ import annotations

import os
import shutil
import threading
import time
import traceback
from pathlib import Path

from orchestra.api import orchestra_pb2 as pb
from orchestra.api import security_pb2, security_pb2_grpc
from orchestra.cli import views
from orchestra.cli.connection import Target
from orchestra.cli.failure import CliError
from orchestra.lab import pools
from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import Lab, labs_dir

PID_FILE, LOG_FILE = "pool-controller.pid", "pool-controller.log"
TICK_S = 2.0
NODE_GONE_TIMEOUT_S = 180.0     # after destroy: until the plane lets the node record go


def pid_file() -> Path:
    return labs_dir() / PID_FILE


def running_pid() -> int:
    """The pid of a live controller, or 0."""
    try:
        pid = int(pid_file().read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return 0
    return pid if b"controller" in cmdline and b"pool" in cmdline else 0


def vm_names(pool: pools.Pool) -> list[str]:
    """The pool's VMs that Vagrant has created (a libvirt domain id is recorded)."""
    machines = pools.pool_dir(pool.name) / ".vagrant" / "machines"
    if not machines.is_dir():
        return []
    return sorted((d.name for d in machines.iterdir() if (d / "libvirt" / "id").exists()),
                  key=lambda n: int(n.rsplit("-", 1)[1]))


class PoolController:
    def __init__(self, target: Target, log=print):
        self.target = target
        self.log = log
        self.busy: dict[str, threading.Thread] = {}   # pool -> the VM operation running for it
        self.idle_since: dict[str, float] = {}
        self.last_ready: dict[str, float] = {}
        self.boot_failed: dict[str, float] = {}
        self.said: set[tuple[str, str]] = set()      # (replica, reason) already told

    # -- the plane --------------------------------------------------------------------------
    def event(self, kind: str, obj: str, reason: str, message: str, warning: bool = False) -> None:
        self.log(f"{kind} {obj}: {reason}: {message}")
        try:
            self.target.call("RecordEvent", pb.RecordEventRequest(kind=kind, object=obj, reason=reason, message=message,
                                                                  type="Warning" if warning else "Normal"))
        except CliError as e:
            self.log(f"  (event not recorded: {e})")

    def observe(self) -> tuple[dict, list[pools.PendingReplica]]:
        nodes = {n.name: n for n in self.target.call("ListNodes", pb.ListNodesRequest()).nodes}
        specs = {}
        for w in self.target.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads:
            spec = views.workload_spec(w).get("spec", {})
            selector = (spec.get("placement") or {}).get("nodeSelector") or {}
            specs[w.name] = (spec.get("tenant", ""), tuple(sorted(selector.items())))
        pending = []
        for r in self.target.call("ListReplicas", pb.ListReplicasRequest()).replicas:
            if r.phase == "Pending" and not r.node and r.workload in specs and r.placement.decided_at_ms:
                tenant, selector = specs[r.workload]
                pending.append(pools.PendingReplica(r.id, tenant, selector, r.requests.cpu_millis,
                                                    r.requests.memory_bytes))
        return nodes, pending

    # -- the loop ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.busy = {k: t for k, t in self.busy.items() if t.is_alive()}
            try:
                found = pools.all_pools()
            except LabError as e:
                self.log(f"cannot read the pools: {e}")
                found = []
            if not found and not self.busy:
                self.log("no pools left: the controller ends")
                return
            try:
                nodes, pending = self.observe()
            except CliError as e:
                self.log(f"the plane does not answer: {e}")
                stop.wait(TICK_S * 2)
                continue
            for pool in found:
                if pool.name in self.busy:
                    continue
                try:
                    self.tick(pool, nodes, pending)
                except Exception:          # one pool's trouble must not stop the others
                    self.log(f"pool {pool.name}: {traceback.format_exc()}")
            stop.wait(TICK_S)

    def tick(self, pool: pools.Pool, nodes: dict, pending: list[pools.PendingReplica]) -> None:
        names = vm_names(pool)
        if pools.is_deleting(pool.name):
            if names:
                self.start(pool, self.destroy, pool, names[-1], f"pool {pool.name} is being deleted", True)
            else:
                self.finish_delete(pool)
            return
        now = time.monotonic()
        vms = []
        for name in names:
            n = nodes.get(name)
            status, count = (n.status, n.replica_count) if n is not None else ("", 0)
            if status == "Ready" and count == 0:
                self.idle_since.setdefault(name, now)
            else:
                self.idle_since.pop(name, None)
            vms.append(pools.VMView(name, int(name.rsplit("-", 1)[1]), status, count, False))
        idle_for = {name: now - t for name, t in self.idle_since.items()}
        steps = pools.plan(pool, vms, pending, idle_for, now - self.last_ready.get(pool.name, -1e9),
                           now - self.boot_failed.get(pool.name, -1e9))
        for step in steps:
            if isinstance(step, pools.Wait):
                for rid in step.replicas:
                    if (rid, step.reason) not in self.said:
                        self.said.add((rid, step.reason))
                        self.event("Replica", rid, "PoolAtMax" if not step.warning else "PoolCannotFit",
                                   f"{step.reason}; it stays Pending", warning=step.warning)
            elif isinstance(step, pools.Boot):
                vm = pool.vm_name(step.index)
                self.event("Pool", pool.name, "ScaleUp", f"booting VM {vm}: {step.reason}")
                for rid in step.replicas:
                    self.event("Replica", rid, "VMBooting",
                               f"pool {pool.name} is booting VM {vm} for it (tenant {pool.tenant})")
                self.start(pool, self.boot, pool, step.index, names)
            elif isinstance(step, pools.Destroy):
                self.start(pool, self.destroy, pool, step.name, step.reason, False)

    def start(self, pool: pools.Pool, fn, *args) -> None:
        t = threading.Thread(target=self._guarded, args=(pool.name, fn, *args), daemon=True,
                             name=f"pool-{pool.name}-{fn.__name__}")
        self.busy[pool.name] = t
        t.start()

    def _guarded(self, pool_name: str, fn, *args) -> None:
        try:
            fn(*args)
        except Exception:
            self.log(f"pool {pool_name}: {fn.__name__} failed:\n{traceback.format_exc()}")

    # -- VM operations (on their own thread) -------------------------------------------------
    def lab(self, pool: pools.Pool) -> Lab:
        return Lab(pools.lab_name(pool.name), pools.pool_dir(pool.name))

    def boot(self, pool: pools.Pool, index: int, existing: list[str]) -> None:
        vm = pool.vm_name(index)
        lab = self.lab(pool)
        t0 = time.monotonic()
        try:
            settings = lab.read_settings()
            settings["nodes"] = max([index] + [int(n.rsplit("-", 1)[1]) for n in existing])
            lab.write_settings(settings)
            lab.vagrant("up", "--provider=libvirt", vm, log=lambda line: self.log(f"  {line}") if "==>" in line else None)
            self.wait_ready(vm)
            booted = time.monotonic() - t0
            for archive in pool.images:
                self.load_image(archive, vm)
        except (LabError, CliError) as e:
            self.boot_failed[pool.name] = time.monotonic()
            self.event("Pool", pool.name, "BootFailed", f"VM {vm} did not join: {_short(str(e))}; destroying it",
                       warning=True)
            try:
                lab.vagrant("destroy", "-f", vm)
            except LabError as e2:
                self.log(f"  destroy of {vm} failed too: {e2}")
            return
        self.last_ready[pool.name] = time.monotonic()
        self.event("Pool", pool.name, "VMReady",
                   f"VM {vm} joined as node {vm} in {booted:.0f} s"
                   + (f" ({len(pool.images)} image(s) loaded)" if pool.images else ""))

    def wait_ready(self, vm: str) -> None:
        deadline = time.monotonic() + pools.READY_TIMEOUT_S
        while True:
            try:
                found = [n for n in self.target.call("ListNodes", pb.ListNodesRequest()).nodes if n.name == vm]
                if found and found[0].status == "Ready":
                    return
            except CliError as e:
                self.log(f"  waiting for {vm}: {e}")
            if time.monotonic() > deadline:
                raise LabError(f"node {vm} not Ready within {pools.READY_TIMEOUT_S:.0f} s")
            time.sleep(1.0)

    def load_image(self, archive: str, vm: str) -> None:
        from orchestra.cli.images import archive_requests, check_archive
        size, sha256 = check_archive(archive)
        start = pb.ImageLoadStart(nodes=[vm], size=size, sha256=sha256, name=os.path.basename(archive))
        try:
            response = self.target.stub().LoadImage(archive_requests(archive, start), timeout=600)
        except Exception as e:       # grpc.RpcError: said in the event
            raise LabError(f"loading {archive} into {vm}: {e}") from None
        errors = [f"{n.node}: {n.error}" for n in response.nodes if n.error]
        if errors:
            raise LabError(f"loading {archive}: {'; '.join(errors)}")

    def destroy(self, pool: pools.Pool, vm: str, reason: str, force: bool) -> None:
        """Cordon; unless `force`, give up when a replica landed meanwhile; destroy; forget the node."""
        self.event("Pool", pool.name, "ScaleDown", f"draining and destroying VM {vm}: {reason}")
        try:
            self.target.call("DrainNode", pb.DrainNodeRequest(name=vm))
            held = self.target.call("ListReplicas", pb.ListReplicasRequest(node=vm)).replicas
            if held and not force:
                self.target.call("SetNodeSchedulable", pb.SetNodeSchedulableRequest(name=vm, schedulable=True))
                self.event("Pool", pool.name, "ScaleDownCancelled",
                           f"VM {vm} took {', '.join(r.id for r in held)} meanwhile: kept")
                self.idle_since.pop(vm, None)
                return
        except CliError as e:
            if "not found" not in str(e):
                self.log(f"  drain of {vm}: {e}")
        t0 = time.monotonic()
        self.lab(pool).vagrant("destroy", "-f", vm)
        self.idle_since.pop(vm, None)
        removed = self.forget_node(vm)
        self.event("Pool", pool.name, "VMDestroyed",
                   f"VM {vm} destroyed and node {vm} removed ({time.monotonic() - t0:.0f} s)" if removed else
                   f"VM {vm} destroyed; node {vm} NOT removed within {NODE_GONE_TIMEOUT_S:.0f} s "
                   f"(`orchestra delete node {vm}` once its session is gone)")

    def forget_node(self, vm: str) -> bool:
        """Delete the node record once the plane lets it go (not while its session is open). False when
        it did not within NODE_GONE_TIMEOUT_S."""
        deadline = time.monotonic() + NODE_GONE_TIMEOUT_S
        while True:
            try:
                self.target.call("Delete", pb.DeleteRequest(objects=[pb.ObjectRef(kind="Node", name=vm)]))
                return True
            except CliError as e:
                if time.monotonic() > deadline:
                    self.log(f"  node {vm} not removed: {e}")
                    return False
            time.sleep(2.0)

    def finish_delete(self, pool: pools.Pool) -> None:
        if pool.token_id:
            try:
                self.target.call("RevokeJoinToken", security_pb2.RevokeJoinTokenRequest(id=pool.token_id),
                                 stub=security_pb2_grpc.SecurityStub)
            except CliError as e:
                self.log(f"  token {pool.token_id} not revoked: {e}")
        boot_dir = self.lab(pool).boot_dir()
        if boot_dir:
            shutil.rmtree(boot_dir, ignore_errors=True)
        shutil.rmtree(pools.pool_dir(pool.name), ignore_errors=True)
        self.event("Pool", pool.name, "PoolDeleted", f"pool {pool.name} deleted (its join token revoked)")


def _short(text: str, limit: int = 600) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + " ..."
