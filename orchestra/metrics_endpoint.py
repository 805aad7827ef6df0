"""The HTTP endpoint Prometheus scrapes, for the plane and the agent alike (`--metrics-listen
HOST:PORT`). Plain HTTP without authentication, as Prometheus exporters are: it names nodes and
workloads, so it is meant for loopback (or a monitoring network the operator chose)."""
from __future__ import annotations

import errno

from orchestra.spec.names import address_problem


class EndpointError(Exception):
    """The endpoint cannot listen where it was asked to; str() says why."""


def listen_problem(listen: str) -> str | None:
    return address_problem(listen)


def serve(registry, listen: str) -> tuple[object, str]:
    """Serve `registry` on `listen` from a daemon thread; returns (the HTTP server, its URL)."""
    from prometheus_client import start_http_server

    problem = listen_problem(listen)
    if problem:
        raise EndpointError(problem)
    host, _, port = listen.rpartition(":")
    try:
        server, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    except OSError as exc:
        why = "the address is already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
        raise EndpointError(f"cannot listen on {listen}: {why}") from exc
    return server, f"http://{host}:{server.server_port}/metrics"
