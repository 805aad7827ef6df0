"""SSH to lab nodes with paramiko, turning paramiko's failures into messages that say
what to fix (wrong port, host down, key rejected, unreadable key)."""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
import socket
import stat

import paramiko


class LabError(Exception):
    """A failure the user can act on; the message says what went wrong and where."""


_TARGET = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+)(?::(?P<port>\d+))?$")


@dataclasses.dataclass(frozen=True)
class SSHTarget:
    user: str
    host: str
    port: int = 22

    @classmethod
    def parse(cls, text: str) -> "SSHTarget":
        m = _TARGET.match(text.strip())
        if not m:
            raise LabError(f"bad --ssh {text!r}: expected USER@HOST[:PORT], e.g. vagrant@127.0.0.1:2222")
        port = int(m["port"] or 22)
        if not 0 < port < 65536:
            raise LabError(f"bad --ssh {text!r}: port {port} is out of range")
        return cls(m["user"], m["host"].strip("[]"), port)

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


@dataclasses.dataclass
class Result:
    status: int
    stdout: str
    stderr: str


def load_key(path: str) -> paramiko.PKey:
    if not os.path.isfile(path):
        raise LabError(f"ssh key {path} does not exist")
    errors = []
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key_file(path)
        except paramiko.PasswordRequiredException:
            raise LabError(f"ssh key {path} is encrypted; use a key without a passphrase") from None
        except (paramiko.SSHException, ValueError) as e:
            errors.append(str(e))
        except OSError as e:
            raise LabError(f"cannot read ssh key {path}: {e}") from None
    raise LabError(f"{path} is not a private key paramiko can read (ed25519, ecdsa or rsa)")


class Node:
    """An open SSH connection to one lab node."""

    def __init__(self, target: SSHTarget, key_path: str, timeout: float = 20.0):
        self.target = target
        key = load_key(key_path)
        client = paramiko.SSHClient()
        # Lab VMs make fresh host keys on every create; there is nothing to pin against.
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        try:
            client.connect(target.host, port=target.port, username=target.user, pkey=key,
                           timeout=timeout, banner_timeout=timeout, auth_timeout=timeout,
                           allow_agent=False, look_for_keys=False)
        except paramiko.AuthenticationException:
            client.close()
            raise LabError(f"{target}: the key {key_path} was rejected for user {target.user}") from None
        except (socket.timeout, TimeoutError):
            client.close()
            raise LabError(f"{target}: no answer within {timeout:.0f} s (host down or port filtered?)") from None
        except (ConnectionRefusedError, paramiko.ssh_exception.NoValidConnectionsError):
            client.close()
            raise LabError(f"{target}: connection refused (nothing listens on port {target.port})") from None
        except socket.gaierror as e:
            client.close()
            raise LabError(f"{target}: unknown host ({e.strerror})") from None
        except (OSError, paramiko.SSHException) as e:
            client.close()
            raise LabError(f"{target}: cannot connect: {e}") from None
        self.client = client

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, command: str, *, sudo: bool = False, check: bool = True,
            stdin: bytes | None = None, timeout: float = 600.0) -> Result:
        """Runs `command` through sh in the guest (as root with sudo)."""
        if sudo:
            command = "sudo -n sh -c " + shlex.quote(command)
        chan = self.client.get_transport().open_session(timeout=30)
        chan.settimeout(timeout)
        chan.exec_command(command)
        if stdin is not None:
            chan.sendall(stdin)
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        while True:
            if chan.recv_ready():
                out += chan.recv(65536)
            elif chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
            elif chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            else:
                chan.status_event.wait(0.05)
        status = chan.recv_exit_status()
        chan.close()
        res = Result(status, out.decode(errors="replace"), err.decode(errors="replace"))
        if check and status != 0:
            detail = (res.stderr.strip() or res.stdout.strip())[-2000:]
            raise LabError(f"{self.target}: `{command}` failed with status {status}: {detail}")
        return res

    def put_files(self, local_paths: list[str], remote_dir: str, always: tuple[str, ...] = ()) -> int:
        """Copies files into remote_dir (created), skipping those already there with the
        same size (unless listed in `always`); returns how many were copied. Dependency wheel
        names carry their version, so a same-named, same-sized one is the same wheel."""
        sftp = self.client.open_sftp()
        try:
            self.run(f"mkdir -p {shlex.quote(remote_dir)}")
            present = {a.filename: a.st_size for a in sftp.listdir_attr(remote_dir)
                       if stat.S_ISREG(a.st_mode or 0)}
            copied = 0
            for p in local_paths:
                name = os.path.basename(p)
                if p not in always and present.get(name) == os.path.getsize(p):
                    continue
                sftp.put(p, f"{remote_dir}/{name}")
                copied += 1
            return copied
        finally:
            sftp.close()

    def write_file(self, remote_path: str, content: str, *, mode: int = 0o644) -> None:
        """Writes a root-owned file through sudo (the login user cannot write /etc)."""
        self.run(f"install -D -m {mode:o} /dev/stdin {shlex.quote(remote_path)}", sudo=True,
                 stdin=content.encode())
