"""The Docker Engine API, as the agent uses it (docker SDK, low-level client).

Containers are created with the limits, env, command, ports and labels of a ContainerSpec,
and with Docker's own restart policy "no": the agent applies restart policies itself, so
that restarts, back-off and counts are its own and reported to the plane.

Errors come in two kinds: `RuntimeUnavailable` (the engine does not answer; the agent keeps
retrying and reports `unavailable: <reason>`), and `RuntimeError`s from the engine about one
container (reported on that replica).

Nothing here ever pulls: `image_present()` is checked before a container is created.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime
import docker
import docker.errors
import requests.exceptions

from agent import labels
from agent.reconciler import Container
from agent.runtime import NETWORK_MODES
from orchestra.api import agent_pb2
from orchestra.security.policy import docker_security_options

# The API of Docker 20.10 (Debian 12's docker.io); newer engines still serve it. A fixed
# version means no round trip when the client is made, so the agent starts without an engine.
API_VERSION = "1.41"
_INSPECT_TTL_S = 30.0     # re-read a container's details at least this often


class RuntimeUnavailable(Exception):
    """The engine cannot be reached; str() is the reason."""


class ContainerError(RuntimeError):
    """The engine refused an operation on a container; str() says why, for the user."""


class DockerRuntime:
    def __init__(self, base_url: str, node: str, network: str = "bridge",
                 stop_timeout_s: int = 10, timeout_s: int = 30):
        if network not in NETWORK_MODES:
            raise ValueError(f"network must be one of {', '.join(NETWORK_MODES)}, not {network!r}")
        self.base_url = base_url
        self.node = node
        self.network = network
        self.stop_timeout_s = stop_timeout_s
        self.api = docker.APIClient(base_url=base_url, version=API_VERSION, timeout=timeout_s,
                                    max_pool_size=32)
        # id -> (state in the last listing, when inspected, Container)
        self._inspected: dict[str, tuple[str, float, Container]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.api.close()

    # -- the engine --

    def version(self) -> str:
        with _translated("version"):
            return self.api.version().get("Version", "")

    def image_present(self, image: str) -> bool:
        with _translated(f"inspect image {image}"):
            try:
                self.api.inspect_image(image)
                return True
            except docker.errors.ImageNotFound:
                return False
            except docker.errors.NotFound:
                return False

    # -- containers --

    def list_managed(self) -> list[Container]:
        """Every container of this node's agent, with the details the reconciler needs."""
        with _translated("list containers"):
            rows = self.api.containers(all=True, filters={"label": labels.selector(self.node)})
        now = time.monotonic()
        out = []
        ids = set()
        for row in rows:
            cid, state = row["Id"], row.get("State", "")
            ids.add(cid)
            with self._lock:
                cached = self._inspected.get(cid)
            if cached and cached[0] == state and now - cached[1] < _INSPECT_TTL_S:
                out.append(cached[2])
                continue
            try:
                c = self.inspect(cid)
            except ContainerError:
                continue   # removed between the listing and the inspection
            with self._lock:
                self._inspected[cid] = (state, now, c)
            out.append(c)
        with self._lock:
            for gone in set(self._inspected) - ids:
                del self._inspected[gone]
        return out

    def inspect(self, container_id: str) -> Container:
        with _translated(f"inspect container {container_id[:12]}"):
            info = self.api.inspect_container(container_id)
        return container_from_inspect(info)

    def create(self, spec: agent_pb2.ContainerSpec) -> str:
        """Create (not start) the container of `spec`; returns its id."""
        ports, bindings = [], {}
        if self.network == "bridge":
            for p in spec.ports:
                if p.host_port:
                    proto = p.protocol or "tcp"
                    ports.append((p.container_port, proto))
                    bindings[f"{p.container_port}/{proto}"] = (p.host_ip or "0.0.0.0", p.host_port)
        limits = {}
        if spec.resources.cpu_millis > 0:
            limits["nano_cpus"] = spec.resources.cpu_millis * 1_000_000
        if spec.resources.memory_bytes > 0:
            # memswap = memory: no swap beyond the limit, so the limit is what it says.
            limits["mem_limit"] = spec.resources.memory_bytes
            limits["memswap_limit"] = spec.resources.memory_bytes
        host_config = self.api.create_host_config(
            restart_policy={"Name": "no"},
            network_mode=self.network,
            port_bindings=bindings or None,
            # Safe defaults: no-new-privileges, pids limit, cap_drop ALL + a short list (orchestra.security.policy).
            **docker_security_options(spec.read_only_root_fs, spec.add_capabilities),
            **limits,
        )
        with _translated(f"create container for {spec.replica_id}"):
            try:
                r = self.api.create_container(
                    image=spec.image,
                    command=list(spec.command) or None,
                    environment=dict(spec.env) or None,
                    labels=labels.for_spec(spec, self.node),
                    name=labels.container_name(spec.replica_id, spec.incarnation),
                    ports=ports or None,
                    host_config=host_config,
                )
            except docker.errors.APIError as e:
                raise ContainerError(_explain(e)) from e
        return r["Id"]

    def start(self, container_id: str) -> None:
        self._forget(container_id)
        with _translated(f"start container {container_id[:12]}"):
            try:
                self.api.start(container_id)
            except docker.errors.APIError as e:
                raise ContainerError(_explain(e)) from e
            finally:
                self._forget(container_id)

    def remove(self, container_id: str) -> None:
        """Stop (SIGTERM, then SIGKILL after the stop timeout) and remove."""
        self._forget(container_id)
        with _translated(f"remove container {container_id[:12]}"):
            try:
                self.api.stop(container_id, timeout=self.stop_timeout_s)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                pass   # removal below forces it
            try:
                self.api.remove_container(container_id, force=True)
            except docker.errors.NotFound:
                return
            except docker.errors.APIError as e:
                raise ContainerError(_explain(e)) from e

    def logs(self, container_id: str, tail: int = 0, follow: bool = False):
        """A stream of log bytes (stdout and stderr, demultiplexed) with a close() method
        that ends a follow from another thread. tail <= 0 means everything."""
        with _translated(f"logs of container {container_id[:12]}"):
            try:
                return self.api.logs(container_id, stdout=True, stderr=True, stream=True,
                                     follow=follow, tail=tail if tail > 0 else "all")
            except docker.errors.APIError as e:
                raise ContainerError(_explain(e)) from e

    def stats(self, container_id: str) -> dict:
        """One sample without Docker's own second sample (one-shot), so it returns at once;
        the caller computes CPU% from two of its own samples."""
        with _translated(f"stats of container {container_id[:12]}"):
            try:
                return self.api.stats(container_id, stream=False, one_shot=True)
            except docker.errors.APIError as e:
                raise ContainerError(_explain(e)) from e

    def _forget(self, container_id: str) -> None:
        with self._lock:
            self._inspected.pop(container_id, None)


class _translated:
    """Turns 'cannot reach the engine' into RuntimeUnavailable with a short reason."""

    def __init__(self, what: str):
        self.what = what

    def __enter__(self):
        return self

    def __exit__(self, et, e, tb):
        if e is None:
            return False
        if isinstance(e, (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                          ConnectionError, FileNotFoundError)):
            raise RuntimeUnavailable(_short(e)) from e
        if isinstance(e, docker.errors.DockerException) and not isinstance(e, docker.errors.APIError):
            raise RuntimeUnavailable(_short(e)) from e
        return False


def _short(e: BaseException) -> str:
    text = str(e)
    for hint, reason in (("No such file or directory", "engine socket not found"),
                         ("Connection refused", "connection refused"),
                         ("Read timed out", "engine did not answer in time"),
                         ("timed out", "engine did not answer in time")):
        if hint in text:
            return reason
    return text.splitlines()[0][:200] if text else type(e).__name__


def _explain(e: docker.errors.APIError) -> str:
    """The engine's own words (its explanation), without the HTTP framing."""
    msg = e.explanation if isinstance(e.explanation, str) and e.explanation else str(e)
    if isinstance(msg, bytes):
        msg = msg.decode(errors="replace")
    return msg.strip()


def parse_time_ms(text: str | None) -> int:
    """Docker's RFC 3339 timestamps with nanoseconds -> epoch ms; its zero time -> 0."""
    if not text or text.startswith("0001-01-01"):
        return 0
    main, _, rest = text.partition(".")
    frac, tz = "0", "Z"
    if rest:
        digits = ""
        for i, ch in enumerate(rest):
            if not ch.isdigit():
                tz = rest[i:]
                break
            digits += ch
        frac = digits or "0"
    elif main.endswith("Z"):
        main = main[:-1]
    elif len(main) > 19:
        main, tz = main[:19], main[19:]
    if tz == "Z":
        tz = "+00:00"
    dt = datetime.fromisoformat(main + tz)
    return int(dt.timestamp()) * 1000 + int((frac + "000")[:3])


def container_from_inspect(info: dict) -> Container:
    lab = (info.get("Config") or {}).get("Labels") or {}
    st = info.get("State") or {}
    return Container(
        id=info["Id"],
        replica_id=lab.get(labels.REPLICA, ""),
        incarnation=labels.int_label(lab, labels.INCARNATION),
        template_hash=lab.get(labels.TEMPLATE_HASH, ""),
        revision=labels.int_label(lab, labels.REVISION),
        state=st.get("Status", ""),
        exit_code=int(st.get("ExitCode") or 0),
        started_at_ms=parse_time_ms(st.get("StartedAt")),
        finished_at_ms=parse_time_ms(st.get("FinishedAt")),
        created_at_ms=parse_time_ms(info.get("Created")),
        oom_killed=bool(st.get("OOMKilled")),
        error=st.get("Error") or "",
    )
