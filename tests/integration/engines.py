"""Real Docker engines for tests: one dockerd per simulated node, each in its own network
and mount namespace (see /work/shared/ENVIRONMENT.md).

A small holder process owns the namespaces (`unshare --net --mount --fork`, loopback up,
then `sleep`), and dockerd is started inside them with `nsenter`. Keeping the namespaces
apart from dockerd lets a test stop the engine and start it again on the same data and the
same network (to see how the agent behaves while its engine is down).

Nothing can leave such an engine: its namespace has only loopback, so an accidental pull
fails at DNS instead of sending traffic off the machine. Containers have loopback only; a
test that needs a listening port uses network_mode=host and reaches it with
`engine.run_in_netns([...])` (nsenter into the engine's namespace).

Every engine has a unique cgroup parent, so the containers of parallel test runs never share
a cgroup directory; `stop()` removes those directories again.
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
import docker.errors

BUSYBOX_IMAGE = "local/busybox:1"
REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "scripts" / "build-busybox-image.sh"
CGROUP_ROOT = Path("/sys/fs/cgroup")

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class EngineError(RuntimeError):
    pass


class EngineClient(docker.DockerClient):
    """docker.DockerClient that closes itself at the end of a `with` block."""

    def __enter__(self) -> "EngineClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass
class Engine:
    """A running (or stopped) dockerd in its own namespaces. Use `start_engine()`."""

    name: str
    root: Path                      # everything of this engine lives under here
    cgroup_parent: str
    bridge: bool = False            # Docker's default bridge network (inside the namespace)
    holder: subprocess.Popen | None = None
    daemon: subprocess.Popen | None = None
    _log: object = field(default=None, repr=False)

    @property
    def socket(self) -> Path:
        return self.root / "sock"

    @property
    def host(self) -> str:
        """DOCKER_HOST value for this engine."""
        return f"unix://{self.socket}"

    @property
    def log_path(self) -> Path:
        return self.root / "dockerd.log"

    @property
    def netns_pid(self) -> int:
        """A PID inside the engine's network namespace (for nsenter -t PID -n)."""
        if self.holder is None:
            raise EngineError(f"engine {self.name} has no namespace holder")
        return _holder_child_pid(self.holder.pid)

    @property
    def running(self) -> bool:
        return self.daemon is not None and self.daemon.poll() is None

    def client(self, timeout: int = 60) -> "EngineClient":
        """A docker SDK client of this engine; also a context manager that closes it."""
        return EngineClient(base_url=self.host, timeout=timeout)

    def run_in_netns(self, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
        """Run a host command inside this engine's network namespace."""
        return subprocess.run(["nsenter", "-t", str(self.netns_pid), "-n", *argv], **kwargs)

    # -- daemon lifecycle (the namespaces stay) --

    def start_daemon(self) -> None:
        if self.running:
            return
        for d in ("data", "exec"):
            (self.root / d).mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")
        argv = [
            "nsenter", "-t", str(self.netns_pid), "-n", "-m", "--",
            "dockerd",
            "--data-root", str(self.root / "data"),
            "--exec-root", str(self.root / "exec"),
            "--pidfile", str(self.root / "dockerd.pid"),
            "-H", self.host,
            # No iptables rules and no NAT: published ports go through docker-proxy, and the
            # bridge (when asked for) exists only inside this namespace.
            *([] if self.bridge else ["--bridge=none"]),
            "--iptables=false", "--ip-masq=false", "--ip-forward=false",
            "--cgroup-parent", self.cgroup_parent,
            "--exec-opt", "native.cgroupdriver=cgroupfs",
            "--storage-driver", "overlay2",
            # Test containers (often `sleep`, deaf to SIGTERM) need not delay a stop by 10 s.
            "--shutdown-timeout", "2",
            # One engine per test must not read the host's /etc/docker/daemon.json.
            "--config-file", str(self._empty_config()),
        ]
        # nsenter without --fork execs dockerd itself, so daemon.pid is dockerd's PID.
        self.daemon = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
        self._wait_ready()

    def stop_daemon(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM dockerd (it stops its containers and its containerd), SIGKILL on timeout."""
        if self.daemon is None:
            return
        proc, self.daemon = self.daemon, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def kill_daemon(self) -> None:
        """SIGKILL dockerd: the engine disappears the way a crash would make it."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait(10)
        self.daemon = None
        # Its containerd dies too but stays a zombie when nothing reaps orphans (no init as
        # PID 1 here); a new dockerd would take the old pid file for a live containerd and
        # wait for it forever. The socket files are replaced by the next start.
        (self.root / "exec" / "containerd" / "containerd.pid").unlink(missing_ok=True)

    def stop(self) -> None:
        """Stop dockerd, everything left in the namespaces, the holder; remove all files."""
        try:
            self._kill_containers()
            self.stop_daemon()
        finally:
            if self.holder is not None:
                self._kill_namespace_processes()
                if self.holder.poll() is None:
                    self.holder.kill()
                self.holder.wait(10)
                self.holder = None
            _remove_cgroups(self.cgroup_parent)
            shutil.rmtree(self.root, ignore_errors=True)
            _running.pop(self.name, None)

    # -- internals --

    def _kill_containers(self) -> None:
        """SIGKILL what still runs: dockerd would give each container 10 s to stop."""
        if not self.running:
            return
        try:
            c = docker.DockerClient(base_url=self.host, timeout=10)
            try:
                for ct in c.api.containers(filters={"status": "running"}):
                    try:
                        c.api.kill(ct["Id"])
                    except docker.errors.APIError:
                        pass
            finally:
                c.close()
        except Exception:   # the engine may be wedged; stop_daemon deals with that
            pass

    def _empty_config(self) -> Path:
        p = self.root / "daemon.json"
        if not p.exists():
            p.write_text("{}\n")
        return p

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.daemon is None or self.daemon.poll() is not None:
                raise EngineError(f"dockerd of engine {self.name} exited: {self._log_tail()}")
            if self.socket.exists():
                try:
                    c = docker.DockerClient(base_url=self.host, timeout=5)
                    try:
                        c.ping()
                        return
                    finally:
                        c.close()
                except Exception as e:  # not answering yet
                    last = e
            time.sleep(0.2)
        self.stop_daemon()
        raise EngineError(f"dockerd of engine {self.name} did not answer within "
                          f"{START_TIMEOUT_S:.0f}s ({last}): {self._log_tail()}")

    def _log_tail(self, n: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def _kill_namespace_processes(self) -> None:
        """Container shims can outlive a dockerd killed hard; they are ours (same netns)."""
        try:
            ns = os.readlink(f"/proc/{self.netns_pid}/ns/net")
        except (OSError, EngineError):
            return
        me = os.getpid()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) in (me, self.holder.pid):
                continue
            try:
                if os.readlink(f"/proc/{entry}/ns/net") == ns:
                    os.kill(int(entry), signal.SIGKILL)
            except (OSError, ProcessLookupError):
                pass


def start_engine(name: str | None = None, base_dir: str | Path | None = None,
                 bridge: bool = False) -> Engine:
    """Start a dockerd in fresh namespaces and wait until it answers. With `bridge`, the engine
    has Docker's default bridge network (containers get an address, ports can be published);
    without, containers have loopback only (or the namespace's loopback with network host).

    The engine's files go to a new directory under `base_dir` (default: the system temp dir).
    Paths are kept short because containerd's socket path must fit in 108 bytes.
    """
    suffix = uuid.uuid4().hex[:8]
    name = name or f"eng-{suffix}"
    root = Path(tempfile.mkdtemp(prefix=f"oe-{suffix}-", dir=base_dir))
    engine = Engine(name=name, root=root, cgroup_parent=f"/orchestra-test-{suffix}", bridge=bridge)
    try:
        # The holder owns the namespaces; `exec sleep` keeps it cheap and killable by PID.
        engine.holder = subprocess.Popen(
            ["unshare", "--net", "--mount", "--fork", "--propagation", "private", "--",
             "sh", "-c", "ip link set lo up && exec sleep infinity"],
            stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_for(lambda: _holder_ready(engine.holder.pid), 10, "namespace holder")
        engine.start_daemon()
    except BaseException:
        engine.stop()
        raise
    _running[engine.name] = engine
    return engine


class EnginePool:
    """Engines started on demand: `pool(n, image=True, bridge=False)` starts n more (local/busybox:1
    imported unless image=False) and returns them; `stop()` ends every one it started. The
    `engines` fixture and the cluster benchmarks use it as the harness's engine factory."""

    def __init__(self) -> None:
        self.started: list[Engine] = []

    def __call__(self, n: int = 1, image: bool = True, bridge: bool = False) -> list[Engine]:
        new = []
        for _ in range(n):
            e = start_engine(bridge=bridge)
            self.started.append(e)
            if image:
                import_busybox(e, BUSYBOX_IMAGE)
            new.append(e)
        return new

    def stop(self) -> None:
        """Stops them all, also when one fails to stop; then says which did."""
        errors = []
        for e in self.started:
            try:
                e.stop()
            except Exception as exc:  # stop the others anyway
                errors.append(f"{e.name}: {exc}")
        if errors:
            raise RuntimeError("engines did not stop cleanly: " + "; ".join(errors))


# Engines still running when the interpreter exits (a test run interrupted between a start
# and its fixture's teardown) are stopped then, so no dockerd outlives its test run.
_running: dict[str, Engine] = {}


@atexit.register
def _stop_leftovers() -> None:
    for e in list(_running.values()):
        try:
            e.stop()
        except Exception:   # stop the others anyway
            pass


def import_busybox(engine: Engine, image: str = BUSYBOX_IMAGE) -> None:
    """Import the busybox image into `engine` (idempotent), with the project's script."""
    r = subprocess.run(["bash", str(BUILD_SCRIPT), engine.host, image],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise EngineError(f"importing {image} into {engine.name} failed: {r.stderr.strip()}")


def _holder_child_pid(unshare_pid: int) -> int:
    """unshare --fork runs the command as its child; that child lives in the namespaces."""
    try:
        children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text().split()
    except OSError as e:
        raise EngineError(f"namespace holder {unshare_pid} is gone") from e
    if not children:
        raise EngineError(f"namespace holder {unshare_pid} has no child yet")
    return int(children[0])


def _holder_ready(unshare_pid: int) -> bool:
    try:
        child = _holder_child_pid(unshare_pid)
        # Ready once the child has exec'd sleep (loopback is up by then).
        return Path(f"/proc/{child}/comm").read_text().strip() == "sleep"
    except (EngineError, OSError):
        return False


def _wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    raise EngineError(f"{what} not ready within {timeout:.0f}s")


def _remove_cgroups(parent: str) -> None:
    """Remove the engine's cgroup parent in every v1 hierarchy (deepest first)."""
    rel = parent.strip("/")
    if not rel:
        return
    for hierarchy in CGROUP_ROOT.iterdir():
        top = hierarchy / rel
        if not top.is_dir():
            continue
        dirs = sorted((p for p in top.rglob("*") if p.is_dir()), key=lambda p: len(p.parts),
                      reverse=True)
        for d in [*dirs, top]:
            try:
                d.rmdir()
            except OSError:
                pass
