"""Every gRPC channel and listening port of orchestra is made here, so that one place
decides how connections are secured.

Every listening port is TLS and requires a client certificate at the handshake (see
orchestra.security.enrolment for how a node without one joins); plaintext callers fail the
handshake. Which certificate may call which RPC is decided by orchestra.security.access.
A client channel without TLS material is plaintext: only the CLI makes one, when it has no
client config, so that it can say why the plane's handshake fails.
"""
from __future__ import annotations

from dataclasses import dataclass

import grpc

# Messages such as a large desired set or a log chunk can exceed gRPC's 4 MiB default.
MAX_MESSAGE = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
]
SERVER_OPTIONS = [
    ("grpc.max_send_message_length", MAX_MESSAGE),
    ("grpc.max_receive_message_length", MAX_MESSAGE),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
]


@dataclass(frozen=True)
class ServerTLS:
    """What the plane's port presents and accepts."""
    key_pem: bytes
    cert_chain_pem: bytes         # serving certificate followed by the CA (agents pin the CA from it)
    client_roots_pem: bytes       # cluster CA + enrolment CA: client certificates must chain to one


@dataclass(frozen=True)
class ClientTLS:
    """What a client trusts and presents."""
    ca_pem: bytes
    key_pem: bytes
    cert_pem: bytes


def add_listen_port(server: grpc.Server, address: str, tls: ServerTLS | None = None) -> int:
    """Bind `server` to `address` (host:port) with TLS; returns the bound port (useful with port 0).
    There is no plaintext port: `tls` is required (the parameter is optional only to say so clearly)."""
    if tls is None:
        raise ValueError(f"refusing to listen on {address} without TLS: orchestra serves mutual TLS only")
    creds = grpc.ssl_server_credentials([(tls.key_pem, tls.cert_chain_pem)],
                                        root_certificates=tls.client_roots_pem,
                                        require_client_auth=True)
    port = server.add_secure_port(address, creds)
    if port == 0:
        raise OSError(f"cannot listen on {address}")
    return port


def client_channel(address: str, tls: ClientTLS | None = None,
                   connect_timeout_s: float | None = None) -> grpc.Channel:
    """`connect_timeout_s` bounds one connection attempt (TCP, TLS handshake, HTTP/2 settings) and
    nothing else: a call's own deadline still applies once connected. gRPC's default is 20 s,
    which is how long a port that accepts TCP but never answers would otherwise hold a call."""
    options = list(CHANNEL_OPTIONS)
    if connect_timeout_s is not None:
        # C-core takes its minimum connect timeout from this argument.
        options.append(("grpc.min_reconnect_backoff_ms", int(connect_timeout_s * 1000)))
    if tls is None:
        return grpc.insecure_channel(address, options=options)
    creds = grpc.ssl_channel_credentials(root_certificates=tls.ca_pem, private_key=tls.key_pem,
                                         certificate_chain=tls.cert_pem)
    return grpc.secure_channel(address, creds, options=options)
