"""Tenant VM pools: what a pool is, where it is kept, and what its controller decides.

A pool is a lab of VMs (orchestra.lab.vagrant.Lab, state in <labs dir>/pool-NAME) whose agents
join with a token scoped to the pool: the token's labels (orchestra.pool=NAME,
orchestra.tenant=T and the pool's own) go into each node's certificate, and the scheduler keeps a
node labelled orchestra.tenant=T for tenant T (orchestra.scheduler.filters.dedicated_tenant).

`plan` is the controller's whole policy, a pure function of what the plane reports, so it is
tested without VMs: boot one VM at a time while replicas of the pool's tenant that the pool's VMs
could take are Pending (or while the pool is below --min), never past --max; a VM without
replicas for --idle beyond --min is drained and destroyed, the newest first.
"""
from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path

from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import labs_dir

POOL_LABEL = "orchestra.pool"
TENANT_LABEL = "orchestra.tenant"     # orchestra.scheduler.filters.dedicated_tenant.LABEL
MAX_VMS = 19                          # a pool's ssh ports are BASE+1..BASE+19 (usernet)
PORT_BASE, PORT_STEP = 2300, 20
SETTLE_S = 15.0      # after a VM is Ready, time for the scheduler to use it before another is booted
READY_TIMEOUT_S = 420.0
BOOT_RETRY_S = 60.0  # after a boot failed


@dataclasses.dataclass
class Pool:
    name: str
    tenant: str
    min: int = 0
    max: int = 3
    memory_mib: int = 1024
    cpus: int = 1
    labels: dict = dataclasses.field(default_factory=dict)
    idle_s: float = 300.0
    images: list = dataclasses.field(default_factory=list)   # archives every new VM gets (no registry)
    ssh_port_base: int = PORT_BASE
    token_id: str = ""
    created_ms: int = 0

    def node_labels(self) -> dict[str, str]:
        """The labels every VM of the pool carries (the Vagrantfile adds zone=<pool name>)."""
        return {**self.labels, "zone": self.name, POOL_LABEL: self.name, TENANT_LABEL: self.tenant}

    def token_labels(self) -> dict[str, str]:
        return {**self.labels, POOL_LABEL: self.name, TENANT_LABEL: self.tenant}

    def vm_name(self, index: int) -> str:
        return f"{self.name}-{index}"


def pool_dir(name: str) -> Path:
    return labs_dir() / f"pool-{name}"


def lab_name(name: str) -> str:
    return f"pool-{name}"


SPEC_FILE, DELETING_FILE, TOKEN_FILE = "pool.json", "deleting", "join-token"


def save(pool: Pool) -> None:
    d = pool_dir(pool.name)
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / (SPEC_FILE + ".tmp")
    tmp.write_text(json.dumps(dataclasses.asdict(pool), indent=2, sort_keys=True))
    os.replace(tmp, d / SPEC_FILE)


def load(name: str) -> Pool:
    path = pool_dir(name) / SPEC_FILE
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise LabError(f"pool {name} does not exist (see `orchestra cluster pool list`)") from None
    except (OSError, ValueError) as e:
        raise LabError(f"cannot read pool {name} from {path}: {e}") from None
    known = {f.name for f in dataclasses.fields(Pool)}
    return Pool(**{k: v for k, v in data.items() if k in known})


def all_pools() -> list[Pool]:
    root = labs_dir()
    if not root.is_dir():
        return []
    return [load(d.name[len("pool-"):]) for d in sorted(root.iterdir())
            if d.name.startswith("pool-") and (d / SPEC_FILE).exists()]


def is_deleting(name: str) -> bool:
    return (pool_dir(name) / DELETING_FILE).exists()


def mark_deleting(name: str) -> None:
    (pool_dir(name) / DELETING_FILE).touch()


def free_port_base(pools: list[Pool]) -> int:
    """A base no other pool has, whose ssh forward ports (BASE+1..BASE+MAX_VMS) are free on 127.0.0.1."""
    used = {p.ssh_port_base for p in pools}
    base = PORT_BASE
    while base in used or not _ports_free(base + 1, base + MAX_VMS):
        base += PORT_STEP
        if base > 60000:
            raise LabError("no free range of ssh ports for a pool's VMs on 127.0.0.1")
    return base


def _ports_free(first: int, last: int) -> bool:
    socks = []
    try:
        for port in range(first, last + 1):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        for s in socks:
            s.close()


# ---- what the controller sees and decides ------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PendingReplica:
    id: str
    tenant: str
    selector: tuple[tuple[str, str], ...]     # the workload's nodeSelector
    cpu_millis: int
    memory_bytes: int


@dataclasses.dataclass(frozen=True)
class VMView:
    name: str
    index: int
    node_status: str          # the plane's: Ready, NotReady, or "" (not registered yet)
    replicas: int             # replicas bound to its node
    busy: bool                # being booted or destroyed right now


@dataclasses.dataclass(frozen=True)
class Boot:
    index: int
    reason: str
    replicas: tuple[str, ...] = ()     # the pending replicas it is booted for


@dataclasses.dataclass(frozen=True)
class Destroy:
    name: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Wait:
    """Replicas the pool cannot help now, and why (said once per replica and reason)."""
    replicas: tuple[str, ...]
    reason: str
    warning: bool = False


def fits_pool(pool: Pool, r: PendingReplica) -> str:
    """'' when a VM of the pool could take r, else why not ('-' when r is not the pool's at all)."""
    if r.tenant != pool.tenant:
        return "-"
    labels = pool.node_labels()
    if any(labels.get(k) != v for k, v in r.selector):
        return "-"
    if r.memory_bytes > pool.memory_mib * 2**20 or r.cpu_millis > pool.cpus * 1000:
        return (f"it asks for more than a VM of pool {pool.name} has ({pool.cpus} CPU, {pool.memory_mib} MiB): "
                f"its VMs cannot take it")
    return ""


def plan(pool: Pool, vms: list[VMView], pending: list[PendingReplica], idle_for: dict[str, float],
         since_ready: float, since_boot_failed: float) -> list[Boot | Destroy | Wait]:
    """The next steps for one pool. `idle_for`: seconds each VM has held no replica; `since_ready`:
    seconds since a VM of the pool last became Ready; `since_boot_failed`: since the last failed boot."""
    out: list[Boot | Destroy | Wait] = []
    mine = [r for r in pending if fits_pool(pool, r) != "-"]
    too_big = [r.id for r in mine if fits_pool(pool, r)]
    if too_big:
        out.append(Wait(tuple(too_big), fits_pool(pool, next(r for r in mine if r.id in too_big)), warning=True))
    wanting = [r.id for r in mine if not fits_pool(pool, r)]
    if any(v.busy for v in vms):
        return out                                # one VM operation at a time per pool
    booting = [v for v in vms if v.node_status != "Ready"]
    count = len(vms)
    free = next(i for i in range(1, MAX_VMS + 2) if i not in {v.index for v in vms})
    if count < pool.min:
        return out + [Boot(free, f"pool {pool.name} has {count} VM(s), below its min of {pool.min}")]
    if wanting:
        if booting:
            return out                            # the VM coming up may take them
        if since_ready < SETTLE_S:
            return out                            # the scheduler has not had its turn on the newest VM
        if count >= pool.max:
            return out + [Wait(tuple(wanting), f"pool {pool.name} is at its max of {pool.max} VM(s)")]
        if since_boot_failed < BOOT_RETRY_S:
            return out
        return out + [Boot(free, f"{len(wanting)} pending replica(s) of tenant {pool.tenant}: "
                                 + ", ".join(wanting[:5]) + (" ..." if len(wanting) > 5 else ""), tuple(wanting))]
    idle = [v for v in vms if v.node_status == "Ready" and v.replicas == 0 and idle_for.get(v.name, 0) >= pool.idle_s]
    if idle and count > pool.min:
        v = max(idle, key=lambda v: v.index)
        out.append(Destroy(v.name, f"idle for {idle_for[v.name]:.0f} s (pool {pool.name} keeps at least "
                                   f"{pool.min}, idle limit {pool.idle_s:.0f} s)"))
    return out
