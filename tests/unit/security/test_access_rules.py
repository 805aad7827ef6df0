import grpc
from hypothesis import given, strategies as st

from orchestra.security.access import JOIN_METHOD, SESSION_METHOD, refusal
from orchestra.security.identity import Identity

METHODS = st.sampled_from([JOIN_METHOD, SESSION_METHOD, "/orchestra.v1.Orchestra/Apply",
                           "/orchestra.v1.Security/CreateJoinToken", "/grpc.health.v1.Health/Check",
                           "/grpc.health.v1.Health/Watch", "/orchestra.v1.Orchestra/Logs", "/orchestra.v1.Orchestra/Exec",
                           "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                           "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                           "/some.unknown.Service/Call"])
IDENTS = st.sampled_from([Identity("", "", 0, "no client certificate"), Identity("vm-1", "node", 1),
                          Identity("alice", "admin", 2)])


@given(METHODS, IDENTS)
def test_role_matrix(method, ident):
    got = refusal(method, ident)
    if method == JOIN_METHOD:
        assert got is None                                  # the token decides
    elif method == SESSION_METHOD:
        assert (got is None) == (ident.role == "node")
    elif method.startswith("/grpc.health.v1.Health/"):
        assert (got is None) == (ident.role in ("admin", "node"))   # any cluster certificate
    else:
        assert (got is None) == (ident.role == "admin")     # everything else: reflection, unknown services too
    if got is not None:
        code, message = got
        assert code == (grpc.StatusCode.UNAUTHENTICATED if ident.anonymous else grpc.StatusCode.PERMISSION_DENIED)
        assert "needs" in message
