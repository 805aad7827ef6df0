"""`orchestra server`: run the control plane in the foreground until SIGTERM/SIGINT."""
from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import sys
import threading
import time

import click

from orchestra.spec.model import STRATEGIES
from orchestra.spec.names import address_problem
from orchestra.spec.quantities import QuantityError, parse_duration_ms
from orchestra.store.errors import StoreError, StoreOpenError


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            ms = parse_duration_ms(value)
        except QuantityError as exc:
            self.fail(str(exc), param, ctx)
        if ms <= 0:
            self.fail(f"{value!r} must be more than zero", param, ctx)
        return ms


def bind_problem(listen: str) -> str | None:
    """Try the address with a plain socket first: gRPC's own bind failure comes with log noise on stderr
    that cannot be silenced once gRPC is loaded. None when it looks bindable."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "0.0.0.0"
    if port == "0" and listen.count(":") >= 1:
        return None      # any free port
    problem = address_problem(listen)
    if problem:
        return f"invalid address: {problem}"
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return f"cannot resolve {host!r}: {exc.strerror or exc}"
    family, type_, proto, _, addr = infos[0]
    with socket.socket(family, type_, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return "the address is already in use (another server?)"
            return exc.strerror or str(exc)
    return None


def fail(message: str) -> None:
    click.echo(f"orchestra server: error: {message}", err=True)
    sys.exit(1)


@click.command("server")
@click.option("--listen", default="127.0.0.1:7070", show_default=True, help="host:port to serve gRPC on")
@click.option("--data-dir", default="~/.orchestra/server", show_default=True,
              help="the plane's keys and certificates, and its SQLite state")
@click.option("--store", "store_url", default="", metavar="URL",
              help="where the state lives: SQLite in the data dir (default), or etcd://HOST:PORT[,HOST:PORT...][/PREFIX] "
                   "(several planes may share it: one leads)")
@click.option("--etcd-ca", type=click.Path(dir_okay=False), help="CA certificate that signed the etcd members")
@click.option("--etcd-cert", type=click.Path(dir_okay=False), help="client certificate orchestra presents to etcd")
@click.option("--etcd-key", type=click.Path(dir_okay=False), help="key of --etcd-cert")
@click.option("--name", "plane_name", default="", metavar="NAME",
              help="this plane's name in `orchestra get planes` (default: its advertised address)")
@click.option("--advertise", default="", metavar="HOST:PORT",
              help="where agents and the CLI reach this plane (default: the listen address; 127.0.0.1 for 0.0.0.0)")
@click.option("--plane-token-file", type=click.Path(dir_okay=False), default=None,
              help="etcd store: the cluster's plane token, which opens the keys the planes share (a new plane "
                   "needs it; the first plane writes it to DATA/plane-token; default: $ORCHESTRA_PLANE_TOKEN)")
@click.option("--node-grace", type=Duration(), default="10s", show_default=True,
              help="silence after which a node becomes NotReady")
@click.option("--heartbeat-interval", type=Duration(), default="2s", show_default=True,
              help="heartbeat interval asked of agents")
@click.option("--default-strategy", type=click.Choice(STRATEGIES), default="spread", show_default=True,
              help="placement strategy for workloads that do not choose one")
@click.option("--tls-san", multiple=True, help="extra host name or IP the serving certificate must cover (repeatable)")
@click.option("--allow-capability", multiple=True,
              help="let workloads add this Linux capability beyond the safe list (repeatable), e.g. NET_ADMIN")
@click.option("--metrics-listen", default=None, metavar="HOST:PORT",
              help="serve Prometheus metrics over plain HTTP at http://HOST:PORT/metrics (e.g. 127.0.0.1:9464; "
                   "off unless given)")
def server(listen: str, data_dir: str, node_grace: int, heartbeat_interval: int, default_strategy: str,
           tls_san: tuple[str, ...] = (), allow_capability: tuple[str, ...] = (), store_url: str = "",
           etcd_ca: str | None = None, etcd_cert: str | None = None, etcd_key: str | None = None,
           plane_name: str = "", advertise: str = "", plane_token_file: str | None = None,
           metrics_listen: str | None = None) -> None:
    """Run the orchestra control plane."""
    from orchestra.metrics_endpoint import EndpointError, listen_problem
    if metrics_listen is not None and listen_problem(metrics_listen):
        fail(f"--metrics-listen: {listen_problem(metrics_listen)}")
    if node_grace <= heartbeat_interval:
        fail(f"--node-grace ({node_grace}ms) must be longer than --heartbeat-interval ({heartbeat_interval}ms), "
             f"or every node would keep going NotReady")
    if advertise and address_problem(advertise):
        fail(f"--advertise: {address_problem(advertise)}")
    # gRPC core would print its own complaint next to ours (e.g. a port in use); set before gRPC starts.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from orchestra.server import metrics
    from orchestra.server.follower_gate import FollowerGate
    from orchestra.server.grpc_server import build_server
    from orchestra.server.leadership import CurrentPlane, CurrentStore, PlaneIdentity, PlaneLeadership
    from orchestra.server.plane import Plane
    from orchestra.store.open import open_store

    logging.basicConfig(level=os.environ.get("ORCHESTRA_LOG", "WARNING"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        data, store = open_store(store_url, data_dir, etcd_ca, etcd_cert, etcd_key)
    except StoreOpenError as exc:
        fail(str(exc))
    etcd = getattr(store, "client", None) is not None
    leadership = None
    made = None
    try:
        if etcd:   # the planes share the cluster CA and secrets key through the store, sealed
            from orchestra.security.cluster_keys import ClusterKeysError, read_token, share
            try:
                made = share(data.path, store, plane_name or advertise or listen,
                             read_token(plane_token_file), lambda: int(time.time() * 1000))
            except (ClusterKeysError, OSError) as exc:
                fail(f"the cluster's shared keys: {exc}")
        from orchestra.security.secret_box import SecretBox, SecretKeyError
        try:   # the key secrets are sealed with, beside the PKI (orchestra.security.secret_box); with etcd,
            # the cluster's one key that share() just wrote, so a secret sealed by one leader opens on the next
            box = SecretBox.load_or_create(os.path.join(data.path, "pki"))
        except (SecretKeyError, OSError) as exc:
            fail(f"secrets key in {data.path}/pki: {exc}")
        me = PlaneIdentity(name=plane_name)
        policy = {}

        def make_plane(cache):
            plane = Plane(cache, node_grace_ms=node_grace, heartbeat_interval_ms=heartbeat_interval,
                          default_strategy=default_strategy, secret_box=box)
            plane.service.security_policy = policy["policy"]
            return plane

        election = None
        if etcd:
            from orchestra.store.etcd_election import Election
            election = Election(store.client, prefix=store.prefix)
        leadership = PlaneLeadership(store, me, make_plane, election=election, client=getattr(store, "client", None),
                                     store_kind="etcd" if etcd else "sqlite")
        # Security: CA, serving cert, admin config, node token in the data dir; TLS-only port.
        from orchestra.security.ca import CertificateError
        from orchestra.security.plane_pki import client_address
        from orchestra.security.plane_security import plane_security
        from orchestra.security.policy import PolicyError
        hosts = (*tls_san, *([advertise.rpartition(":")[0].strip("[]")] if advertise else ()))
        try:
            sec = plane_security(data.path, listen, CurrentStore(leadership), extra_hosts=hosts,
                                 allow_capabilities=allow_capability)
        except OSError as exc:
            full = exc.errno == errno.ENOSPC
            fail(f"{'disk full: ' if full else ''}cannot write the keys and certificates in {data.path}: "
                 f"{exc.strerror or exc}")
        except (CertificateError, PolicyError) as exc:
            fail(f"security setup in {data.path}: {exc}")
        policy["policy"] = sec.policy
        problem = bind_problem(listen)
        if problem:
            fail(f"cannot listen on {listen}: {problem}")
        try:
            current = CurrentPlane(leadership)
            grpc_server, port = build_server(current, listen, join=sec.join,
                                             interceptors=[metrics.ApiMetrics(), *sec.interceptors,
                                                           FollowerGate(leadership)],
                                             extra_handlers=sec.handlers, tls=sec.tls)
        except (OSError, RuntimeError) as exc:
            reason = "the address is in use or not available here" if "bind" in str(exc).lower() else str(exc)
            fail(f"cannot listen on {listen}: {reason}")
        me.address = advertise or client_address(listen, port)
        me.name = plane_name or me.address
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        try:
            metrics_url = metrics.serve(current, metrics_listen) if metrics_listen else ""
        except EndpointError as exc:
            fail(f"--metrics-listen: {exc}")
        grpc_server.start()
        leadership.start()
        if not etcd and not leadership.wait_leading(120):   # the sole plane serves before it says it listens
            fail(f"the plane could not start: {leadership.why_not}")
        host = listen.rsplit(":", 1)[0]
        admin_conf = sec.pki.write_admin_config(me.address)   # before we say we listen
        click.echo(f"orchestra server listening on {host}:{port} (data dir {data.path})"
                   + (f"; plane {me.name} of the store {store_url}" if etcd else ""))
        if metrics_url:
            click.echo(f"metrics: {metrics_url}")
        click.echo(f"admin client config: {admin_conf} (use: export ORCHESTRA_CONFIG={admin_conf}); "
                   f"join token for agents: {sec.node_token_path}")
        if made is not None:
            click.echo(f"plane token (another plane of this cluster needs it: --plane-token-file {made})")
        sys.stdout.flush()
        while not stop.wait(1.0):
            pass
        leadership.stop()
        leadership = None
        grpc_server.stop(grace=2).wait(5)
    except StoreError as exc:
        fail(str(exc))
    finally:
        if leadership is not None:
            leadership.stop()
        store.close()
        data.release()
