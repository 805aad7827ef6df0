"""`cluster up`: box, VMs, agents, in that order, each timed; `cluster down`: destroy."""
from __future__ import annotations

import concurrent.futures
import dataclasses
import shutil
import time

import grpc

from orchestra.lab import wheelhouse
from orchestra.lab.accel import kvm_usable
from orchestra.lab.bootstrap import BootstrapSpec, bootstrap
from orchestra.lab.boxcache import build_box
from orchestra.lab.planequery import list_nodes
from orchestra.lab.ssh import LabError
from orchestra.lab.vagrant import Lab
from orchestra.transport import ClientTLS

# Where a guest in usernet mode finds the plane (a guestfwd to 127.0.0.1:<plane port>).
USERNET_PLANE_IP = "10.0.2.100"
PRIVATE_PLANE_IP = "192.168.121.1"   # the host on vagrant-libvirt's default network


@dataclasses.dataclass
class UpOptions:
    nodes: int = 2
    memory: int = 1024
    cpus: int = 1
    net: str = ""             # "" -> private with KVM, usernet without
    box: str = "local"        # local (built here) or a box name such as debian/bookworm64
    prefix: str = ""
    zones: str = "a,b"
    labels: str = ""
    ssh_port_base: int = 2220
    token: str = ""
    plane: str = ""           # host:port of the plane as seen from this machine
    plane_tls: ClientTLS | None = None
    agent_server: str = ""    # override: the plane as agents dial it
    ready_timeout: float = 300.0


def up(lab: Lab, opt: UpOptions, log=print) -> dict:
    """Returns timings in seconds."""
    if not 1 <= opt.nodes <= 20:
        raise LabError(f"--nodes must be 1..20, got {opt.nodes}")
    host, _, port = opt.plane.rpartition(":")
    if not port.isdigit():
        raise LabError(f"plane address {opt.plane!r} must be HOST:PORT")
    accel = "kvm" if kvm_usable() else "tcg"
    net = opt.net or ("private" if accel == "kvm" else "usernet")
    if net == "usernet" and host not in ("127.0.0.1", "localhost"):
        raise LabError(f"in usernet mode guests reach the plane through 127.0.0.1 only; the plane is at "
                       f"{opt.plane} (run it on 127.0.0.1 or use --net private)")
    try:   # before minutes of VM work: is the plane there, and do our credentials work?
        list_nodes(opt.plane, opt.plane_tls)
    except grpc.RpcError as e:
        raise LabError(f"the control plane at {opt.plane} does not answer ({e.code().name}: {e.details()}); "
                       "start it first (`orchestra server`) and pass its admin config") from None
    times = {}
    t0 = time.monotonic()
    settings = dict(nodes=opt.nodes, memory=opt.memory, cpus=opt.cpus, accel=accel, net=net,
                    prefix=opt.prefix or lab.name, zones=opt.zones, labels=opt.labels,
                    ssh_port_base=opt.ssh_port_base, plane_port=int(port))
    if opt.box == "local":
        box_dir, times["box"] = build_box(log)
        settings["box_dir"] = str(box_dir)
    else:
        settings["box"] = opt.box
    lab.write_settings(settings)
    log(f"lab {lab.name}: {opt.nodes} node(s), {accel}, {net} network, state in {lab.dir}")
    t = time.monotonic()
    lab.vagrant("up", "--provider=libvirt", log=lambda line: log(f"  {line}") if "==>" in line else None)
    times["vagrant_up"] = time.monotonic() - t

    t = time.monotonic()
    wheels = wheelhouse.build()
    machines = lab.machines()
    if len(machines) != opt.nodes:
        raise LabError(f"vagrant brought up {len(machines)} of {opt.nodes} machines")

    def one(m):
        server = opt.agent_server or m.server
        spec = BootstrapSpec(target=m.ssh, key=m.key, server=server, name=m.name, labels=m.labels,
                             token=opt.token, plane=opt.plane, plane_tls=opt.plane_tls,
                             ready_timeout=opt.ready_timeout)
        return bootstrap(spec, wheels, log=log)

    errors = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(machines)) as pool:
        for m, f in [(m, pool.submit(one, m)) for m in machines]:
            try:
                f.result()
            except LabError as e:
                errors.append(f"{m.name}: {e}")
    if errors:
        raise LabError("bootstrap failed:\n" + "\n".join(errors))
    times["bootstrap"] = time.monotonic() - t
    times["total"] = time.monotonic() - t0
    return times


def down(lab: Lab, log=print) -> float:
    t = time.monotonic()
    if (lab.dir / ".vagrant").exists():
        lab.vagrant("destroy", "-f", log=lambda line: log(f"  {line}") if "==>" in line else None)
    shutil.rmtree(lab.dir, ignore_errors=True)
    return time.monotonic() - t
