"""The control plane process.

    command.py      `orchestra server`: data dir, security, gRPC server, signals
    grpc_server.py  assembles the gRPC server (the one place interceptors/TLS are added)
    servicers.py    thin gRPC adapters; PlaneError -> status code (errors.py)
    agent_streams.py the agents' streams as coroutines on the asyncio server
    leadership.py   several planes on etcd: one leads a term over a fenced store
    plane.py        Plane: the store, the controllers, the hub and the user service wired together
    service.py      the user API (apply, delete, get, describe, rollouts, ...)
    agent_hub.py    agent sessions: Hello, heartbeats, status (acceptance rule), usage (usage_book.py)
    controllers/    liveness, workloads, scheduler, endpoints, publisher: the controller loop's passes
    lifecycle.py    every change of a replica record, in one place
    sessions.py     open agent sessions and the log requests relayed through them
    events.py, failures.py, messages.py: events, recent failures, record <-> protobuf
"""
