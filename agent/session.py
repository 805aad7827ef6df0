"""The agent's stream to the plane (AgentLink.Session), and the reconnect loop around it.

One session: send Hello; wait for Welcome (or Refusal); then, until the stream breaks,
pass DesiredSets to the converger (it ignores older revisions), answer LogRequests,
ExecStarts (agent/exec.py) and ImageTransfers (agent/image_load.py), and send Heartbeats every
heartbeat interval, a StatusReport whenever something changed (a phase, a reason, readiness, a
probe's result) and at least every 10 s, a UsageReport every usage interval, and the engine's
images (ImageInventory) in Hello and whenever they changed (looked at every IMAGES_EVERY_S and
right after a load).

Between sessions: exponential back-off from 0.5 s doubling to 10 s, with jitter, reset after
a session that was welcomed. A Refusal ends the agent with a non-zero exit (the plane will
not serve this node as configured), unless it says to try again.

Several planes (`--server a:7070,b:7070`): the agent talks to the one that leads
(orchestra.endpoints). When its plane cannot be reached, says it does not lead (naming the
leader, when it knows it) or ends a session with an error, the agent goes to the leader or the
next plane at once (HOP_S); it backs off only after every plane was tried in a row.
"""
from __future__ import annotations

import logging
import queue
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import grpc

from agent import facts, metrics
from agent.converger import Converger, wall_ms
from agent.exec import Execs
from agent.image_load import ImageLoads
from agent.logs import LogStreams
from agent.reconciler import Status
from agent.runtime.docker import DockerRuntime, RuntimeUnavailable
from agent.usage import UsageSampler
from orchestra import transport
from orchestra.api import agent_pb2, agent_pb2_grpc, types_pb2
from orchestra.endpoints import Planes, redirect_of
from orchestra.service_network import CLUSTER_DOMAIN, DEFAULT_RELAY_PORT, DNS_ADDRESS

log = logging.getLogger("orchestra.agent")

STATUS_EVERY_S = 10.0
IMAGES_EVERY_S = 5.0      # images loaded behind the agent's back (docker load by hand) show up this soon
WELCOME_TIMEOUT_S = 30.0
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 10.0
HOP_S = 0.1              # to the next plane: it may be the leader
# gRPC codes that mean "you are not allowed", not "try later".
FATAL_CODES = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)
# A Refusal that says one of these is temporary.
_TRANSIENT_REFUSALS = ("try again", "retry", "temporar", "shutting down", "not ready")


class Refused(Exception):
    """The plane will not serve this agent; str() is its reason."""


@dataclass
class AgentConfig:
    server: str                                  # one plane or several: a:7070,b:7070
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    docker_host: str = "unix:///var/run/docker.sock"
    network: str = "bridge"
    cpu_millis: int | None = None
    memory_bytes: int | None = None
    taints: list[types_pb2.Taint] = field(default_factory=list)
    stop_timeout_s: int = 10
    tls: transport.ClientTLS | None = None       # the node's certificate (orchestra.security.join)
    advertise_address: str = ""                  # other nodes reach this one's relay here ("": no services)
    relay_port: int = DEFAULT_RELAY_PORT         # 0: any free port
    files_dir: str | None = None                 # config and secret files, on a tmpfs (agent.container_files)


CONNECT_TIMEOUT_S = 5.0    # a plane that takes the connection but never answers (stopped) is left for the next


def open_channel(server: str, tls: transport.ClientTLS | None = None) -> grpc.Channel:
    """The one place the agent makes its channel: transport decides how it is secured."""
    return transport.client_channel(server, tls, connect_timeout_s=CONNECT_TIMEOUT_S)


def next_backoff(delay: float) -> float:
    return min(delay * 2, BACKOFF_MAX_S)


def jittered(delay: float) -> float:
    """Somewhere in [delay/2, delay]: agents cut off together do not return together."""
    return delay * (0.5 + random.random() / 2)


def status_proto(s: Status) -> agent_pb2.ReplicaStatus:
    return agent_pb2.ReplicaStatus(
        replica_id=s.replica_id, phase=s.phase, reason=s.reason, exit_code=s.exit_code,
        restarts=s.restarts, container_id=s.container_id,
        next_restart_ms=s.next_restart_ms, incarnation=s.incarnation, ready=s.ready,
        probes=[types_pb2.ProbeResult(
            probe=p.probe, result=p.result, message=p.message,
            consecutive_failures=p.consecutive_failures,
            consecutive_successes=p.consecutive_successes, last_run_ms=p.last_run_ms,
            last_change_ms=p.last_change_ms, action=p.action) for p in s.probes])


class Agent:
    def __init__(self, config: AgentConfig, runtime: DockerRuntime | None = None):
        self.config = config
        self.instance = uuid.uuid4().hex
        self.runtime = runtime or DockerRuntime(config.docker_host, config.name, config.network,
                                                stop_timeout_s=config.stop_timeout_s, files_dir=config.files_dir)
        self.converger = Converger(self.runtime, config.name)
        self.usage = UsageSampler(self.runtime, wall_ms)
        self.logs = LogStreams(self.runtime, self.converger.container_of, config.name)
        self.execs = Execs(self.runtime, self.converger.running_containers, config.name)
        self.images_changed = threading.Event()      # look at the engine's images now
        self.image_loads = ImageLoads(self.runtime, config.name, on_loaded=self.images_changed.set)
        self.stop_event = threading.Event()
        self.planes = Planes([a.strip() for a in config.server.split(",")])
        self._hops = 0                 # planes tried in a row without a welcome
        self._session: Session | None = None
        self._lock = threading.Lock()
        self.datapath = None     # agent.services.datapath.DataPath, once started

    def start_services(self) -> None:
        """The service data path: make the service range local (then containers get the node's
        DNS), and open the relay. Without an advertised address the node takes no part."""
        c = self.config
        if not c.advertise_address:
            log.warning("no --advertise-address: this node neither routes nor serves services")
            return
        if c.network != "none":
            from agent.services.local_range import RangeUnavailable, make_local
            try:
                make_local()
                self.runtime.dns, self.runtime.dns_search = [DNS_ADDRESS], [CLUSTER_DOMAIN]
            except RangeUnavailable as e:
                log.warning("containers get no service names: %s", e)
        from agent.services.datapath import DataPath
        try:
            self.datapath = DataPath(c.name, self.converger.running_container, c.advertise_address, c.relay_port)
        except OSError as e:
            log.warning("relay port %s:%d: %s; taking any free port", c.advertise_address, c.relay_port,
                        e.strerror or e)
            self.datapath = DataPath(c.name, self.converger.running_container, c.advertise_address, 0)
        self.runtime.before_stop = self.datapath.drain
        log.info("services: relay on %s:%d", c.advertise_address, self.datapath.relay_port)

    def stop(self) -> None:
        """Ask the agent to end (from a signal handler or another thread)."""
        self.stop_event.set()
        with self._lock:
            s = self._session
        if s is not None:
            s.close()

    @property
    def connected(self) -> bool:
        """A session is open and the plane welcomed it."""
        with self._lock:
            s = self._session
        return s is not None and s.welcomed and not s.done.is_set()

    def run(self) -> int:
        """Run until stopped (exit 0) or refused (exit 3: refused, 4: not authorised)."""
        self.start_services()
        self.converger.start()
        delay = BACKOFF_INITIAL_S
        try:
            while not self.stop_event.is_set():
                session = Session(self)
                with self._lock:
                    self._session = session
                if self.stop_event.is_set():
                    break
                error = None
                try:
                    session.run()
                except Refused as e:
                    if any(w in str(e).lower() for w in _TRANSIENT_REFUSALS):
                        log.warning("plane refused the session for now: %s", e)
                    else:
                        log.error("plane refused node %s: %s", self.config.name, e)
                        return 3
                except grpc.RpcError as e:
                    error = e
                    code = e.code() if hasattr(e, "code") else None
                    if code in FATAL_CODES:
                        log.error("plane does not accept this agent (%s): %s",
                                  code.name, e.details())
                        return 4
                    if not self.stop_event.is_set():
                        log.warning("session with %s ended: %s%s", self.planes.current,
                                    code.name if code else "error",
                                    f": {e.details()}" if hasattr(e, "details") and e.details()
                                    else "")
                finally:
                    with self._lock:
                        self._session = None
                if session.welcomed:
                    delay = BACKOFF_INITIAL_S
                    self._hops = 0
                if self._next_plane(error, session.welcomed):
                    wait = HOP_S
                else:
                    wait = jittered(delay)
                    delay = next_backoff(delay)
                if not self.stop_event.is_set():
                    log.info("reconnecting to %s in %.1fs", self.planes.current, wait)
                self.stop_event.wait(wait)
            return 0
        finally:
            self.logs.cancel_all()
            self.execs.cancel_all()
            self.image_loads.cancel_all()
            self.converger.stop()
            self.usage.close()
            if self.datapath is not None:
                self.datapath.close()

    def _next_plane(self, error: grpc.RpcError | None, welcomed: bool) -> bool:
        """Move to another plane after this session's end (several planes: whatever ended it, this
        plane may no longer lead)? True: try it at once."""
        if len(self.planes.addresses) == 1:
            return False
        leader = redirect_of(error)[1] if error is not None else ""
        self.planes.move(leader)
        self._hops += 1
        if self._hops <= len(self.planes.addresses):
            return True
        self._hops = 0
        return False

    def hello(self) -> agent_pb2.Hello:
        try:
            version = self.runtime.version()
        except RuntimeUnavailable:
            version = ""
        try:
            images = agent_pb2.ImageInventory(images=self.runtime.images())
        except RuntimeUnavailable:
            images = None     # said later, once the engine answers
        c = self.config
        return agent_pb2.Hello(
            node_name=c.name, labels=c.labels, facts=facts.gather(version),
            capacity=facts.capacity(c.cpu_millis, c.memory_bytes),
            agent_instance=self.instance, last_revision=self.converger.applied_revision,
            taints=c.taints, advertise_address=c.advertise_address if self.datapath else "",
            relay_port=self.datapath.relay_port if self.datapath else 0,
            last_endpoints_revision=self.endpoints_revision, images=images)

    @property
    def endpoints_revision(self) -> int:
        return self.datapath.revision if self.datapath is not None else 0


_END = object()


class Session:
    """One stream to the plane."""

    def __init__(self, agent: Agent):
        self.agent = agent
        self.out: queue.Queue = queue.Queue()
        self.done = threading.Event()
        self.welcomed = False
        self.heartbeat_s = 2.0
        self.usage_s = 5.0
        self._call = None
        self.sent_images: list[str] | None = None     # the inventory the plane has from this session
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def send(self, msg: agent_pb2.AgentMessage) -> None:
        if not self.done.is_set():
            self.out.put(msg)

    def close(self) -> None:
        self.done.set()
        self.agent.images_changed.set()   # wakes the inventory thread, which then ends
        self.out.put(_END)
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()

    def _outgoing(self):
        while True:
            m = self.out.get()
            if m is _END:
                return
            yield m

    def run(self) -> None:
        agent = self.agent
        channel = open_channel(agent.planes.current, agent.config.tls)
        timer = None
        try:
            hello = agent.hello()
            self.sent_images = list(hello.images.images) if hello.HasField("images") else None
            self.send(agent_pb2.AgentMessage(hello=hello))
            stub = agent_pb2_grpc.AgentLinkStub(channel)
            call = stub.Session(self._outgoing())
            with self._lock:
                self._call = call
            if self.done.is_set():
                call.cancel()
            timer = threading.Timer(WELCOME_TIMEOUT_S, self._welcome_timeout)
            timer.daemon = True
            timer.start()
            for msg in call:
                self._handle(msg)
            if not agent.stop_event.is_set():
                log.warning("plane closed the session")
        finally:
            if timer:
                timer.cancel()
            self.close()
            agent.logs.cancel_all()
            agent.execs.cancel_all()   # the plane ended their calls with the session
            agent.image_loads.cancel_all()
            for t in self._threads:
                t.join(5)
            channel.close()

    def _welcome_timeout(self) -> None:
        if not self.welcomed:
            log.warning("no welcome from the plane within %.0fs", WELCOME_TIMEOUT_S)
            self.close()

    def _handle(self, msg: agent_pb2.PlaneMessage) -> None:
        kind = msg.WhichOneof("msg")
        agent = self.agent
        if kind == "welcome":
            w = msg.welcome
            if w.heartbeat_interval_ms > 0:
                self.heartbeat_s = w.heartbeat_interval_ms / 1000
            if w.usage_interval_ms > 0:
                self.usage_s = w.usage_interval_ms / 1000
            if not self.welcomed:
                self.welcomed = True
                log.info("connected to %s as node %s (heartbeat %.1fs, usage %.1fs)",
                         agent.planes.current, agent.config.name, self.heartbeat_s, self.usage_s)
                for target, name in ((self._report, "report"), (self._sample, "usage"),
                                     (self._inventory, "images")):
                    t = threading.Thread(target=target, name=name, daemon=True)
                    t.start()
                    self._threads.append(t)
        elif kind == "desired":
            agent.converger.offer(msg.desired)
        elif kind == "endpoints":
            if agent.datapath is not None and agent.datapath.offer(msg.endpoints):
                self._heartbeat(0)     # tells the plane at once: it waits for this before stopping replicas
        elif kind == "log_request":
            agent.logs.start(msg.log_request, self.send)
        elif kind == "log_cancel":
            agent.logs.cancel(msg.log_cancel.request_id)
        elif kind == "exec_start":
            agent.execs.start(msg.exec_start, self.send)
        elif kind == "exec_input":
            agent.execs.input(msg.exec_input)
        elif kind == "exec_resize":
            agent.execs.resize(msg.exec_resize)
        elif kind == "exec_cancel":
            agent.execs.cancel(msg.exec_cancel.exec_id)
        elif kind == "image_transfer":
            agent.image_loads.start(msg.image_transfer, self.send)
        elif kind == "image_chunk":
            agent.image_loads.chunk(msg.image_chunk)
        elif kind == "image_cancel":
            agent.image_loads.cancel(msg.image_cancel.load_id, msg.image_cancel.reason)
        elif kind == "refusal":
            raise Refused(msg.refusal.reason or "no reason given")
        else:
            log.debug("ignored plane message %r", kind)

    def _report(self) -> None:
        """Heartbeats on time; a StatusReport on change and at least every 10 s."""
        conv = self.agent.converger
        seq = 0
        sent_version = -1
        last_status = 0.0
        next_beat = time.monotonic()
        while not self.done.is_set():
            now = time.monotonic()
            if now >= next_beat:
                seq += 1
                self._heartbeat(seq)
                next_beat = now + self.heartbeat_s
            version, statuses, runtime_status, applied = conv.snapshot()
            listed, volumes = conv.volume_snapshot()    # read after: at least as new as `applied`
            if version != sent_version or now - last_status >= STATUS_EVERY_S:
                # Before the first desired set there is nothing to report on.
                if conv.revision > 0 or statuses:
                    self.send(agent_pb2.AgentMessage(status=agent_pb2.StatusReport(
                        revision=applied, runtime_status=runtime_status,
                        replicas=[status_proto(s) for s in statuses], volumes=volumes,
                        volumes_listed=listed)))
                sent_version, last_status = version, now
            with conv.changed:
                if conv.version == sent_version:
                    conv.changed.wait(max(0.0, min(next_beat - time.monotonic(),
                                                   last_status + STATUS_EVERY_S - time.monotonic())))

    def _heartbeat(self, seq: int) -> None:
        conv = self.agent.converger
        self.send(agent_pb2.AgentMessage(heartbeat=agent_pb2.Heartbeat(
            seq=seq, runtime_status=conv.runtime_status, applied_revision=conv.applied_revision,
            endpoints_revision=self.agent.endpoints_revision)))

    def _sample(self) -> None:
        agent = self.agent
        while not self.done.wait(self.usage_s):
            try:
                node = agent.usage.node()
                replicas = agent.usage.containers(agent.converger.running_containers())
            except Exception:   # usage must never break the session
                log.exception("usage sampling failed")
                metrics.usage_error()
                continue
            self.send(agent_pb2.AgentMessage(usage=agent_pb2.UsageReport(
                node=node, replicas=replicas)))

    def _inventory(self) -> None:
        """The engine's images to the plane whenever they differ from what it has."""
        agent = self.agent
        while not self.done.is_set():
            agent.images_changed.wait(IMAGES_EVERY_S)
            agent.images_changed.clear()
            if self.done.is_set():
                return
            try:
                images = agent.runtime.images()
            except RuntimeUnavailable:
                continue
            if images != self.sent_images:
                self.send(agent_pb2.AgentMessage(images=agent_pb2.ImageInventory(images=images)))
                self.sent_images = images
