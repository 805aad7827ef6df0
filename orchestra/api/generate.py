"""Regenerate the protobuf/gRPC modules in this folder from protos/.

Run: python -m orchestra.api.generate
The generated files are committed; tests/unit/api/test_generated.py fails when
they differ from what this script produces.
"""
from __future__ import annotations

import pathlib
import re
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO / "protos"
OUT = pathlib.Path(__file__).resolve().parent


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    from grpc_tools import protoc
    import grpc_tools

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = ["protoc", f"-I{PROTO_ROOT}", f"-I{include}",
                f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}", *protos]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed")
        written = []
        # Flatten orchestra/v1/x_pb2.py into orchestra/api/x_pb2.py and make imports package-relative.
        for src in sorted(pathlib.Path(tmp, "orchestra", "v1").iterdir()):
            text = src.read_text()
            text = re.sub(r"^from orchestra\.v1 import (\w+) as", r"from orchestra.api import \1 as", text, flags=re.M)
            dst = out_dir / src.name
            dst.write_text(text)
            written.append(dst)
        return written


if __name__ == "__main__":
    for path in generate(OUT):
        print(path.relative_to(REPO))
    sys.exit(0)
