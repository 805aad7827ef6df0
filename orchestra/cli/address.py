"""Where the CLI finds the plane: --server > $ORCHESTRA_SERVER > the client config's `server` >
the local cluster's default; each may name several planes (a:7070,b:7070). Kept apart from
connection.py so that help text needs no gRPC."""
from __future__ import annotations

from orchestra.cli.failure import CliError
from orchestra.spec.names import addresses_problem, parse_addresses

DEFAULT_SERVER = "127.0.0.1:7070"
SERVER_ENV = "ORCHESTRA_SERVER"


def check_address(address: str) -> list[str]:
    """The addresses `address` names; CliError when it is not HOST:PORT[,HOST:PORT...]."""
    problem = addresses_problem(address)
    if problem:
        raise CliError(f"invalid server address: {problem}")
    return parse_addresses(address)
