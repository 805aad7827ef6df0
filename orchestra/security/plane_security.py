"""Everything the plane's gRPC server needs from the security layer, assembled in one call:
TLS material, the access interceptor, the Join handler and the Security service."""
from __future__ import annotations

import os
import pathlib
import time
from dataclasses import dataclass
from typing import Callable, Iterable

import grpc

from orchestra.security.access import AccessControl
from orchestra.security.identity import Identifier, Identity
from orchestra.security.join import Grant, JoinAuthority
from orchestra.security.plane_pki import PlanePKI, ensure_plane_pki, serving_hosts
from orchestra.security.policy import SecurityPolicy
from orchestra.security.private_files import write_private
from orchestra.security.service import SecurityService
from orchestra.security.tokens import TokenError, new_token, parse_token
from orchestra.store.records import READY
from orchestra.transport import ServerTLS


@dataclass
class PlaneSecurity:
    pki: PlanePKI
    tls: ServerTLS
    interceptors: list[grpc.ServerInterceptor]
    join: Callable                               # AgentLink.Join body: (request, context) -> JoinResponse
    handlers: list[grpc.GenericRpcHandler]       # the Security service
    policy: SecurityPolicy
    node_token_path: pathlib.Path                # a join token for this machine's own agents (`local up`)


def plane_security(data_dir: str | os.PathLike, listen: str, store, *, extra_hosts: Iterable[str] = (),
                   allow_capabilities: Iterable[str] = (),
                   clock: Callable[[], float] = time.time) -> PlaneSecurity:
    """`store` is the plane's Store (join tokens, revoked serials, events)."""
    pki = ensure_plane_pki(data_dir, serving_hosts(listen, extra_hosts), store.is_certificate_revoked)

    def event(kind: str, obj: str, type_: str, reason: str, message: str) -> None:
        store.add_event(int(clock() * 1000), kind, obj, type_, reason, message)

    def on_refused(ident: Identity, method: str, message: str) -> None:
        # Only refusals of a valid node certificate are worth an event on that node; anonymous
        # refusals are logged only (anyone can cause them, they must not fill the store).
        if ident.role == "node":
            event("Node", ident.name, "Warning", "Refused", message)

    def on_joined(node: str, grant: Grant) -> None:
        event("Node", node, "Normal", "Joined", f"node {node} joined; certificate serial {grant.serial}")

    def name_in_use(name: str) -> str | None:
        # A token holder must not take over a connected node's identity (and its workloads).
        node = store.get_node(name)
        if node is not None and node.status == READY:
            return (f"node {name!r} is connected now; a machine cannot join under the name of a Ready node "
                    "(stop that node's agent first, or choose another --name)")
        return None

    authority = JoinAuthority(pki.ca, store.get_join_token, clock, name_in_use)
    access = AccessControl(Identifier(pki.ca.cert_pem, store.is_certificate_revoked), on_refused)
    service = SecurityService(store, pki.ca.fingerprint, clock,
                              lambda kind, obj, reason, msg: event(kind, obj, "Normal", reason, msg))
    handlers = [grpc.method_handlers_generic_handler("orchestra.v1.Security", _security_handlers(service))]
    node_token = ensure_node_token(pathlib.Path(data_dir), store, pki.ca.fingerprint, clock)
    return PlaneSecurity(pki, pki.server_tls, [access],
                         lambda request, context: authority.handle(request, context, on_joined),
                         handlers, SecurityPolicy.with_allowed(allow_capabilities), node_token)


NODE_TOKEN_FILE = "node-token"


def ensure_node_token(data_dir: pathlib.Path, store, ca_fingerprint: str, clock: Callable[[], float]) -> pathlib.Path:
    """Like K3s's server/node-token: a join token (no expiry) in `<data dir>/node-token` (0600), made once,
    so agents on this machine can join with no extra step. `orchestra token revoke <id>` disables it;
    it is not re-made while the file exists, unless it pins another CA (after a CA rotation)."""
    path = data_dir / NODE_TOKEN_FILE
    if path.exists():
        try:
            current = parse_token(path.read_text()).ca_fingerprint == ca_fingerprint
        except TokenError:
            current = False
        if current:
            return path
        # The CA was replaced (or the file damaged): a token pinning the old CA is useless.
    token, record = new_token(ca_fingerprint, int(clock() * 1000), ttl_seconds=0)
    store.put_join_token(record)
    write_private(path, token + "\n")
    return path


def _security_handlers(service: SecurityService) -> dict[str, grpc.RpcMethodHandler]:
    from orchestra.api import security_pb2 as pb
    pairs = {
        "CreateJoinToken": (pb.CreateJoinTokenRequest, pb.CreateJoinTokenResponse),
        "ListJoinTokens": (pb.ListJoinTokensRequest, pb.ListJoinTokensResponse),
        "RevokeJoinToken": (pb.RevokeJoinTokenRequest, pb.RevokeJoinTokenResponse),
        "RevokeNodeCertificate": (pb.RevokeNodeCertificateRequest, pb.RevokeNodeCertificateResponse),
    }
    return {name: grpc.unary_unary_rpc_method_handler(getattr(service, name), request_deserializer=req.FromString,
                                                      response_serializer=resp.SerializeToString)
            for name, (req, resp) in pairs.items()}
