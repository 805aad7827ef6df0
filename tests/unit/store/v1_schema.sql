CREATE TABLE nodes (
    name TEXT PRIMARY KEY,
    labels TEXT NOT NULL,
    facts TEXT NOT NULL,
    cpu_millis INTEGER NOT NULL,
    memory_bytes INTEGER NOT NULL,
    status TEXT NOT NULL,
    schedulable INTEGER NOT NULL,
    taints TEXT NOT NULL,
    last_heartbeat_ms INTEGER NOT NULL,
    usage TEXT NOT NULL,
    runtime_status TEXT NOT NULL,
    desired_revision INTEGER NOT NULL,
    desired_hash TEXT NOT NULL,
    agent_instance TEXT NOT NULL,
    registered_at_ms INTEGER NOT NULL
);
CREATE TABLE workloads (
    name TEXT PRIMARY KEY,
    spec_json TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    template_generation INTEGER NOT NULL
);
CREATE TABLE replicas (
    id TEXT PRIMARY KEY,
    workload TEXT NOT NULL,
    idx INTEGER NOT NULL,
    node TEXT NOT NULL,
    phase TEXT NOT NULL,
    reason TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    restarts INTEGER NOT NULL,
    container_id TEXT NOT NULL,
    generation INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    usage TEXT NOT NULL,
    next_restart_ms INTEGER NOT NULL,
    cpu_millis INTEGER NOT NULL,
    memory_bytes INTEGER NOT NULL,
    incarnation INTEGER NOT NULL
);
CREATE INDEX replicas_by_workload ON replicas (workload, idx);
CREATE INDEX replicas_by_node ON replicas (node);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    object TEXT NOT NULL,
    type TEXT NOT NULL,
    reason TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX events_by_object ON events (object, id);
CREATE TABLE join_tokens (
    id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    expires_at_ms INTEGER NOT NULL,
    labels TEXT NOT NULL,
    revoked INTEGER NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE TABLE revoked_certificates (
    serial TEXT PRIMARY KEY,
    revoked_at_ms INTEGER NOT NULL,
    reason TEXT NOT NULL
);
