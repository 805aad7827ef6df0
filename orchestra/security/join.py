"""Joining a node: the plane's side (check the token, sign the node's CSR) and the agent's side
(pin the CA, send the token and a CSR, keep the certificate in its state dir: the credentials
themselves are orchestra.security.credentials, which an agent that has joined reads alone).
"""
from __future__ import annotations

import logging
import pathlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

import grpc

from orchestra.security.ca import (ROLE_NODE, CertificateAuthority, CertificateError, check_name, load_cert,
                                   subject_name, subject_role, verify_issued_by)
from orchestra.security.credentials import (TLS_DIR, JoinError, NodeCredentials, load_node_credentials,  # noqa: F401
                                            paths, store_node_credentials, stored_credentials)
from orchestra.security.enrolment import PinningError, enrolment_client_credentials, fetch_pinned_ca
from orchestra.security.identity import serial_hex
from orchestra.security.tokens import TokenError, check_token, parse_token
from orchestra.endpoints import Planes, redirect_of
from orchestra.transport import ClientTLS, client_channel

if TYPE_CHECKING:
    from orchestra.store.records import JoinTokenRecord

log = logging.getLogger(__name__)

# How long a joining agent waits for the plane to notice that a node of its name has gone.
BUSY_RETRY_S = 30.0


class PlaneUnreachable(JoinError):
    """The plane could not be reached (yet), or does not lead: worth retrying (on the leader, when it
    named one: `leader`), unlike a refusal."""

    def __init__(self, message: str, leader: str = ""):
        super().__init__(message)
        self.leader = leader


class NodeNameBusy(JoinError):
    """The plane still counts a node of this name as connected: worth retrying for a while
    (e.g. the same machine restarted before the plane noticed it had gone)."""


# ---------------------------------------------------------------- plane side

class NameInUse(CertificateError):
    """Another machine holds this node name right now."""


@dataclass(frozen=True)
class Grant:
    cert_pem: bytes
    ca_pem: bytes
    labels: Mapping[str, str]
    serial: str


class JoinAuthority:
    """Checks a join request and signs the node's certificate. `lookup` reads a token record from the store."""

    def __init__(self, ca: CertificateAuthority, lookup: Callable[[str], JoinTokenRecord | None],
                 clock: Callable[[], float] = time.time, name_in_use: Callable[[str], str | None] | None = None):
        self.ca = ca
        self.lookup = lookup
        self.clock = clock
        # Says why a node name may not be taken now (e.g. a node of that name is connected), else None.
        self.name_in_use = name_in_use or (lambda name: None)

    def join(self, credential: str, node_name: str, csr_pem: bytes) -> Grant:
        """Raises TokenError (UNAUTHENTICATED), NameInUse (FAILED_PRECONDITION) or CertificateError (INVALID_ARGUMENT)."""
        token_id = credential.partition(".")[0]
        record = self.lookup(token_id) if token_id else None
        record = check_token(credential, record, int(self.clock() * 1000))
        check_name(node_name)
        busy = self.name_in_use(node_name)
        if busy:
            raise NameInUse(busy)
        cert_pem = self.ca.sign_csr(csr_pem, node_name, ROLE_NODE, record.labels)
        serial = serial_hex(load_cert(cert_pem).serial_number)
        return Grant(cert_pem, self.ca.cert_pem, dict(record.labels), serial)

    def handle(self, request, context: grpc.ServicerContext, on_joined: Callable[[str, Grant], None] | None = None):
        """The AgentLink.Join servicer body: returns a JoinResponse or aborts with a precise status."""
        from orchestra.api import agent_pb2
        try:
            grant = self.join(request.token, request.node_name, bytes(request.csr_pem))
        except TokenError as e:
            log.warning("join refused for node %r from %s: %s", request.node_name, context.peer(), e)
            context.abort(grpc.StatusCode.UNAUTHENTICATED, f"join refused: {e}")
        except NameInUse as e:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION, f"join refused: {e}")
        except CertificateError as e:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"join refused: {e}")
        if on_joined is not None:
            on_joined(request.node_name, grant)
        return agent_pb2.JoinResponse(certificate_pem=grant.cert_pem, ca_pem=grant.ca_pem, labels=dict(grant.labels))


# ---------------------------------------------------------------- agent side

def join_cluster(address: str, token: str, node_name: str, state_dir: str | pathlib.Path,
                 timeout: float = 15.0) -> NodeCredentials:
    """Join once: pin the CA from the token, send the token and a CSR, store key + certificate (0600)."""
    from orchestra.api import agent_pb2, agent_pb2_grpc
    from orchestra.security.ca import new_csr
    try:
        parsed = parse_token(token)
        check_name(node_name)
    except (TokenError, CertificateError) as e:
        raise JoinError(str(e)) from None
    try:
        ca_pem = fetch_pinned_ca(address, parsed.ca_fingerprint, timeout)
    except PinningError as e:
        if e.unreachable:
            raise PlaneUnreachable(str(e)) from None
        raise JoinError(str(e)) from None
    key_pem, csr_pem = new_csr(node_name)
    ek, ec = enrolment_client_credentials(parsed.ca_fingerprint)
    channel = client_channel(address, ClientTLS(ca_pem, ek, ec))
    try:
        resp = agent_pb2_grpc.AgentLinkStub(channel).Join(
            agent_pb2.JoinRequest(token=parsed.credential, node_name=node_name, csr_pem=csr_pem), timeout=timeout)
    except grpc.RpcError as e:
        if e.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise PlaneUnreachable(f"the plane at {address} did not answer Join: {e.details()}",
                                   leader=redirect_of(e)[1]) from None
        if e.code() == grpc.StatusCode.FAILED_PRECONDITION:
            raise NodeNameBusy(f"the plane at {address} refused to join node {node_name!r}: {e.details()}") from None
        raise JoinError(f"the plane at {address} refused to join node {node_name!r}: "
                        f"{e.code().name}: {e.details()}") from None
    finally:
        channel.close()
    cert = load_cert(bytes(resp.certificate_pem))
    try:
        verify_issued_by(cert, load_cert(ca_pem))
    except CertificateError as e:
        raise JoinError(f"the plane returned a certificate this agent cannot use: {e}") from None
    if subject_name(cert) != node_name or subject_role(cert) != ROLE_NODE:
        raise JoinError(f"the plane returned a certificate for {subject_name(cert)!r}, not node {node_name!r}")
    return store_node_credentials(state_dir, NodeCredentials(
        node_name, ClientTLS(ca_pem, key_pem, bytes(resp.certificate_pem)), dict(resp.labels)))


def node_credentials(address: str, node_name: str, state_dir: str | pathlib.Path,
                     token: str | None = None) -> NodeCredentials:
    """What the agent calls at start: stored credentials if it joined before, else join with `token`.

    A token that pins another CA than the stored credentials' (the plane's CA was replaced)
    makes the agent join again: that is how nodes follow a CA rotation."""
    creds = stored_credentials(state_dir, node_name, token)
    if creds is not None:
        return creds
    if not token:
        raise JoinError(f"node {node_name!r} has not joined yet (no certificate in {paths(state_dir)['dir']}): "
                        "start the agent with --token (create one with `orchestra token create`)")
    return join_cluster(address, token, node_name, state_dir)


def node_credentials_retrying(address: str, node_name: str, state_dir: str | pathlib.Path,
                              token: str | None = None, should_stop: Callable[[], bool] = lambda: False,
                              sleep: Callable[[float], None] = time.sleep,
                              busy_for_s: float = BUSY_RETRY_S) -> NodeCredentials | None:
    """node_credentials, waiting with back-off (0.5 s doubling to 10 s) while the plane is unreachable,
    and for up to `busy_for_s` while it still counts a node of this name as connected. Other refusals
    raise JoinError at once; returns None if `should_stop` turns true while waiting. `address` may
    name several planes (a:7070,b:7070): the join goes to the one that leads (orchestra.endpoints),
    backing off only once every plane was tried in a row."""
    planes = Planes([a.strip() for a in address.split(",")])
    delay = 0.5
    waited_busy = 0.0
    hops = 0
    while True:
        try:
            return node_credentials(planes.current, node_name, state_dir, token)
        except PlaneUnreachable as e:
            if len(planes.addresses) > 1 and hops < len(planes.addresses):
                planes.move(e.leader)
                hops += 1
                continue
            hops = 0
            planes.move(e.leader)
            log.warning("cannot join yet (retrying in %.1fs): %s", delay, e)
        except NodeNameBusy as e:
            if waited_busy >= busy_for_s:
                raise
            log.warning("cannot join yet (retrying in %.1fs): %s", delay, e)
            waited_busy += delay
        if should_stop():
            return None
        sleep(delay)
        delay = min(delay * 2, 10.0)
