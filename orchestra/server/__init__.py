"""The control plane process.

    command.py      `orchestra server`: data dir, security, gRPC server, signals
    grpc_server.py  assembles the gRPC server (the one place interceptors/TLS are added)
    servicers.py    thin gRPC adapters; PlaneError -> status code (errors.py)
    plane.py        Plane: the operations servicers call, and the controller loop
    workloads.py    workload controller: desired replicas <-> replica records; Apply/Delete
    scheduling.py   scheduler loop: store -> Snapshot -> schedule() -> bindings
    liveness.py     silent nodes -> NotReady -> their replicas back to Pending
    desired.py      per-node desired sets and their persisted revisions
    reports.py      Hello, heartbeats, status (acceptance rule), usage from agents
    sessions.py     open agent sessions and the log requests relayed through them
    events.py, failures.py, messages.py: events, recent failures, record <-> protobuf
"""
