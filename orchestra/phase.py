"""The phases of a replica: one vocabulary for the plane, the agent and the CLI.

The agent reports the phases of AGENT_PHASES about the containers it runs; the plane owns
the others (a replica is Pending before it has a node, and again when its node was lost;
Scheduled before its agent said anything; Terminating from the moment it is retired until its
agent no longer has its container). docs/internals.md tells the whole life.
"""
from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    PENDING = "Pending"          # not bound to a node; `reason` says why
    SCHEDULED = "Scheduled"      # bound; its agent has not reported it yet
    STARTING = "Starting"        # its container is being created or started
    RUNNING = "Running"
    EXITED = "Exited"            # its container ended and is not restarted (restart policy)
    FAILED = "Failed"            # the engine refused it (e.g. missing image); retried
    BACKOFF = "BackOff"          # exited, waiting to be restarted
    TERMINATING = "Terminating"  # retired: its container is being stopped
    SUCCEEDED = "Succeeded"      # a job's replica whose container ended with exit code 0 (for good)


# The phases a job's replica ends in: it holds no resources any more and is never restarted.
JOB_DONE = frozenset({Phase.SUCCEEDED, Phase.FAILED})

AGENT_PHASES = frozenset({Phase.STARTING, Phase.RUNNING, Phase.EXITED, Phase.FAILED, Phase.BACKOFF,
                          Phase.TERMINATING})
