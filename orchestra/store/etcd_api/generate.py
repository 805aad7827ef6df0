"""Regenerate the etcd v3 protobuf/gRPC modules in this folder from proto/ (etcd's own
rpc.proto and kv.proto, trimmed: see their headers).

Run: python -m orchestra.store.etcd_api.generate
The generated files are committed; tests/unit/store/test_etcd_api_generated.py fails when
they differ from what this script produces.
"""
from __future__ import annotations

import pathlib
import re
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
PROTO_ROOT = HERE / "proto"
OUT = HERE
REPO = HERE.parents[2]


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    from grpc_tools import protoc

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        args = ["protoc", f"-I{PROTO_ROOT}",
                f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}", *protos]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc failed")
        written = []
        # Flatten etcd/<pkg>/x_pb2.py into this folder and make the imports package-absolute.
        for src in sorted(pathlib.Path(tmp).rglob("*.py*")):
            text = src.read_text()
            text = re.sub(r"^from etcd\.\w+ import (\w+) as", r"from orchestra.store.etcd_api import \1 as",
                          text, flags=re.M)
            dst = out_dir / src.name
            dst.write_text(text)
            written.append(dst)
        return written


if __name__ == "__main__":
    for path in generate(OUT):
        print(path.relative_to(REPO))
    sys.exit(0)
