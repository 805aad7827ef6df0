"""Container runtimes the agent drives (today: Docker)."""
