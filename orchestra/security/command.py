"""`orchestra token create|list|revoke` and `orchestra certificate revoke`: admin commands that
call the plane's Security service with the client config (see client_config.py)."""
from __future__ import annotations

import sys

import click
import grpc

from orchestra.security.client_config import ConfigError, load_client_config
from orchestra.security.tokens import TokenError, format_ms, parse_duration, parse_labels

RPC_TIMEOUT = 15.0


def _fail(message: str) -> None:
    # The CLI's style: one line on stderr, prefixed `orchestra:`, exit 1.
    click.echo(f"orchestra: {message}", err=True)
    sys.exit(1)


def _config_option(ctx: click.Context) -> str | None:
    """--config given to this group, else to any parent command (the main CLI's global option)."""
    c = ctx
    while c is not None:
        value = c.params.get("config") or c.params.get("config_path")
        if value:
            return value
        if isinstance(c.obj, dict) and c.obj.get("config"):
            return c.obj["config"]
        c = c.parent
    return None


class _Conn:
    """Where the Security calls go: the main CLI's resolved target (--server, $ORCHESTRA_SERVER, the
    client config) when run under `orchestra`, else the client config alone."""

    def __init__(self, ctx: click.Context):
        root = ctx.find_root()
        cli_run = root.obj.get("cli") if isinstance(root.obj, dict) else None
        group_config = ctx.parent.params.get("config_path") if ctx.parent is not None else None
        if cli_run is not None and not group_config:
            try:
                target = cli_run.target
            except Exception as e:                  # the CLI's own error type: one line, exit 1
                _fail(str(e))
            if target.tls is None:
                _fail(f"this command needs the admin's client certificate: {target.config_problem}")
            self.server, self.tls, self.path = target.address, target.tls, target.config_path
            self._describe = target.failure
            self._target = target
        else:
            self._target = None
            try:
                cfg = load_client_config(group_config or _config_option(ctx))
            except ConfigError as e:
                _fail(str(e))
            self.server, self.tls, self.path = cfg.server.split(",")[0].strip(), cfg.tls, str(cfg.path)
            self._describe = None

    def stub(self):
        from orchestra import transport
        from orchestra.api import security_pb2_grpc
        return security_pb2_grpc.SecurityStub(transport.client_channel(self.server, self.tls))

    def call(self, method: str, request):
        if self._target is not None:    # the main CLI's connection: it finds the leading plane
            from orchestra.api import security_pb2_grpc
            from orchestra.cli.failure import CliError
            try:
                return self._target.call(method, request, timeout=RPC_TIMEOUT, stub=security_pb2_grpc.SecurityStub)
            except CliError as e:
                _fail(str(e))
        try:
            return getattr(self.stub(), method)(request, timeout=RPC_TIMEOUT)
        except grpc.RpcError as e:
            if self._describe is not None:
                _fail(str(self._describe(e)))
            hint = ""
            if e.code() == grpc.StatusCode.UNAVAILABLE:
                hint = (f" (is the plane running at {self.server}, and is {self.path} a config for this cluster? "
                        "A certificate from another CA fails the TLS handshake)")
            _fail(f"{e.code().name}: {e.details()}{hint}")


@click.group("token")
@click.option("--config", "config_path", default=None, help="client config (default: $ORCHESTRA_CONFIG, ~/.orchestra/config)")
def token(config_path: str | None) -> None:
    """Join tokens: what a new node needs to join the cluster."""


@token.command("create")
@click.option("--ttl", default="24h", show_default=True, help="lifetime, e.g. 30m, 24h, 7d; 0 for no expiry")
@click.option("--labels", "labels", multiple=True, help="k=v[,k=v] labels every node joining with it gets")
@click.pass_context
def create(ctx: click.Context, ttl: str, labels: tuple[str, ...]) -> None:
    """Create a token; prints it once (the plane keeps only a hash)."""
    from orchestra.api import security_pb2
    try:
        ttl_seconds = parse_duration(ttl)
        label_map = parse_labels(labels)
    except TokenError as e:
        _fail(str(e))
    conn = _Conn(ctx)
    resp = conn.call("CreateJoinToken", security_pb2.CreateJoinTokenRequest(ttl_seconds=ttl_seconds, labels=label_map))
    click.echo(resp.token)
    click.echo(f"token {resp.info.id} expires {format_ms(resp.info.expires_at_ms)}; join a node with: "
               f"ORCHESTRA_TOKEN=<the token above> orchestra-agent --server {conn.server} --name <node>", err=True)


@token.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """List tokens (ids, state, expiry, labels; never secrets)."""
    from orchestra.api import security_pb2
    resp = _Conn(ctx).call("ListJoinTokens", security_pb2.ListJoinTokensRequest())
    rows = [("ID", "STATE", "CREATED", "EXPIRES", "LABELS")]
    for t in resp.tokens:
        rows.append((t.id, t.state, format_ms(t.created_at_ms), format_ms(t.expires_at_ms),
                     ",".join(f"{k}={v}" for k, v in sorted(t.labels.items())) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke a token: no node can join with it any more (nodes that joined keep their certificates)."""
    from orchestra.api import security_pb2
    tid = token_id.split("::")[-1].partition(".")[0]      # an id, or a whole token
    _Conn(ctx).call("RevokeJoinToken", security_pb2.RevokeJoinTokenRequest(id=tid))
    click.echo(f"token {tid} revoked")


@click.group("certificate")
@click.option("--config", "config_path", default=None, help="client config (default: $ORCHESTRA_CONFIG, ~/.orchestra/config)")
def certificate(config_path: str | None) -> None:
    """Client certificates issued by the cluster CA."""


@certificate.command("revoke")
@click.argument("serial")
@click.option("--reason", default="", help="recorded with the revocation")
@click.pass_context
def revoke_certificate(ctx: click.Context, serial: str, reason: str) -> None:
    """Revoke a certificate by hex serial (shown in the node's Joined event): refused from its next call."""
    from orchestra.api import security_pb2
    _Conn(ctx).call("RevokeNodeCertificate", security_pb2.RevokeNodeCertificateRequest(serial=serial, reason=reason))
    click.echo(f"certificate {serial} revoked")


@certificate.command("admin")
@click.option("--data-dir", required=True, help="the plane's data dir (its pki/ holds the CA key): run this on the plane's host")
@click.option("--name", required=True, help="who the certificate is for (its CN)")
@click.option("--server", "server", required=True, help="the plane's address as this admin will dial it, HOST:PORT")
@click.option("--out", required=True, help="where to write the new client config (0600)")
def issue_admin(data_dir: str, name: str, server: str, out: str) -> None:
    """Issue another admin's client config (a new key and certificate with role admin).
    To replace an admin's credentials: issue new ones, then `orchestra certificate revoke` the old serial."""
    import os
    import pathlib
    from orchestra.security.ca import ROLE_ADMIN, CertificateError, load_ca, load_cert
    from orchestra.security.client_config import write_client_config
    from orchestra.security.identity import serial_hex
    from orchestra.transport import ClientTLS
    pki = pathlib.Path(os.path.expanduser(data_dir)) / "pki"
    try:
        ca = load_ca((pki / "ca.crt").read_bytes(), (pki / "ca.key").read_bytes())
        issued = ca.issue_client(name, ROLE_ADMIN)
    except OSError as e:
        _fail(f"cannot read the CA in {pki}: {e.strerror or e}")
    except CertificateError as e:
        _fail(str(e))
    path = write_client_config(os.path.expanduser(out), server, ClientTLS(ca.cert_pem, issued.key_pem, issued.cert_pem))
    click.echo(f"wrote {path} for admin {name!r} (certificate serial {serial_hex(load_cert(issued.cert_pem).serial_number)})")
