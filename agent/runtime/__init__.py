"""Container runtimes the agent drives (today: Docker)."""

# Network modes a node's containers can get (orchestra-agent --network).
NETWORK_MODES = ("bridge", "host", "none")
