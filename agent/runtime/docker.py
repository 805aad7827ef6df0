"""The Docker Engine API, as the agent uses it (agent.runtime.engine_api: HTTP over the engine's
unix socket; not the docker SDK, which cost the agent about 4.7 MiB resident).

Containers are created with the limits, env, command, ports and labels of a ContainerSpec,
and with Docker's own restart policy "no": the agent applies restart policies itself, so
that restarts, back-off and counts are its own and reported to the plane. Every container
runs under an init process (Docker's `init`: docker-init, i.e. tini), so that a PID 1 that
ignores SIGTERM (busybox `sleep`, `httpd`) still stops at once, and carries its grace
period as Docker's own StopTimeout (also what a `docker stop` by hand then waits).

Errors come in two kinds: `RuntimeUnavailable` (the engine does not answer; the agent keeps
retrying and reports `unavailable: <reason>`), and `RuntimeError`s from the engine about one
container (reported on that replica).

Nothing here ever pulls: `image_present()` is checked before a container is created.

Volumes: a replica's named volumes are created with orchestra.* labels before its container
and mounted by name; they outlive the container and are removed only when the plane lists
them for removal. Config and secret files are bound read-only from the agent's tmpfs
(agent.container_files); a container with variables from secrets starts through /bin/sh,
which sets them from that tmpfs: they never enter its stored config.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime
from http.client import HTTPException, IncompleteRead

from agent import labels
from agent.container_files import LAUNCH, ContainerFiles, default_dir
from agent.probes import ImageHealth
from agent.reconciler import Container
from agent.runtime import NETWORK_MODES, docker_exec, engine_api
from agent.runtime.engine_api import EngineError, NotFound, path
from orchestra.api import agent_pb2
from orchestra.security.policy import docker_security_options

# The API of Docker 20.10 (Debian 12's docker.io); newer engines still serve it. A fixed
# version means no round trip when the client is made, so the agent starts without an engine.
API_VERSION = "1.41"
_INSPECT_TTL_S = 30.0     # re-read a container's details at least this often
_EXEC_OUTPUT_MAX = 4096   # of a probe's command
# The health part of a listing's Status ("Up 5 minutes (healthy)"): a change re-inspects.
_HEALTH_IN_STATUS = re.compile(r"\((healthy|unhealthy|health: starting)\)")


class RuntimeUnavailable(Exception):
    """The engine cannot be reached; str() is the reason."""


class ContainerError(RuntimeError):
    """The engine refused an operation on a container; str() says why, for the user."""


class ImageLoadError(RuntimeError):
    """The engine did not load an image archive; str() is its reason."""


# An archive's load may take long after its last byte (the engine unpacks and registers layers).
_LOAD_TIMEOUT_S = 600


class DockerRuntime:
    def __init__(self, base_url: str, node: str, network: str = "bridge",
                 stop_timeout_s: int = 10, timeout_s: int = 30, files_dir: str | None = None):
        """`stop_timeout_s`: the grace period of containers that carry none of their own
        (made by an agent before grace periods came with the spec). `files_dir`: where config
        and secret files are kept, on a tmpfs (default: container_files.default_dir)."""
        self.files = ContainerFiles(files_dir or default_dir(node))
        if network not in NETWORK_MODES:
            raise ValueError(f"network must be one of {', '.join(NETWORK_MODES)}, not {network!r}")
        self.base_url = base_url
        self.node = node
        self.network = network
        self.stop_timeout_s = stop_timeout_s
        # Services (agent.services): the nameserver and search domain containers get, once the node
        # answers service names; and what to wait for before a container's SIGTERM (its open
        # service connections), given the container id and a time limit.
        self.dns: list[str] = []
        self.dns_search: list[str] = []
        self.before_stop = None
        self.timeout_s = timeout_s
        self.engine = engine_api.EngineClient(base_url, API_VERSION, timeout_s)   # ValueError: not unix:// or tcp://
        # id -> (state in the last listing, when inspected, Container)
        self._inspected: dict[str, tuple[str, float, Container]] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.engine.close()

    # -- the engine --

    def version(self) -> str:
        with _translated("version"):
            return (self.engine.get("/version") or {}).get("Version", "")

    def image_present(self, image: str) -> bool:
        with _translated(f"inspect image {image}"):
            try:
                self.engine.get(path("/images/{}/json", image))
                return True
            except NotFound:
                return False

    def images(self) -> list[str]:
        """Every image the engine holds, by repo tag, repo digest and id (GET /images/json)."""
        with _translated("list images"):
            rows = self.engine.get("/images/json") or []
        found = set()
        for row in rows:
            found.update(t for t in (row.get("RepoTags") or ()) if t != "<none>:<none>")
            found.update(d for d in (row.get("RepoDigests") or ()) if not d.startswith("<none>"))
            if row.get("Id"):
                found.add(row["Id"])
        return sorted(found)

    def load_image(self, archive) -> list[str]:
        """Stream an image archive (an iterable of bytes, `docker save` format) into the engine
        (POST /images/load); returns the names it loaded (repo tags, or ids when untagged).
        An exception raised by `archive` aborts the upload: the engine loads nothing of it."""
        loaded: list[str] = []
        stream = None
        try:
            with _translated("load image"):
                stream = self.engine.stream("POST", "/images/load", body=archive, timeout=_LOAD_TIMEOUT_S)
                for line in engine_api.json_stream(stream):
                    if line.get("error"):
                        raise ImageLoadError(str(line["error"]).strip())
                    text = str(line.get("stream", "")).strip()
                    for prefix in ("Loaded image: ", "Loaded image ID: "):
                        if text.startswith(prefix):
                            loaded.append(text[len(prefix):])
        except EngineError as e:
            raise ImageLoadError(_explain(e)) from e
        finally:
            if stream is not None:
                stream.close()
        return loaded

    # -- containers --

    def list_managed(self) -> list[Container]:
        """Every container of this node's agent, with the details the reconciler needs."""
        with _translated("list containers"):
            rows = self.engine.get("/containers/json", {
                "all": 1, "filters": engine_api.filters({"label": labels.selector(self.node)})}) or []
        now = time.monotonic()
        out = []
        ids = set()
        for row in rows:
            cid = row["Id"]
            health = _HEALTH_IN_STATUS.search(row.get("Status") or "")
            state = (row.get("State", ""), health.group(1) if health else "")
            ids.add(cid)
            with self._lock:
                cached = self._inspected.get(cid)
            if cached and cached[0] == state and now - cached[1] < _INSPECT_TTL_S:
                out.append(cached[2])
                continue
            try:
                c = self.inspect(cid)
            except NotFound:
                continue   # removed between the listing and the inspection: gone
            except EngineError:
                # It exists, so it must not go missing from the list (a retired replica is
                # reported Terminating for as long as its container exists): the listing's
                # own details will do until the next inspection.
                out.append(container_from_row(row))
                continue
            with self._lock:
                self._inspected[cid] = (state, now, c)
            out.append(c)
        with self._lock:
            for gone in set(self._inspected) - ids:
                del self._inspected[gone]
        return out

    def inspect(self, container_id: str) -> Container:
        with _translated(f"inspect container {container_id[:12]}"):
            info = self.engine.get(path("/containers/{}/json", container_id))
        return container_from_inspect(info)

    def create(self, spec: agent_pb2.ContainerSpec) -> str:
        """Create (not start) the container of `spec`; returns its id."""
        exposed, bindings = {}, {}
        if self.network == "bridge":
            for p in spec.ports:
                if p.host_port:
                    port = f"{p.container_port}/{p.protocol or 'tcp'}"
                    exposed[port] = {}
                    bindings[port] = [{"HostIp": p.host_ip or "0.0.0.0", "HostPort": str(p.host_port)}]
        host_config = {
            "RestartPolicy": {"Name": "no"},
            "Init": True,
            "NetworkMode": self.network,
            # Safe defaults: no-new-privileges, pids limit, cap_drop ALL + a short list (orchestra.security.policy).
            **_host_config(docker_security_options(spec.read_only_root_fs, spec.add_capabilities)),
        }
        if bindings:
            host_config["PortBindings"] = bindings
        mounts = self._mounts(spec)
        if mounts:
            host_config["Mounts"] = mounts
        if spec.resources.cpu_millis > 0:
            host_config["NanoCpus"] = spec.resources.cpu_millis * 1_000_000
        if spec.resources.memory_bytes > 0:
            # memswap = memory: no swap beyond the limit, so the limit is what it says.
            host_config["Memory"] = host_config["MemorySwap"] = spec.resources.memory_bytes
        if self.dns and self.network != "none":
            host_config["Dns"], host_config["DnsSearch"] = list(self.dns), list(self.dns_search)
        config = {
            "Image": spec.image,
            "Hostname": spec.replica_id,
            "Labels": labels.for_spec(spec, self.node),
            "StopTimeout": max(0, spec.termination_grace_seconds),
            "AttachStdin": False, "AttachStdout": True, "AttachStderr": True,
            "Tty": False, "OpenStdin": False, "StdinOnce": False,
            "HostConfig": host_config,
        }
        if spec.secret_env:
            config["Cmd"], config["Entrypoint"] = self._launched(spec), ["/bin/sh", "-c", LAUNCH, "orchestra-launch"]
        elif spec.command:
            config["Cmd"] = list(spec.command)
        if spec.env:
            config["Env"] = [f"{k}={v}" for k, v in spec.env.items()]
        if exposed:
            config["ExposedPorts"] = exposed
        with _translated(f"create container for {spec.replica_id}"):
            try:
                r = self.engine.post("/containers/create", {
                    "name": labels.container_name(spec.replica_id, spec.incarnation)}, body=config)
            except EngineError as e:
                raise ContainerError(_explain(e)) from e
        return r["Id"]

    def _drain(self, container_id: str, grace_s: int | None) -> None:
        if self.before_stop is not None:
            self.before_stop(container_id, self._grace(grace_s) / 2)

    def _mounts(self, spec: agent_pb2.ContainerSpec) -> list[dict]:
        """Its named volumes (made first, with labels) and the binds of its files (written by the
        converger before the create: agent.container_files)."""
        out = []
        for v in spec.volume_mounts:
            self.ensure_volume(v.volume, spec)
            out.append({"Target": v.mount_path, "Source": v.volume, "Type": "volume", "ReadOnly": v.read_only})
        for b in self.files.binds(spec, labels.container_name(spec.replica_id, spec.incarnation)):
            out.append({"Target": b.target, "Source": b.source, "Type": "bind", "ReadOnly": b.read_only})
        return out

    def _launched(self, spec: agent_pb2.ContainerSpec) -> list[str]:
        """What the container would have run without the launcher: the image's entrypoint with
        the spec's command, or else the image's own command (Docker drops that once an
        entrypoint is given)."""
        with _translated(f"inspect image {spec.image}"):
            try:
                config = self.engine.get(path("/images/{}/json", spec.image)).get("Config") or {}
            except EngineError as e:
                raise ContainerError(_explain(e)) from e
        argv = list(config.get("Entrypoint") or []) + (list(spec.command) or list(config.get("Cmd") or []))
        if not argv:
            raise ContainerError(f"image {spec.image} has no command and the template gives none")
        return argv

    # -- volumes --

    def ensure_volume(self, name: str, spec: agent_pb2.ContainerSpec) -> None:
        """Create the replica's named volume if it is not there (idempotent: Docker answers with the
        existing one)."""
        with _translated(f"create volume {name}"):
            try:
                self.engine.post("/volumes/create", body={"Name": name, "Driver": "local", "DriverOpts": {}, "Labels": {
                    labels.MANAGED: "true", labels.NODE: self.node, labels.WORKLOAD: spec.workload,
                    labels.REPLICA: spec.replica_id}})
            except EngineError as e:
                raise ContainerError(f"volume {name}: {_explain(e)}") from e

    def list_volumes(self) -> set[str]:
        """The names of this node's orchestra volumes."""
        with _translated("list volumes"):
            found = self.engine.get("/volumes", {"filters": engine_api.filters({"label": labels.selector(self.node)})}) or {}
        return {v["Name"] for v in found.get("Volumes") or []}

    def remove_volume(self, name: str) -> None:
        """Deletes the volume and its data; a volume still in use is refused (ContainerError)."""
        with _translated(f"remove volume {name}"):
            try:
                self.engine.delete(path("/volumes/{}", name))
            except NotFound:
                return
            except EngineError as e:
                raise ContainerError(f"volume {name}: {_explain(e)}") from e

    def start(self, container_id: str) -> None:
        self._forget(container_id)
        with _translated(f"start container {container_id[:12]}"):
            try:
                self.engine.post(path("/containers/{}/start", container_id))
            except EngineError as e:
                raise ContainerError(_explain(e)) from e
            finally:
                self._forget(container_id)

    def stop(self, container_id: str, grace_s: int | None = None) -> None:
        """SIGTERM, then SIGKILL after `grace_s` (None: the agent's default); the container
        stays, exited, for a restart."""
        self._forget(container_id)
        self._drain(container_id, grace_s)
        with _translated(f"stop container {container_id[:12]}"):
            try:
                self._stop(container_id, grace_s)
            except NotFound:
                return
            except EngineError as e:
                raise ContainerError(_explain(e)) from e
            finally:
                self._forget(container_id)

    def remove(self, container_id: str, grace_s: int | None = None) -> None:
        """Stop (SIGTERM, then SIGKILL after `grace_s`; None: the agent's default) and remove."""
        self._forget(container_id)
        self._drain(container_id, grace_s)
        with _translated(f"remove container {container_id[:12]}"):
            try:
                self._stop(container_id, grace_s)
            except NotFound:
                return
            except EngineError:
                pass   # removal below forces it
            try:
                self.engine.delete(path("/containers/{}", container_id), {"force": 1})
            except NotFound:
                return
            except EngineError as e:
                raise ContainerError(_explain(e)) from e

    def _stop(self, container_id: str, grace_s: int | None) -> None:
        grace = self._grace(grace_s)
        # The engine answers once the container stopped: up to the grace period, then the SIGKILL.
        self.engine.post(path("/containers/{}/stop", container_id), {"t": grace}, timeout=self.timeout_s + grace)

    def logs(self, container_id: str, tail: int = 0, follow: bool = False):
        """A stream of log bytes (stdout and stderr, demultiplexed) with a close() method
        that ends a follow from another thread. tail <= 0 means everything."""
        with _translated(f"logs of container {container_id[:12]}"):
            try:
                # Docker multiplexes stdout and stderr into frames unless the container has a TTY.
                tty = bool((self.engine.get(path("/containers/{}/json", container_id)).get("Config") or {}).get("Tty"))
                return self.engine.stream("GET", path("/containers/{}/logs", container_id), {
                    "stdout": 1, "stderr": 1, "follow": int(follow), "tail": tail if tail > 0 else "all"},
                    multiplexed=not tty, read_timeout=not follow)
            except EngineError as e:
                raise ContainerError(_explain(e)) from e

    def stats(self, container_id: str) -> dict:
        """One sample without Docker's own second sample (one-shot), so it returns at once;
        the caller computes CPU% from two of its own samples."""
        with _translated(f"stats of container {container_id[:12]}"):
            try:
                stats = self.engine.get(path("/containers/{}/stats", container_id), {"stream": 0, "one-shot": 1})
            except EngineError as e:
                raise ContainerError(_explain(e)) from e
            except (ValueError, IncompleteRead):
                stats = None
            if not isinstance(stats, dict):
                # A container stopping while it is sampled: the engine ends the answer early.
                raise ContainerError("no stats: the container stopped while it was sampled")
            return stats

    def exec_probe(self, container_id: str, command, timeout_s: float) -> tuple[int | None, bytes]:
        """Run `command` in the container (a probe): (exit code, output), with exit code None
        when it did not end within `timeout_s` (it may go on running inside: Docker cannot
        kill an exec)."""
        exec_id = self.exec_create(container_id, command, tty=False, stdin=False)
        with _translated(f"exec in container {container_id[:12]}"):
            try:
                conn = docker_exec.attach(self.base_url, API_VERSION, exec_id, tty=False, timeout_s=self.timeout_s)
            except docker_exec.ExecStartError as e:
                raise ContainerError(str(e)) from e
            closing = threading.Lock()

            def cut() -> None:   # once, from the timer or after the end, whichever is first
                if closing.acquire(blocking=False):
                    conn.close()

            timer = threading.Timer(timeout_s, cut)
            timer.daemon = True
            timer.start()
            output = bytearray()
            frames = docker_exec.FrameParser()
            try:
                while data := conn.read(64 * 1024):
                    for _stream, part in frames.feed(data):
                        if len(output) < _EXEC_OUTPUT_MAX:
                            output += part[:_EXEC_OUTPUT_MAX - len(output)]
            except (OSError, ValueError):
                pass   # cut off at the timeout
            finally:
                timer.cancel()
                cut()
        info = self.exec_inspect(exec_id)
        if info.get("Running") or info.get("ExitCode") is None:
            return None, bytes(output)
        return int(info["ExitCode"]), bytes(output)

    # -- exec for a user (agent/exec.py) --

    def exec_create(self, container_id: str, command, tty: bool, stdin: bool) -> str:
        with _translated(f"exec in container {container_id[:12]}"):
            try:
                return self.engine.post(path("/containers/{}/exec", container_id), body={
                    "AttachStdin": bool(stdin), "AttachStdout": True, "AttachStderr": True, "Tty": bool(tty),
                    "Privileged": False, "User": "", "Cmd": list(command)})["Id"]
            except EngineError as e:
                raise ContainerError(_explain(e)) from e

    def exec_attach(self, exec_id: str, tty: bool) -> docker_exec.ExecConnection:
        """Start the exec; its stream (agent/runtime/docker_exec.py)."""
        try:
            return docker_exec.attach(self.base_url, API_VERSION, exec_id, tty)
        except docker_exec.ExecStartError as e:
            raise ContainerError(str(e)) from e
        except OSError as e:
            raise RuntimeUnavailable(_short(e)) from e

    def exec_inspect(self, exec_id: str) -> dict:
        with _translated(f"inspect exec {exec_id[:12]}"):
            try:
                return self.engine.get(path("/exec/{}/json", exec_id))
            except EngineError as e:
                raise ContainerError(_explain(e)) from e

    def exec_resize(self, exec_id: str, rows: int, cols: int) -> None:
        with _translated(f"resize exec {exec_id[:12]}"):
            try:
                self.engine.post(path("/exec/{}/resize", exec_id), {"h": rows, "w": cols})
            except EngineError as e:
                raise ContainerError(_explain(e)) from e

    def _grace(self, grace_s: int | None) -> int:
        return self.stop_timeout_s if grace_s is None else max(0, grace_s)

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
        # The socket (missing, refused, reset, timed out) or an answer that broke off.
        if isinstance(e, (OSError, HTTPException)):
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


def _explain(e: EngineError) -> str:
    """The engine's own words (its message), without the HTTP framing."""
    return (e.explanation or str(e)).strip()


# docker_security_options' keys (the SDK's names) -> HostConfig's.
_HOST_CONFIG_KEYS = {"security_opt": "SecurityOpt", "pids_limit": "PidsLimit", "cap_drop": "CapDrop",
                     "cap_add": "CapAdd", "read_only": "ReadonlyRootfs", "privileged": "Privileged"}


def _host_config(options: dict) -> dict:
    """orchestra.security.policy's options as the Engine API's HostConfig fields (an option this
    does not know is an error, never silently dropped)."""
    return {_HOST_CONFIG_KEYS[k]: v for k, v in options.items()}


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
    cfg = info.get("Config") or {}
    lab = cfg.get("Labels") or {}
    st = info.get("State") or {}
    grace = cfg.get("StopTimeout")
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
        pid=int(st.get("Pid") or 0),
        ip=_address(info.get("NetworkSettings") or {}),
        health=_image_health(st.get("Health"), cfg.get("Healthcheck")),
        stop_timeout_s=int(grace) if grace is not None else None,
    )


def container_from_row(row: dict) -> Container:
    """What a listing row says of a container (no times, no exit code): for a container that
    cannot be inspected right now."""
    lab = row.get("Labels") or {}
    return Container(
        id=row["Id"],
        replica_id=lab.get(labels.REPLICA, ""),
        incarnation=labels.int_label(lab, labels.INCARNATION),
        template_hash=lab.get(labels.TEMPLATE_HASH, ""),
        revision=labels.int_label(lab, labels.REVISION),
        state=row.get("State", ""),
        created_at_ms=int(row.get("Created") or 0) * 1000,
    )


def _address(net: dict) -> str:
    if net.get("IPAddress"):
        return net["IPAddress"]
    for n in (net.get("Networks") or {}).values():
        if n and n.get("IPAddress"):
            return n["IPAddress"]
    return ""


def _image_health(health: dict | None, check: dict | None) -> ImageHealth | None:
    """Docker's State.Health (only there when the image or container has a HEALTHCHECK)."""
    if not health or not health.get("Status") or health.get("Status") == "none":
        return None
    log = [e for e in health.get("Log") or [] if isinstance(e, dict)]
    passing = 0
    for e in reversed(log):
        if e.get("ExitCode") != 0:
            break
        passing += 1
    test = list((check or {}).get("Test") or [])
    if test and test[0] in ("CMD", "CMD-SHELL"):
        test = test[1:]
    last = log[-1] if log else {}
    return ImageHealth(status=health["Status"], test=" ".join(test),
                       failing_streak=int(health.get("FailingStreak") or 0),
                       passing_streak=passing, output=(last.get("Output") or "").strip(),
                       last_run_ms=parse_time_ms(last.get("End")))
