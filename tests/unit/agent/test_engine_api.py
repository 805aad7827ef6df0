"""agent.runtime.engine_api against a small HTTP/1.1 server on a real unix socket: what the engine's
answers become, connection reuse, a chunked upload and its abort, a stream closed from another
thread. (What a real dockerd makes of the requests: tests/integration/agent/test_agent_runtime.py.)"""
from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from agent.runtime import engine_api
from agent.runtime.docker import DockerRuntime, RuntimeUnavailable
from agent.runtime.engine_api import EngineClient, EngineError, NotFound


class Engine(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str):
        self.connections = 0
        self.requests: list[tuple[str, str, dict, bytes]] = []
        self.uploads: list[tuple[bytes, bool]] = []     # (body, complete)
        self.hold = threading.Event()                    # a streamed answer waits for this
        super().__init__(path, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Engine

    def setup(self):
        super().setup()
        self.server.connections += 1

    def log_message(self, *args):
        pass

    def address_string(self):
        return "unix"

    def _answer(self, status: int, body: bytes, ctype: str = "application/json", close: bool = False):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> tuple[bytes, bool]:
        if self.headers.get("Transfer-Encoding") == "chunked":
            data = b""
            while True:
                line = self.rfile.readline()
                if not line:
                    return data, False                  # cut off before the last chunk
                size = int(line.strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data, True
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n), True

    def do_GET(self):
        self.server.requests.append(("GET", self.path, dict(self.headers), b""))
        if self.path.startswith("/v1.41/missing"):
            self._answer(404, b'{"message":"No such container: missing"}')
        elif self.path.startswith("/v1.41/broken"):
            self._answer(500, b"not json at all", "text/plain")
        elif self.path.startswith("/v1.41/close"):
            self._answer(200, b'{"ok":true}', close=True)
            self.close_connection = True
        elif self.path.startswith("/v1.41/follow"):
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.docker.raw-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            frame = b"\x01\x00\x00\x00\x00\x00\x00\x06line1\n" + b"\x02\x00\x00\x00\x00\x00\x00\x04err\n"
            self.wfile.write(b"%X\r\n%s\r\n" % (len(frame), frame))
            self.wfile.flush()
            self.server.hold.wait(30)     # a follow that has nothing more to say
        else:
            self._answer(200, json.dumps({"path": self.path}).encode())

    def do_POST(self):
        body, complete = self._body()
        self.server.requests.append(("POST", self.path, dict(self.headers), body))
        if self.path.startswith("/v1.41/images/load"):
            self.server.uploads.append((body, complete))
            if not complete:
                self.close_connection = True
                return
            answer = (b'{"stream":"Loaded ima' + b'ge: a:1\\n"}\r\n{"stream":"Loaded image ID: sha256:ab"}')
            self._answer(200, answer)
        elif self.path.startswith("/v1.41/containers/create"):
            self._answer(201, json.dumps({"Id": "c1", "got": json.loads(body)}).encode())
        else:
            self._answer(204, b"")


@pytest.fixture
def engine(tmp_path):
    srv = Engine(str(tmp_path / "docker.sock"))
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.hold.set()
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def client(engine):
    c = EngineClient(f"unix://{engine.server_address}", "1.41", timeout_s=5)
    yield c
    c.close()


def test_engine_addresses_the_agent_takes():
    assert engine_api.url_problem("unix:///var/run/docker.sock") is None
    assert engine_api.url_problem("tcp://10.0.0.5:2375") is None
    assert engine_api.engine_address("tcp://10.0.0.5") == (socket.AF_INET, ("10.0.0.5", 2375))
    for bad in ("ssh://me@host", "npipe:////./pipe/docker_engine", "tcp://host:port", "unix://", "/var/run/docker.sock"):
        assert "unix:///PATH or tcp://HOST:PORT" in engine_api.url_problem(bad), bad
    with pytest.raises(ValueError):
        DockerRuntime("ssh://me@host", "n1")


def test_answers_errors_and_one_connection_for_many_requests(engine, client):
    assert client.get("/info", {"all": 1, "skip": None}) == {"path": "/v1.41/info?all=1"}
    with pytest.raises(NotFound, match="^No such container: missing$") as e:
        client.get("/missing/json")
    assert e.value.status == 404
    with pytest.raises(EngineError, match="not json at all") as e:
        client.get("/broken")
    assert e.value.status == 500 and not isinstance(e.value, NotFound)
    assert client.post("/containers/c1/start") is None          # 204, no body
    for _ in range(5):
        client.get("/ping")
    # The error answers' connections are not reused; every other request went over a kept one.
    assert engine.connections == 3
    method, path, headers, body = engine.requests[3]
    assert (method, path, headers["Content-Length"], body) == ("POST", "/v1.41/containers/c1/start", "0", b"")


def test_a_connection_the_engine_closed_is_not_reused(engine, client):
    assert client.get("/close") == {"ok": True}
    assert client.get("/ping") == {"path": "/v1.41/ping"}
    # An idle connection the engine ends later (its keep-alive timeout) is noticed before reuse.
    conns = engine.connections
    with client._lock:
        [kept] = client._idle
    kept.sock.shutdown(socket.SHUT_RD)    # reads end of file, as after the engine's FIN
    assert client.get("/ping") == {"path": "/v1.41/ping"}
    assert engine.connections == conns + 1


def test_json_bodies_and_quoted_paths(engine, client):
    r = client.post("/containers/create", {"name": "orchestra-web-0-1"}, body={"Image": "busybox", "Env": ["A=1"]})
    assert r == {"Id": "c1", "got": {"Image": "busybox", "Env": ["A=1"]}}
    _, path, headers, _ = engine.requests[-1]
    assert path == "/v1.41/containers/create?name=orchestra-web-0-1"
    assert headers["Content-Type"] == "application/json"
    assert engine_api.path("/images/{}/json", "registry:5000/team/app:1.2@sha256:ab") == \
        "/images/registry:5000/team/app:1.2%40sha256:ab/json"
    assert json.loads(engine_api.filters({"label": ["a=b", "c=d"], "status": "running"})) == {
        "label": ["a=b", "c=d"], "status": ["running"]}


def test_an_upload_is_sent_chunked_and_its_answer_read_as_it_comes(engine, client):
    stream = client.stream("POST", "/images/load", body=iter([b"abc", b"", b"defg"]))
    assert list(engine_api.json_stream(stream)) == [{"stream": "Loaded image: a:1\n"},
                                                    {"stream": "Loaded image ID: sha256:ab"}]
    assert engine.uploads == [(b"abcdefg", True)]


def test_an_upload_whose_bytes_stop_coming_is_cut_off(engine, client):
    class Gone(Exception):
        pass

    def archive():
        yield b"x" * 1000
        raise Gone("the plane cancelled it")

    with pytest.raises(Gone):
        client.stream("POST", "/images/load", body=archive())
    deadline = time.monotonic() + 5
    while not engine.uploads:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # No last chunk: the engine has an incomplete body, which it does not load.
    assert engine.uploads == [(b"x" * 1000, False)]


def test_a_stream_of_frames_closed_from_another_thread(engine, client):
    stream = client.stream("GET", "/follow", multiplexed=True, read_timeout=False)
    got = []
    reader = threading.Thread(target=lambda: got.extend(stream), daemon=True)
    reader.start()
    deadline = time.monotonic() + 5
    while len(got) < 2:
        assert time.monotonic() < deadline, got
        time.sleep(0.01)
    assert got == [b"line1\n", b"err\n"]     # stdout and stderr, without the frames' headers
    stream.close()                            # the engine has nothing more: a read waits
    reader.join(5)
    assert not reader.is_alive()


def test_json_stream_takes_objects_cut_anywhere():
    text = b'{"a": 1}\n{"b": "x}y"}{"c": [1, 2]}\r\n'
    for cut in range(1, len(text)):
        assert list(engine_api.json_stream([text[:cut], text[cut:]])) == [{"a": 1}, {"b": "x}y"}, {"c": [1, 2]}]
    with pytest.raises(ValueError):
        list(engine_api.json_stream([b'{"a": 1}{"b"']))


def test_no_engine_is_runtime_unavailable_with_a_short_reason(tmp_path):
    rt = DockerRuntime(f"unix://{tmp_path}/no.sock", "n1", files_dir=str(tmp_path / "files"))
    with pytest.raises(RuntimeUnavailable, match="^engine socket not found$"):
        rt.list_managed()
    silent = socket.socket(socket.AF_UNIX)       # accepts, never answers
    silent.bind(str(tmp_path / "silent.sock"))
    silent.listen()
    rt = DockerRuntime(f"unix://{tmp_path}/silent.sock", "n1", timeout_s=0.3, files_dir=str(tmp_path / "files"))
    with pytest.raises(RuntimeUnavailable, match="^engine did not answer in time$"):
        rt.version()
    silent.close()
