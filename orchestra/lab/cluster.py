"""`cluster up`: box, agent layer, VMs, agents, each phase timed; `cluster down`: destroy.

With the local box (the default), every VM boots with the agent layer attached and its agent
configuration handed over at boot (see orchestra/lab/agentlayer.py and the Vagrantfile): the
agents start and join while Vagrant is still waiting for SSH, and nothing is installed over
SSH. With a public box, the agents are bootstrapped over SSH afterwards (orchestra.lab.bootstrap).
"""
from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
import threading
import time

import grpc

from orchestra.lab import agentlayer, labkey, wheelhouse
from orchestra.lab.accel import kvm_usable
from orchestra.lab.bootstrap import BootstrapSpec, agent_journal, bootstrap
from orchestra.lab.boxcache import build_box
from orchestra.lab.milestones import Milestones, phases
from orchestra.lab.planequery import list_nodes
from orchestra.lab.ssh import LabError, Node
from orchestra.lab.vagrant import Lab
from orchestra.transport import ClientTLS

TOKEN_FILE = "join-token"            # in the lab's state dir, when the token came on the command line


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
    labnet_port: int = 0      # usernet, 2 nodes: the lab network's UDP link (vagrant/README.md)
    token: str = ""
    token_file: str = ""      # wins over token
    plane: str = ""           # host:port of the plane as seen from this machine
    plane_tls: ClientTLS | None = None
    agent_server: str = ""    # override: the plane as agents dial it (bootstrap over SSH only)
    ready_timeout: float = 300.0


class NotReady(LabError):
    def __init__(self, message: str, names: list[str]):
        super().__init__(message)
        self.names = names


class ReadyWatch:
    """Polls the plane while the VMs come up and marks when each node is first Ready."""

    def __init__(self, plane: str, tls: ClientTLS | None, ms: Milestones, t0: float):
        self.plane, self.tls, self.ms, self.t0 = plane, tls, ms, t0
        self.status: dict[str, str] = {}
        self.error = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "ReadyWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for n in list_nodes(self.plane, self.tls, timeout=5):
                    self.status[n.name] = n.status
                    if n.status == "Ready":
                        self.ms.mark(n.name, "ready", time.monotonic() - self.t0)
                self.error = ""
            except grpc.RpcError as e:
                self.error = f"{e.code().name}: {e.details()}"
            self._stop.wait(1.0)

    def wait(self, names: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.ms.last(names, "ready") is None:
            if time.monotonic() > deadline:
                waiting = [n for n in names if "ready" not in self.ms.at.get(n, {})]
                raise NotReady("not Ready within %.0f s: %s" % (timeout, ", ".join(
                    f"{n} ({self.status.get(n, 'not registered')})" for n in waiting))
                    + (f"; the plane did not answer: {self.error}" if self.error else ""), waiting)
            time.sleep(0.5)


def _token_file(lab: Lab, opt: UpOptions) -> str:
    if opt.token_file:
        return os.path.abspath(os.path.expanduser(opt.token_file))
    lab.dir.mkdir(parents=True, exist_ok=True)
    path = lab.dir / TOKEN_FILE
    path.touch(mode=0o600)
    path.write_text(opt.token + "\n")
    return str(path)


def layered_settings(lab: Lab, token_file: str, times: dict, log=print) -> dict:
    """The settings that make a lab's VMs boot from the local box with the agent layer attached:
    the box and the layer are built when missing (timed into `times`), the lab's SSH key made."""
    settings = {"token_file": token_file, "ssh_key": str(labkey.ensure(lab.dir)[0])}
    box_dir, times["box"] = build_box(log)
    settings["box_dir"] = str(box_dir)
    t = time.monotonic()
    settings["agent_layer"] = str(agentlayer.build(log))
    times["agent_layer"] = time.monotonic() - t
    return settings


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
    if opt.labnet_port and (net != "usernet" or opt.nodes != 2):
        raise LabError(f"--labnet-port links the two VMs of a usernet lab; this one is {net} with {opt.nodes} "
                       "node(s) (in private mode the VMs already share libvirt's network)")
    layered = opt.box == "local"
    if layered and not (opt.token_file or opt.token):
        raise LabError("cluster up needs the join token for the agents: --token-file <plane data>/node-token, "
                       "--token or $ORCHESTRA_TOKEN")
    try:   # before minutes of VM work: is the plane there, and do our credentials work?
        list_nodes(opt.plane, opt.plane_tls)
    except grpc.RpcError as e:
        raise LabError(f"the control plane at {opt.plane} does not answer ({e.code().name}: {e.details()}); "
                       "start it first (`orchestra server`) and pass its admin config") from None
    times = {}
    t0 = time.monotonic()
    settings = dict(nodes=opt.nodes, memory=opt.memory, cpus=opt.cpus, accel=accel, net=net,
                    prefix=opt.prefix or lab.name, zones=opt.zones, labels=opt.labels,
                    ssh_port_base=opt.ssh_port_base, plane_port=int(port), labnet_port=opt.labnet_port)
    if layered:
        settings.update(layered_settings(lab, _token_file(lab, opt), times, log))
    else:
        settings["box"] = opt.box
    lab.write_settings(settings)
    log(f"lab {lab.name}: {opt.nodes} node(s), {accel}, {net} network, state in {lab.dir}")

    ms = Milestones()
    with ReadyWatch(opt.plane, opt.plane_tls, ms, t0) as watch:
        def vagrant_line(line: str) -> None:
            ms.feed(time.monotonic() - t0, line)
            if "==>" in line:
                log(f"  {line}")
        vagrant_start = time.monotonic() - t0
        lab.vagrant("up", "--provider=libvirt", log=vagrant_line)
        vagrant_end = time.monotonic() - t0
        machines = lab.machines()
        if len(machines) != opt.nodes:
            raise LabError(f"vagrant brought up {len(machines)} of {opt.nodes} machines")
        names = [m.name for m in machines]
        if layered:
            try:
                watch.wait(names, opt.ready_timeout)
            except NotReady as e:
                raise LabError(f"{e}\n" + "\n".join(_why_not_ready(m) for m in machines
                                                     if m.name in e.names)) from None
        else:
            t = time.monotonic()
            _bootstrap_all(machines, opt, log)
            times["bootstrap"] = time.monotonic() - t
            watch.wait(names, opt.ready_timeout)
    end = time.monotonic() - t0
    times.update(phases(ms, names, vagrant_start=vagrant_start, vagrant_end=vagrant_end, end=end))
    times["total"] = end
    for line in ms.describe(names):
        log(f"  {line}")
    return times


def _why_not_ready(machine) -> str:
    """The agent's last words on a node that did not join, or why they could not be read."""
    try:
        with Node(machine.ssh, machine.key) as node:
            status = node.run("systemctl is-active orchestra-agent", check=False).stdout.strip()
            return f"{machine.name}: orchestra-agent is {status or 'unknown'}; last log lines:\n{agent_journal(node)}"
    except LabError as e:
        return f"{machine.name}: cannot read the agent's log ({e}); console in /var/log/orchestra-lab/{machine.name}.log"


def _bootstrap_all(machines, opt: UpOptions, log) -> None:
    wheels = wheelhouse.build()
    token = opt.token
    if opt.token_file:
        token = open(os.path.expanduser(opt.token_file)).read().strip()

    def one(m):
        spec = BootstrapSpec(target=m.ssh, key=m.key, server=opt.agent_server or m.server, name=m.name,
                             labels=m.labels, token=token, plane=opt.plane, plane_tls=opt.plane_tls,
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


def down(lab: Lab, log=print) -> float:
    t = time.monotonic()
    boot_dir = lab.boot_dir()
    if (lab.dir / ".vagrant").exists():
        lab.vagrant("destroy", "-f", log=lambda line: log(f"  {line}") if "==>" in line else None)
    if boot_dir:
        shutil.rmtree(boot_dir, ignore_errors=True)
    shutil.rmtree(lab.dir, ignore_errors=True)
    return time.monotonic() - t
