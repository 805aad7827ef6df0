"""The planes a client (the CLI, an agent) may talk to, and which one to try next.

A client is given one or more plane addresses (`--server a:7070,b:7070`, or the client
config's `server`; orchestra.spec.names.addresses_problem says what is valid). Only the
leading plane serves (orchestra.server.leadership): any other answers every call with
UNAVAILABLE and two trailing metadata, NOT_LEADER_KEY (the call was not carried out, so it
may go to another plane whatever it was) and LEADER_KEY (the leader's address, when it knows
one). A client moves on when its plane does not answer or does not lead: to the leader's
address when that is one of its own, else to the next address of its list.
"""
from __future__ import annotations

NOT_LEADER_KEY = "orchestra-not-leader"
LEADER_KEY = "orchestra-leader"


def redirect_of(error) -> tuple[bool, str]:
    """(the plane said it does not lead, the leader's address it named or "") of a failed call."""
    try:
        metadata = error.trailing_metadata() or ()
    except Exception:          # not a call's error (e.g. a connection that never opened)
        return False, ""
    values = dict(metadata)
    leader = values.get(LEADER_KEY, "")
    return NOT_LEADER_KEY in values, leader if isinstance(leader, str) else leader.decode()


def never_reached(details: str) -> bool:
    """gRPC's words for a call that surely reached no plane (it could not connect)."""
    low = (details or "").lower()
    return "failed to connect" in low or "connection refused" in low or "dns resolution failed" in low \
        or "name or service not known" in low


class Planes:
    """A client's plane addresses and the one it talks to now."""

    def __init__(self, addresses: list[str]):
        if not addresses:
            raise ValueError("no plane address")
        self.addresses = list(addresses)
        self._i = 0

    @property
    def current(self) -> str:
        return self.addresses[self._i]

    def move(self, leader: str = "") -> str:
        """To `leader` when it is one of ours (and not the current one), else to the next address."""
        if leader in self.addresses and leader != self.current:
            self._i = self.addresses.index(leader)
        else:
            self._i = (self._i + 1) % len(self.addresses)
        return self.current
