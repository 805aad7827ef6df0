"""The committed etcd v3 modules are exactly what `python -m orchestra.store.etcd_api.generate`
makes from the trimmed protos beside them: a proto edited without regenerating fails here."""
from __future__ import annotations

from orchestra.store.etcd_api import generate


def test_generated_modules_match_the_protos(tmp_path):
    fresh = {p.name: p.read_text() for p in generate.generate(tmp_path)}
    committed = {p.name: p.read_text() for p in generate.OUT.iterdir()
                 if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))}
    assert sorted(fresh) == sorted(committed), "generated file set differs: run python -m orchestra.store.etcd_api.generate"
    stale = [name for name in fresh if fresh[name] != committed[name]]
    assert not stale, f"stale generated modules {stale}: run python -m orchestra.store.etcd_api.generate"


def test_the_services_orchestra_calls_are_there():
    from orchestra.store.etcd_api import rpc_pb2
    services = rpc_pb2.DESCRIPTOR.services_by_name
    assert {"KV", "Lease", "Watch", "Maintenance"} <= set(services)
    assert "Auth" not in services  # trimmed: orchestra authenticates with client certificates
    assert {m.name for m in services["KV"].methods} >= {"Range", "Put", "DeleteRange", "Txn"}
