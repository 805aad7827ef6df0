"""Where the CLI finds the plane: --server > $ORCHESTRA_SERVER > the client config's `server` >
the local cluster's default. Kept apart from connection.py so that help text needs no gRPC."""
from __future__ import annotations

from orchestra.cli.failure import CliError
from orchestra.spec.names import address_problem

DEFAULT_SERVER = "127.0.0.1:7070"
SERVER_ENV = "ORCHESTRA_SERVER"


def check_address(address: str) -> None:
    problem = address_problem(address)
    if problem:
        raise CliError(f"invalid server address: {problem}")
