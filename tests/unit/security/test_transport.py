from concurrent import futures

import grpc
import pytest

from orchestra import transport


def test_no_plaintext_listening_port():
    server = grpc.server(futures.ThreadPoolExecutor(1))
    with pytest.raises(ValueError, match="without TLS"):
        transport.add_listen_port(server, "127.0.0.1:0")
    server.stop(None)
