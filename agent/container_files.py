"""The files a container gets from its configs and secrets, and the variables from its secrets,
kept on a tmpfs of the node (never on its disk) and bound into the container read-only.

Layout, one directory per container (its name, orchestra-<replica>-<incarnation>):

    <dir>/orchestra-web-0-3/v-conf/app.conf      a config volume, bound at its mountPath
    <dir>/orchestra-web-0-3/v-creds/password     a secret volume
    <dir>/orchestra-web-0-3/env/env.sh           `export NAME='value'` per variable from a secret,
                                                 bound at /run/orchestra

Why a tmpfs of the agent's, bound in, rather than Docker's own tmpfs mount: the files must be
there before the container's first process starts, and Docker writes into a container (put
archive) only onto its disk layer, never into a tmpfs mounted in it; the agent writes them
here first, with no process in the container involved, so they work with any image.

Why variables from secrets go through a file: Docker keeps a container's Env in its config on
the node's disk (and `docker inspect` shows it). A container with such variables starts as
`/bin/sh -c '. /run/orchestra/env.sh && exec "$@"' <its command>`, so they exist only in its
processes' memory and in this tmpfs; its image needs a /bin/sh for that (files need nothing).

The directory is checked to be a tmpfs (or ramfs) before anything secret is written into it;
it is owner-only (0700), the files inside are readable by the container's own user (0444), as
Docker's and Kubernetes' secret files are. A container's directory goes when the container
does (the converger sweeps what no container needs).
"""
from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass

from orchestra.api import agent_pb2
from orchestra.spec.names import RESERVED_PATH

ENV_DIR = "env"
ENV_SCRIPT = "env.sh"
COMPLETE = ".complete"            # written last: a directory without it is written again
MEMORY_FILESYSTEMS = ("tmpfs", "ramfs")
# The launcher of a container with variables from secrets: "$@" is its command.
LAUNCH = f'. {RESERVED_PATH}/{ENV_SCRIPT} && exec "$@"'


class FilesError(Exception):
    """The files cannot be written (no tmpfs, no space); str() is the reason the replica reports."""


@dataclass(frozen=True)
class Bind:
    source: str                   # a directory on this node's tmpfs
    target: str                   # where the container sees it
    read_only: bool = True


def default_dir(node: str, state_dir: str = "") -> str:
    """/run/orchestra-agent/<node>-<h> when /run is a tmpfs (systemd hosts), else under /dev/shm; <h>
    names the agent's state directory, so that several agents on one host (a local cluster, tests)
    never share one, and a restarted agent finds its own again."""
    base = "/run" if filesystem_of("/run") in MEMORY_FILESYSTEMS else "/dev/shm"
    h = hashlib.sha256(os.path.abspath(state_dir).encode()).hexdigest()[:8] if state_dir else "default"
    return os.path.join(base, "orchestra-agent", f"{node}-{h}")


def filesystem_of(path: str) -> str:
    """The type of the filesystem `path` is on (its deepest existing ancestor's mount), e.g. tmpfs."""
    path = os.path.realpath(path)
    while not os.path.exists(path):
        path = os.path.dirname(path)
    best, kind = "", ""
    try:
        with open("/proc/self/mounts") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                point = parts[1].replace("\\040", " ").replace("\\011", "\t").replace("\\134", "\\")
                if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= len(best):
                    best, kind = point, parts[2]
    except OSError:
        return ""
    return kind


def needs_files(spec: agent_pb2.ContainerSpec) -> bool:
    return bool(spec.file_mounts or spec.secret_env)


def shell_quote(value: bytes) -> str:
    """A POSIX sh single-quoted word holding `value` exactly (no NUL: the plane refuses those)."""
    return "'" + value.decode("utf-8", "surrogateescape").replace("'", "'\\''") + "'"


class ContainerFiles:
    def __init__(self, directory: str):
        self.directory = os.path.abspath(directory)

    def path_of(self, container_name: str) -> str:
        return os.path.join(self.directory, container_name)

    def binds(self, spec: agent_pb2.ContainerSpec, container_name: str) -> list[Bind]:
        root = self.path_of(container_name)
        out = [Bind(os.path.join(root, f"v-{m.name}"), m.mount_path) for m in spec.file_mounts]
        if spec.secret_env:
            out.append(Bind(os.path.join(root, ENV_DIR), RESERVED_PATH))
        return out

    def ensure(self, spec: agent_pb2.ContainerSpec, container_name: str) -> None:
        """Write the container's files unless they are complete already (they are the same for the
        container's whole life: its content is fixed by its revision). Raises FilesError."""
        if not needs_files(spec):
            return
        root = self.path_of(container_name)
        if os.path.exists(os.path.join(root, COMPLETE)):
            return
        self._check_memory_backed()
        try:
            shutil.rmtree(root, ignore_errors=True)
            os.makedirs(root, mode=0o755)
            for m in spec.file_mounts:
                top = os.path.join(root, f"v-{m.name}")
                os.makedirs(top, mode=0o755, exist_ok=True)
                for entry in m.files:
                    self._write(top, entry.path, entry.content)
            if spec.secret_env:
                lines = [f"export {name}={shell_quote(value)}\n" for name, value in sorted(spec.secret_env.items())]
                self._write(os.path.join(root, ENV_DIR), ENV_SCRIPT, "".join(lines).encode("utf-8", "surrogateescape"))
            self._write(root, COMPLETE, b"")
        except OSError as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise FilesError(f"cannot write the config and secret files on {self.directory}: "
                             f"{exc.strerror or exc}") from exc

    def sweep(self, keep: set[str]) -> list[str]:
        """Remove the directories of containers not in `keep`; returns their names."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        gone = [n for n in names if n not in keep]
        for n in gone:
            shutil.rmtree(os.path.join(self.directory, n), ignore_errors=True)
        return gone

    def _check_memory_backed(self) -> None:
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        kind = filesystem_of(self.directory)
        if kind not in MEMORY_FILESYSTEMS:
            raise FilesError(f"config and secret files must stay off the node's disk, but {self.directory} is on "
                             f"{kind or 'an unknown filesystem'}: start the agent with --secrets-dir on a tmpfs")

    @staticmethod
    def _write(top: str, relative: str, content: bytes) -> None:
        path = os.path.join(top, relative)
        real_top = os.path.realpath(top)
        if os.path.commonpath([real_top, os.path.realpath(path)]) != real_top:
            raise OSError(f"{relative}: outside its volume")   # the plane refuses such paths already
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o444)
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.chmod(path, 0o444)
