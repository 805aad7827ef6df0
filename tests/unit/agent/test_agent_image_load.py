"""agent/image_load.py: credit per chunk the engine took, the checksum checked before the last
chunk, cancellation. The engine side is a reader of the archive iterator, as the Docker SDK's
upload is (the engine itself: tests/integration/cluster/test_images.py)."""
from __future__ import annotations

import hashlib
import threading

from agent.image_load import ImageLoads
from orchestra.api import agent_pb2

DATA = [b"a" * 1000, b"b" * 1000, b"c" * 10]


class Reader:
    """Reads the archive as the engine's connection would; records what reached it."""

    def __init__(self):
        self.got = bytearray()
        self.reached_end = False

    def load_image(self, archive):
        for chunk in archive:
            self.got += chunk
        self.reached_end = True
        return ["local/app:1"]


class Outbox:
    def __init__(self):
        self.messages = []
        self.ended = threading.Event()

    def __call__(self, msg):
        self.messages.append(msg.image_load)
        if msg.image_load.done or msg.image_load.error:
            self.ended.set()


def run(data=DATA, sha=None, size=None, cancel_after=None):
    reader, out, loaded = Reader(), Outbox(), []
    loads = ImageLoads(reader, "vm-1", on_loaded=lambda: loaded.append(True))
    whole = b"".join(data)
    loads.start(agent_pb2.ImageTransfer(load_id="L", size=len(whole) if size is None else size,
                                        sha256=sha or hashlib.sha256(whole).hexdigest(), window=1 << 20), out)
    for i, chunk in enumerate(data):
        if cancel_after == i:
            loads.cancel("L", "the user went away")
        loads.chunk(agent_pb2.ImageChunk(load_id="L", data=chunk, last=i == len(data) - 1))
    assert out.ended.wait(5)
    return reader, out.messages, loaded


def test_every_chunk_reaches_the_engine_and_is_credited_then_done():
    reader, msgs, loaded = run()
    assert bytes(reader.got) == b"".join(DATA) and reader.reached_end
    assert sum(m.credit for m in msgs) == sum(len(c) for c in DATA)
    assert msgs[-1].done and list(msgs[-1].images) == ["local/app:1"] and loaded == [True]


def test_a_checksum_mismatch_never_hands_the_engine_the_last_chunk():
    reader, msgs, loaded = run(sha="0" * 64)
    assert not reader.reached_end and bytes(reader.got) == DATA[0] + DATA[1]
    assert "sha256 is" in msgs[-1].error and "nothing was loaded" in msgs[-1].error and not loaded


def test_a_short_archive_is_refused():
    reader, msgs, _ = run(size=5000)
    assert not reader.reached_end and "received 2010 bytes of an image archive of 5000" in msgs[-1].error


def test_cancel_aborts_the_upload():
    reader, msgs, loaded = run(cancel_after=1)
    assert not reader.reached_end and msgs[-1].error == "the user went away" and not loaded
