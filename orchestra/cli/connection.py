"""The CLI's connection to the control plane, and what it says when a call fails.

Address: --server > $ORCHESTRA_SERVER > the client config's `server` > 127.0.0.1:7070 (the
local cluster's default); one plane or several (a:7070,b:7070), of which calls go to the leader. Credentials: the client config (--config > $ORCHESTRA_CONFIG >
~/.orchestra/config, see orchestra.security.client_config); without one the CLI dials in
plaintext, which only a plane without TLS answers, and says so when the handshake fails.
Every channel is made by orchestra.transport.client_channel.
"""
from __future__ import annotations

import os
import re
import time
from typing import Any, Callable, TypeVar

import grpc

from orchestra import transport
from orchestra.api import orchestra_pb2_grpc
from orchestra.cli.address import DEFAULT_SERVER, SERVER_ENV, check_address
from orchestra.cli.failure import CliError
from orchestra.endpoints import Planes, never_reached, redirect_of

RPC_TIMEOUT_S = 30.0       # a call to a plane that is connected but slow
CONNECT_TIMEOUT_S = 5.0    # reaching it: TCP, TLS handshake, HTTP/2 settings
START_HINT = "start one with `orchestra local up`, or set --server / ORCHESTRA_SERVER"

T = TypeVar("T")


# Calls the CLI sends to another plane also after a plane may have carried them out (its answer was
# lost): doing them twice does what doing them once did. Others move on only when the first plane
# surely did nothing (it could not be reached, or it does not lead).
REPEATABLE = frozenset({"Apply", "ListWorkloads", "ListReplicas", "ListNodes", "DescribeWorkload", "DescribeNode",
                        "SetNodeSchedulable", "ListEvents", "GetRollout", "ListRevisions", "PauseRollout",
                        "DrainNode", "ListPlanes", "ListJoinTokens"})
NO_LEADER_RETRY_S = 0.5     # all planes tried and none leads (an election): wait this long, try again


class Target:
    """Where and how to call: resolved once per CLI run from options, environment and config.
    `address` names one plane or several (a:7070,b:7070); calls go to the one that leads
    (orchestra.endpoints says how the CLI finds it)."""

    def __init__(self, address: str, tls: transport.ClientTLS | None = None, config_path: str = "",
                 config_problem: str = ""):
        self.planes = Planes([a.strip() for a in address.split(",")])
        self.tls = tls
        self.config_path = config_path
        self.config_problem = config_problem    # why no config was used (said when a TLS plane refuses us)
        self._channels: dict[str, grpc.Channel] = {}
        self._connected = False

    @property
    def address(self) -> str:
        """The plane calls go to now."""
        return self.planes.current

    def channel(self) -> grpc.Channel:
        address = self.address
        if address not in self._channels:
            self._channels[address] = transport.client_channel(address, self.tls, connect_timeout_s=CONNECT_TIMEOUT_S)
        return self._channels[address]

    def stub(self) -> orchestra_pb2_grpc.OrchestraStub:
        return orchestra_pb2_grpc.OrchestraStub(self.channel())

    def close(self) -> None:
        for ch in self._channels.values():
            ch.close()
        self._channels = {}

    def call(self, method: str, request: Any, timeout: float = RPC_TIMEOUT_S,
             stub: Callable[[grpc.Channel], Any] | None = None) -> Any:
        """Unary call to the leading plane, moving to another plane while the one called does not
        answer or does not lead, within `timeout`; any failure becomes a CliError with one line that
        says what to do. `stub` makes the stub of another service (default: Orchestra)."""
        deadline = time.monotonic() + timeout
        tried: dict[str, str] = {}
        while True:
            address = self.address
            fn: Callable[..., Any] = getattr((stub or orchestra_pb2_grpc.OrchestraStub)(self.channel()), method)
            started = time.monotonic()
            try:
                response = fn(request, timeout=max(0.1, deadline - started))
            except grpc.RpcError as e:
                waited = time.monotonic() - started
                if not self._move(e, method, deadline, tried, waited):
                    raise self._failure_after(e, waited, tried, address) from None
                continue
            self._connected = True
            return response

    def _move(self, e: grpc.RpcError, method: str, deadline: float, tried: dict[str, str], waited: float) -> bool:
        """Go to another plane for this call? (and wait a little when every plane was tried)."""
        code = e.code() if hasattr(e, "code") else None
        details = (e.details() if hasattr(e, "details") else "") or ""
        not_leader, leader = redirect_of(e)
        if len(self.planes.addresses) == 1 and (not not_leader or leader):
            return False          # nowhere else to go (a follower's answer names the leader to use)
        unreachable = code == grpc.StatusCode.UNAVAILABLE and (never_reached(details) or
                                                               waited >= CONNECT_TIMEOUT_S * 0.9)
        broke = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED) and method in REPEATABLE
        if not (not_leader or unreachable or broke):
            return False
        tried[self.address] = details or (code.name if code else "error")
        if time.monotonic() >= deadline - 0.2:
            return False
        self.planes.move(leader)
        if self.address in tried and not (leader and leader == self.address):
            time.sleep(min(NO_LEADER_RETRY_S, max(0.0, deadline - time.monotonic())))
        return True

    def _failure_after(self, e: grpc.RpcError, waited: float, tried: dict[str, str], address: str) -> CliError:
        error = self.failure(e, waited)
        others = {a: why for a, why in tried.items() if a != address}
        if not others:
            return error
        return CliError(f"{error} (tried also: " + "; ".join(f"{a}: {why}" for a, why in others.items()) + ")")

    def stream(self, method: str, request: Any, timeout: float | None = None):
        """Server-streaming call: yields messages; failures become CliError. Before the first message
        it moves to the leading plane like `call`."""
        deadline = time.monotonic() + (timeout if timeout is not None else RPC_TIMEOUT_S)
        tried: dict[str, str] = {}
        got_any = False
        while True:
            fn = getattr(self.stub(), method)
            started = time.monotonic()
            call = fn(request, timeout=timeout)
            try:
                for msg in call:
                    self._connected = got_any = True
                    yield msg
                return
            except grpc.RpcError as e:
                waited = time.monotonic() - started
                if got_any or not self._move(e, "", deadline, tried, waited):
                    raise self._failure_after(e, waited, tried, self.address) from None
            finally:
                call.cancel()

    def failure(self, e: grpc.RpcError, waited_s: float = 0.0) -> CliError:
        code = e.code() if hasattr(e, "code") else None
        details = (e.details() if hasattr(e, "details") else "") or ""
        # A first call that ends UNAVAILABLE after the whole connect timeout met a port that took the
        # connection and never finished the handshake (not a plane, or a hung one).
        if code == grpc.StatusCode.UNAVAILABLE and redirect_of(e)[0]:
            return CliError(details)          # a plane that does not lead says who does, or why none does
        if code == grpc.StatusCode.UNAVAILABLE and self._connected:
            return CliError(f"lost the connection to the control plane at {self.address}: {details or 'unavailable'}")
        hung = code == grpc.StatusCode.UNAVAILABLE and waited_s >= CONNECT_TIMEOUT_S * 0.9
        return CliError(describe_rpc_error(self, code, details, hung=hung))


def describe_rpc_error(target: Target, code: grpc.StatusCode | None, details: str, hung: bool = False) -> str:
    where = f"the control plane at {target.address}"
    if code == grpc.StatusCode.UNAVAILABLE:
        reason = _unavailable_reason(details)
        if hung and reason != "connection refused" and not reason.startswith("cannot resolve"):
            return (f"cannot talk to {where}: it accepted the connection but did not complete the "
                    f"{'TLS ' if target.tls else ''}handshake within {CONNECT_TIMEOUT_S:.0f}s (is an orchestra "
                    f"server listening on that port, and is it running?)")
        if reason == "connection refused" or reason.startswith("cannot resolve"):
            return f"cannot reach {where}: {reason} ({START_HINT})"
        if target.tls is None:
            hint = target.config_problem or "no client config was used"
            return (f"cannot talk to {where}: {reason}. It requires TLS with a client certificate, and "
                    f"{hint}")
        return (f"cannot talk to {where}: {reason} (is {target.config_path} the client config for "
                f"this cluster? A certificate of another cluster fails the TLS handshake)")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"{where} did not answer in time ({details or 'deadline exceeded'})"
    if code == grpc.StatusCode.NOT_FOUND:
        return details or "not found"
    if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION,
                grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.OUT_OF_RANGE):
        return details or code.name.lower()
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED):
        return f"{where} refused the call: {details or code.name} (check the client config {target.config_path or ''})".replace(" )", ")")
    name = code.name if code is not None else "error"
    return f"{where} failed the call: {name}: {details}".rstrip(": ")


def _unavailable_reason(details: str) -> str:
    low = details.lower()
    if "connection refused" in low:
        return "connection refused"
    if "dns resolution failed" in low or "name or service not known" in low:
        return "cannot resolve the host name"
    if "handshake" in low or "ssl" in low or "tls" in low or "socket closed" in low \
            or "connection reset" in low:
        return "the TLS handshake failed"
    if "timed out" in low or "timeout" in low:
        return "connection timed out"
    m = re.search(r"last error: (.*)$", details)
    return (m.group(1) if m else details) or "unavailable"


def resolve(server: str | None, config: str | None, env: dict[str, str] | None = None) -> Target:
    """The Target of this run (no connection is made here)."""
    from orchestra.security.client_config import ConfigError, config_path, load_client_config

    env = dict(os.environ) if env is None else env
    path, origin = config_path(config, env)
    tls = None
    cfg_server = ""
    problem = ""
    if path.exists() or origin != "default location":
        try:
            cfg = load_client_config(config, env)
        except ConfigError as e:
            raise CliError(str(e)) from None
        tls, cfg_server = cfg.tls, cfg.server
    else:
        problem = (f"there is no client config at {path}: the plane writes admin.conf in its data dir "
                   f"(export ORCHESTRA_CONFIG=<data dir>/admin.conf, or pass --config)")
    address = server or env.get(SERVER_ENV) or cfg_server or DEFAULT_SERVER
    address = ",".join(check_address(address))
    return Target(address=address, tls=tls, config_path=str(path) if tls else "", config_problem=problem)

