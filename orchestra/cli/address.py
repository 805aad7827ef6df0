"""Where the CLI finds the plane: --server > $ORCHESTRA_SERVER > the client config's `server` >
the local cluster's default. Kept apart from connection.py so that help text needs no gRPC."""
from __future__ import annotations

from orchestra.cli.failure import CliError

DEFAULT_SERVER = "127.0.0.1:7070"
SERVER_ENV = "ORCHESTRA_SERVER"


def check_address(address: str) -> None:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CliError(f"invalid server address {address!r}: expected HOST:PORT, e.g. 127.0.0.1:7070")
