"""Real etcd clusters for tests: N members (1 or 3) of Debian's etcd on 127.0.0.1, each with
its own data dir and free ports, TLS everywhere and client-certificate auth (clients and peers
both), the certificates made here with `cryptography` in the test's tmp dir.

    cluster = start_cluster(tmp_path, members=3)
    cluster.endpoints            # ["127.0.0.1:P1", ...]
    cluster.tls                  # orchestra's EtcdTLS(ca, cert, key): what a client presents
    m = cluster.members[0]
    m.kill()                     # SIGKILL; m.stop() is SIGTERM and a wait
    m.pause(); m.resume()        # SIGSTOP / SIGCONT
    m.start()                    # again, on the same data dir and ports
    cluster.close()

Pytest fixtures (import them into a conftest.py to use them there):
    etcd_cluster   one single-member cluster per test session (per xdist worker); tests that
                   share it use their own key prefix (`etcd_prefix`)
    etcd_prefix    a key prefix no other test uses
    etcd_cluster3  a new 3-member cluster for one test: for fault tests, which kill members

Members run with short raft timings (heartbeat 50 ms, election 500 ms) so fault tests are
quick, and with `--max-txn-ops` and `--max-request-bytes` raised as orchestra's store needs
(it sends a transaction's writes as one etcd Txn; see orchestra/store/etcd.py).
"""
from __future__ import annotations

import datetime
import http.client
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from orchestra.store.etcd_client import EtcdTLS

HEARTBEAT_MS = 50
ELECTION_MS = 500
# What orchestra's etcd store needs (orchestra/store/etcd.py says why).
MAX_TXN_OPS = 10_000
MAX_REQUEST_BYTES = 32 * 1024 * 1024
STARTUP_TIMEOUT_S = 30.0


def etcd_binary() -> str:
    path = shutil.which("etcd") or ("/usr/bin/etcd" if os.path.exists("/usr/bin/etcd") else None)
    if path is None:
        raise RuntimeError("etcd is not installed: run `bash scripts/install-etcd.sh`")
    return path


# -- certificates ---------------------------------------------------------------------------------
def _key_pem(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    os.chmod(path, 0o600)
    return str(path)


def make_certificates(directory: Path, client_names: tuple[str, ...] = ("orchestra",)) -> dict[str, EtcdTLS]:
    """A CA, one certificate the members use as servers and as peers (127.0.0.1, localhost),
    and a client certificate per name. Returns {"member": ..., name: ...}."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"etcd test CA {uuid.uuid4().hex[:8]}")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    ca_path = _write(directory / "ca.pem", ca.public_bytes(serialization.Encoding.PEM))

    def leaf(name: str, server: bool) -> EtcdTLS:
        key = ec.generate_private_key(ec.SECP256R1())
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
             .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(later)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
        if server:
            b = b.add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]), critical=False)
        cert = b.sign(ca_key, hashes.SHA256())
        return EtcdTLS(ca=ca_path,
                       cert=_write(directory / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM)),
                       key=_write(directory / f"{name}-key.pem", _key_pem(key)))

    out = {"member": leaf("member", server=True)}
    for name in client_names:
        out[name] = leaf(name, server=False)
    return out


# -- ports ----------------------------------------------------------------------------------------
def free_ports(n: int) -> list[int]:
    """Ports the kernel just handed out and we released: another process may take one before
    etcd binds it, which start_cluster answers by trying again with new ports."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


# -- members --------------------------------------------------------------------------------------
@dataclass
class Member:
    name: str
    client_port: int
    peer_port: int
    data_dir: Path
    log_path: Path
    args: list[str]
    tls: EtcdTLS
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError(f"etcd member {self.name} is not running")
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        """Starts the member (again): same flags, ports and data dir."""
        if self.running():
            return
        log = open(self.log_path, "ab")
        try:
            # Own session: a signal meant for the test runner's group never reaches etcd.
            self.proc = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            log.close()

    def kill(self) -> None:
        """kill -9, and reap it."""
        if self.running():
            os.kill(self.pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)

    def stop(self, timeout: float = 10.0) -> None:
        """A clean stop (SIGTERM), killed if it does not end within `timeout`."""
        if not self.running():
            return
        self.resume()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def pause(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.running():
            os.kill(self.pid, signal.SIGCONT)

    def healthy(self, timeout: float = 2.0) -> bool:
        """The member's /health says it has a leader and serves (GET over mutual TLS)."""
        ctx = ssl.create_default_context(cafile=self.tls.ca)
        ctx.load_cert_chain(self.tls.cert, self.tls.key)
        conn = http.client.HTTPSConnection("127.0.0.1", self.client_port, context=ctx, timeout=timeout)
        try:
            conn.request("GET", "/health")
            resp = conn.getresponse()
            body = resp.read()
            return resp.status == 200 and json.loads(body).get("health") == "true"
        except (OSError, ValueError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class EtcdCluster:
    members: list[Member]
    tls: EtcdTLS                       # the client certificate tests and stores present
    certificates: dict[str, EtcdTLS]
    base_dir: Path
    closed: bool = field(default=False)

    @property
    def endpoints(self) -> list[str]:
        return [m.endpoint for m in self.members]

    @property
    def url(self) -> str:
        """The store URL orchestra takes: etcd://HOST:PORT,HOST:PORT..."""
        return "etcd://" + ",".join(self.endpoints)

    def wait_healthy(self, members: list[Member] | None = None, timeout: float = STARTUP_TIMEOUT_S) -> None:
        """Until every given member (default: all running ones) reports healthy."""
        deadline = time.monotonic() + timeout
        waiting = list(members if members is not None else [m for m in self.members if m.running()])
        while waiting:
            for m in list(waiting):
                if not m.running():
                    raise RuntimeError(f"etcd member {m.name} exited with {m.proc.returncode if m.proc else '?'}:\n"
                                       f"{m.log_tail()}")
                if m.healthy():
                    waiting.remove(m)
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(f"etcd members {[m.name for m in waiting]} not healthy after {timeout:.0f} s:\n"
                                   + "\n".join(m.log_tail() for m in waiting))
            if waiting:
                time.sleep(0.05)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for m in self.members:
            m.resume()
            m.kill()


def _member_args(m_name: str, client_port: int, peer_port: int, data_dir: Path, initial_cluster: str,
                 token: str, certs: EtcdTLS, max_txn_ops: int) -> list[str]:
    tls = ["--cert-file", certs.cert, "--key-file", certs.key, "--trusted-ca-file", certs.ca,
           "--client-cert-auth",
           "--peer-cert-file", certs.cert, "--peer-key-file", certs.key, "--peer-trusted-ca-file", certs.ca,
           "--peer-client-cert-auth"]
    return [etcd_binary(), "--name", m_name, "--data-dir", str(data_dir),
            "--listen-client-urls", f"https://127.0.0.1:{client_port}",
            "--advertise-client-urls", f"https://127.0.0.1:{client_port}",
            "--listen-peer-urls", f"https://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"https://127.0.0.1:{peer_port}",
            "--initial-cluster", initial_cluster, "--initial-cluster-state", "new",
            "--initial-cluster-token", token,
            "--heartbeat-interval", str(HEARTBEAT_MS), "--election-timeout", str(ELECTION_MS),
            "--max-txn-ops", str(max_txn_ops), "--max-request-bytes", str(MAX_REQUEST_BYTES),
            "--auto-compaction-mode", "periodic", "--auto-compaction-retention", "5m",
            "--logger", "zap", "--log-outputs", "stderr", "--log-level", "warn",
            *tls]


def start_cluster(base_dir: Path, members: int = 1, max_txn_ops: int = MAX_TXN_OPS,
                  attempts: int = 3) -> EtcdCluster:
    """Starts `members` etcd members and waits until all are healthy."""
    base_dir = Path(base_dir)
    certs = make_certificates(base_dir / "certs")
    last_error: Exception | None = None
    for attempt in range(attempts):
        ports = free_ports(2 * members)
        names = [f"m{i}" for i in range(members)]
        initial = ",".join(f"{n}=https://127.0.0.1:{ports[2 * i + 1]}" for i, n in enumerate(names))
        token = f"orchestra-test-{uuid.uuid4().hex[:12]}"
        started = []
        for i, n in enumerate(names):
            data = base_dir / f"try{attempt}" / n
            data.mkdir(parents=True, exist_ok=True)
            os.chmod(data, 0o700)
            started.append(Member(name=n, client_port=ports[2 * i], peer_port=ports[2 * i + 1],
                                  data_dir=data, log_path=data.parent / f"{n}.log",
                                  args=_member_args(n, ports[2 * i], ports[2 * i + 1], data, initial, token,
                                                    certs["member"], max_txn_ops),
                                  tls=certs["orchestra"]))
        cluster = EtcdCluster(members=started, tls=certs["orchestra"], certificates=certs, base_dir=base_dir)
        for m in started:
            m.start()
        try:
            cluster.wait_healthy(started)
            return cluster
        except RuntimeError as exc:
            cluster.close()
            last_error = exc
            if "address already in use" not in str(exc):
                raise
    raise RuntimeError(f"could not start etcd after {attempts} attempts: {last_error}")


# -- pytest fixtures ------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def etcd_cluster(tmp_path_factory):
    cluster = start_cluster(tmp_path_factory.mktemp("etcd"), members=1)
    yield cluster
    cluster.close()


@pytest.fixture
def etcd_prefix() -> str:
    return f"/test-{uuid.uuid4().hex[:12]}/"


@pytest.fixture
def etcd_cluster3(tmp_path):
    cluster = start_cluster(tmp_path / "etcd", members=3)
    yield cluster
    cluster.close()
