"""The pure parts of exec on the agent: Docker's multiplexed frames, the exec start's HTTP
answer, the engine's address, and what a command that cannot run exits with."""
from __future__ import annotations

import socket
import struct

import pytest
from hypothesis import given, strategies as st

from agent.exec import cannot_run
from agent.runtime.docker_exec import (STDERR, STDOUT, ExecStartError, FrameParser, engine_address, parse_head,
                                       split_response)


def frame(stream: int, payload: bytes) -> bytes:
    return struct.pack(">BxxxL", stream, len(payload)) + payload


def joined(parts):
    """Adjacent parts of one stream joined: how the bytes are cut must not matter."""
    out = []
    for stream, data in parts:
        if out and out[-1][0] == stream:
            out[-1] = (stream, out[-1][1] + data)
        elif data:
            out.append((stream, data))
    return out


def test_frames_in_one_piece():
    data = frame(1, b"out\n") + frame(2, b"err\n") + frame(1, b"more\n")
    assert FrameParser().feed(data) == [(STDOUT, b"out\n"), (STDERR, b"err\n"), (STDOUT, b"more\n")]


def test_a_payload_is_handed_on_before_its_frame_is_whole():
    p = FrameParser()
    assert p.feed(frame(1, b"0123456789")[:12]) == [(STDOUT, b"0123")]
    assert p.pending
    assert p.feed(b"456789") == [(STDOUT, b"456789")]
    assert not p.pending


def test_stdin_frames_count_as_stdout_and_empty_frames_are_nothing():
    assert FrameParser().feed(frame(0, b"a") + frame(1, b"") + frame(2, b"b")) == [(STDOUT, b"a"), (STDERR, b"b")]


@given(st.lists(st.tuples(st.sampled_from([1, 2]), st.binary(max_size=300)), max_size=12), st.data())
def test_frames_cut_anywhere_give_the_same_streams(frames, data):
    raw = b"".join(frame(s, p) for s, p in frames)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=20)))
    p = FrameParser()
    parts = []
    for a, b in zip([0, *cuts], [*cuts, len(raw)]):
        parts += p.feed(raw[a:b])
    assert joined(parts) == joined(frames)
    assert not p.pending


def test_the_head_of_exec_start_and_what_follows_it():
    raw = (b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
           b"Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n" + frame(1, b"hi"))
    assert split_response(raw[:30]) is None
    head, rest = split_response(raw)
    assert (head.status, head.reason, head.headers["upgrade"]) == (101, "UPGRADED", "tcp")
    assert rest == frame(1, b"hi")
    with pytest.raises(ExecStartError, match="not HTTP"):
        parse_head(b"SSH-2.0-OpenSSH")
    with pytest.raises(ExecStartError, match="no end of headers"):
        split_response(b"HTTP/1.1 200 OK\r\n" + b"x" * 70_000)


def test_engine_addresses():
    assert engine_address("unix:///var/run/docker.sock") == (socket.AF_UNIX, "/var/run/docker.sock")
    assert engine_address("http+unix:///run/d.sock") == (socket.AF_UNIX, "/run/d.sock")
    assert engine_address("tcp://127.0.0.1:2375") == (socket.AF_INET, ("127.0.0.1", 2375))
    with pytest.raises(ExecStartError, match="unix:// or tcp://"):
        engine_address("ssh://user@host")


def test_a_command_that_cannot_run_exits_like_a_shell_says():
    missing = ('OCI runtime exec failed: exec failed: unable to start container process: exec: "nosuch": '
               'executable file not found in $PATH: unknown\r\n')
    assert cannot_run(missing, "web-0") == (
        127, 'cannot run "nosuch" in replica web-0: executable file not found in $PATH')
    denied = ('OCI runtime exec failed: exec failed: unable to start container process: exec: "/etc": '
              'permission denied: unknown\r\n')
    assert cannot_run(denied, "web-0") == (126, 'cannot run "/etc" in replica web-0: permission denied')
    assert cannot_run("", "web-0") == (126, "cannot run the command in replica web-0: the engine did not start it")
