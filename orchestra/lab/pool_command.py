"""`orchestra cluster pool create|list|delete`: tenant VM pools that grow on demand
(orchestra.lab.pools says what a pool is, orchestra.lab.pool_controller what runs it)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import click

from orchestra.lab import pools
from orchestra.lab.ssh import LabError


def _root_options(ctx: click.Context) -> tuple[str | None, str | None]:
    obj = ctx.find_root().obj
    obj = obj if isinstance(obj, dict) else {}
    return obj.get("server"), obj.get("config")


def _target(ctx: click.Context):
    from orchestra.cli.connection import resolve
    return resolve(*_root_options(ctx))


def _fail(message: str):
    raise click.ClickException(message)


def ensure_controller(ctx: click.Context) -> int:
    """The running controller's pid; one is started (detached, logging to the labs dir) when none runs."""
    from orchestra.lab.pool_controller import LOG_FILE, pid_file, running_pid
    pid = running_pid()
    if pid:
        return pid
    server, config = _root_options(ctx)
    args = [sys.executable, "-m", "orchestra.cli.main"]
    args += ["--server", server] if server else []
    args += ["--config", config] if config else []
    pid_file().parent.mkdir(parents=True, exist_ok=True)
    with open(pid_file().parent / LOG_FILE, "a") as log:
        proc = subprocess.Popen([*args, "cluster", "pool", "controller"], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if running_pid() == proc.pid:
            return proc.pid
        if proc.poll() is not None:
            _fail(f"the pool controller exited at once (code {proc.returncode}); see {pid_file().parent / LOG_FILE}")
        time.sleep(0.2)
    _fail(f"the pool controller did not start within 15 s; see {pid_file().parent / LOG_FILE}")


@click.group("pool")
def pool() -> None:
    """Tenant VM pools: VMs booted when a tenant's replicas are pending, destroyed when idle."""


@pool.command("create")
@click.argument("name")
@click.option("--tenant", required=True, help="the tenant whose pending replicas the pool's VMs take (only theirs)")
@click.option("--min", "min_", default=0, show_default=True, type=click.IntRange(0, pools.MAX_VMS),
              help="VMs kept even when idle")
@click.option("--max", "max_", default=3, show_default=True, type=click.IntRange(1, pools.MAX_VMS),
              help="VMs at most")
@click.option("--memory", default="1Gi", show_default=True, help="memory per VM (at least 512Mi)")
@click.option("--cpus", default=1, show_default=True, type=click.IntRange(1, 64), help="CPUs per VM")
@click.option("--labels", default="", help="extra node labels k=v,... (in each VM's certificate)")
@click.option("--idle", default="5m", show_default=True,
              help="a VM beyond --min without replicas for this long is drained and destroyed")
@click.option("--image", "images", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="an image archive (docker save) every new VM loads before it takes replicas; repeatable")
@click.pass_context
def create(ctx, name, tenant, min_, max_, memory, cpus, labels, idle, images) -> None:
    """Create pool NAME for a tenant and start the controller that grows and shrinks it."""
    from orchestra.api import security_pb2, security_pb2_grpc
    from orchestra.api import orchestra_pb2 as pb
    from orchestra.cli.failure import CliError
    from orchestra.security.tokens import TokenError, parse_duration, parse_labels
    from orchestra.spec import names
    from orchestra.spec.quantities import QuantityError, parse_memory

    problem = names.dns_label_problem(name) if len(name) <= 20 else "at most 20 characters"
    if problem:
        _fail(f"pool name {name!r}: {problem}")
    problem = names.dns_label_problem(tenant)
    if problem:
        _fail(f"--tenant {tenant!r}: {problem}")
    if min_ > max_:
        _fail(f"--min {min_} is above --max {max_}")
    try:
        memory_bytes = parse_memory(memory)
    except QuantityError as e:
        _fail(f"--memory {memory!r}: {e}")
    if memory_bytes < 512 * 2**20:
        _fail(f"--memory {memory}: a VM needs at least 512Mi")
    try:
        idle_s = parse_duration(idle)
        extra = parse_labels([labels]) if labels else {}
    except TokenError as e:
        _fail(str(e))
    reserved = {pools.POOL_LABEL, pools.TENANT_LABEL, "zone"} & set(extra)
    if reserved:
        _fail(f"--labels: {', '.join(sorted(reserved))} is set by the pool itself")
    existing = pools.all_pools()
    if any(p.name == name for p in existing):
        _fail(f"pool {name} already exists (`orchestra cluster pool delete {name}` first)")
    target = _target(ctx)
    if target.tls is None:
        _fail(f"pool create needs the admin's client certificate: {target.config_problem}")
    try:
        taken = [n.name for n in target.call("ListNodes", pb.ListNodesRequest()).nodes
                 if n.name.rsplit("-", 1)[0] == name]
        if taken:
            _fail(f"nodes named {name}-N already exist ({', '.join(taken)}): pick another pool name")
        p = pools.Pool(name=name, tenant=tenant, min=min_, max=max_, memory_mib=memory_bytes // 2**20, cpus=cpus,
                       labels=extra, idle_s=float(idle_s), images=[os.path.abspath(i) for i in images],
                       ssh_port_base=pools.free_port_base(existing), created_ms=int(time.time() * 1000))
        resp = target.call("CreateJoinToken", security_pb2.CreateJoinTokenRequest(ttl_seconds=0, labels=p.token_labels()),
                           stub=security_pb2_grpc.SecurityStub)
    except CliError as e:
        _fail(str(e))
    p.token_id = resp.info.id
    try:
        write_lab(p, resp.token, target.address)
    except LabError as e:
        _fail(str(e))
    pools.save(p)
    pid = ensure_controller(ctx)
    target.call("RecordEvent", pb.RecordEventRequest(
        kind="Pool", object=name, type="Normal", reason="PoolCreated",
        message=f"pool {name} for tenant {tenant}: {min_}-{max_} VMs of {cpus} CPU, {p.memory_mib} MiB"))
    click.echo(f"pool {name} created: tenant {tenant}, {min_}-{max_} VMs of {cpus} CPU and {p.memory_mib} MiB, "
               f"idle limit {idle}; controller pid {pid} (log {pools.pool_dir(name).parent / 'pool-controller.log'})")


def write_lab(p: pools.Pool, token: str, plane: str) -> None:
    """The pool's lab: settings for the Vagrantfile (no VM yet) and its token file (0600)."""
    from orchestra.lab.accel import kvm_usable
    from orchestra.lab.cluster import layered_settings
    from orchestra.lab.vagrant import Lab
    host, _, port = plane.split(",")[0].strip().rpartition(":")
    accel = "kvm" if kvm_usable() else "tcg"
    net = "private" if accel == "kvm" else "usernet"
    if net == "usernet" and host not in ("127.0.0.1", "localhost"):
        raise LabError(f"in usernet mode guests reach the plane through 127.0.0.1 only; the plane is at {plane}")
    lab = Lab(pools.lab_name(p.name), pools.pool_dir(p.name))
    lab.dir.mkdir(parents=True, exist_ok=True)
    token_file = lab.dir / pools.TOKEN_FILE
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    settings = dict(nodes=1, memory=p.memory_mib, cpus=p.cpus, accel=accel, net=net, prefix=p.name, zones=p.name,
                    labels=",".join(f"{k}={v}" for k, v in sorted(p.token_labels().items())),
                    ssh_port_base=p.ssh_port_base, plane_port=int(port))
    settings.update(layered_settings(lab, str(token_file), {}, log=lambda line: click.echo(line, err=True)))
    lab.write_settings(settings)


@pool.command("list")
@click.pass_context
def list_(ctx) -> None:
    """The pools, their VMs and how their nodes are."""
    from orchestra.api import orchestra_pb2 as pb
    from orchestra.cli.failure import CliError
    from orchestra.cli.tables import table
    from orchestra.lab.pool_controller import running_pid, vm_names
    found = pools.all_pools()
    if not found:
        click.echo("no pools")
        return
    try:
        nodes = {n.name: n for n in _target(ctx).call("ListNodes", pb.ListNodesRequest()).nodes}
    except CliError as e:
        _fail(str(e))
    rows = []
    for p in found:
        vms = []
        for vm in vm_names(p):
            n = nodes.get(vm)
            vms.append(f"{vm}({n.status}, {n.replica_count} replicas)" if n else f"{vm}(booting)")
        state = "deleting" if pools.is_deleting(p.name) else "active"
        rows.append((p.name, p.tenant, state, p.min, p.max, f"{p.cpus} CPU, {p.memory_mib} MiB",
                     f"{p.idle_s:.0f}s", " ".join(vms) or "-"))
    click.echo(table(("name", "tenant", "state", "min", "max", "vm", "idle", "vms"), rows))
    pid = running_pid()
    click.echo(f"controller: {'pid ' + str(pid) if pid else 'not running'}")


@pool.command("delete")
@click.argument("name")
@click.option("--timeout", default=900.0, show_default=True, type=click.FloatRange(min=0),
              help="seconds to wait until its VMs are destroyed")
@click.option("--no-wait", is_flag=True, help="return once the controller has been told")
@click.pass_context
def delete(ctx, name, timeout, no_wait) -> None:
    """Delete pool NAME: its VMs are drained and destroyed, their nodes removed, its join token revoked."""
    try:
        pools.load(name)
    except LabError as e:
        _fail(str(e))
    pools.mark_deleting(name)
    ensure_controller(ctx)
    if no_wait:
        click.echo(f"pool {name}: deleting")
        return
    deadline = time.monotonic() + timeout
    while pools.pool_dir(name).exists():
        if time.monotonic() > deadline:
            _fail(f"pool {name} not gone within {timeout:.0f} s; see `orchestra cluster pool list` and the "
                  f"controller's log")
        time.sleep(1.0)
    click.echo(f"pool {name} deleted")


@pool.command("controller", hidden=True)
@click.pass_context
def controller(ctx) -> None:
    """Run the pool controller in the foreground (pool create starts it)."""
    from orchestra.lab.pool_controller import PoolController, pid_file, running_pid
    other = running_pid()
    if other and other != os.getpid():
        _fail(f"a pool controller already runs (pid {other})")
    pid_file().parent.mkdir(parents=True, exist_ok=True)
    pid_file().write_text(f"{os.getpid()}\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def log(line: str) -> None:
        click.echo(f"{time.strftime('%H:%M:%S')} {line}", err=True)
    try:
        PoolController(_target(ctx), log).run(stop)
    finally:
        if running_pid() == os.getpid():
            pid_file().unlink(missing_ok=True)
