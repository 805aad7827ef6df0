"""The committed protobuf/gRPC modules are exactly what `python -m orchestra.api.generate`
makes from protos/: a proto edited without regenerating fails here."""
from __future__ import annotations

import pathlib

from orchestra.api import generate


def test_generated_modules_match_the_protos(tmp_path):
    fresh = {p.name: p.read_text() for p in generate.generate(tmp_path)}
    committed = {p.name: p.read_text() for p in generate.OUT.iterdir()
                 if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))}
    assert sorted(fresh) == sorted(committed), "generated file set differs: run python -m orchestra.api.generate"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated modules {stale}: run python -m orchestra.api.generate"


def test_every_proto_is_generated():
    protos = {p.stem for p in pathlib.Path(generate.PROTO_ROOT, "orchestra", "v1").glob("*.proto")}
    assert protos == {"types", "orchestra", "agent", "security"}
    for stem in protos:
        assert (generate.OUT / f"{stem}_pb2.py").exists()
