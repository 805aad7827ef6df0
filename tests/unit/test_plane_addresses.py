"""Which plane a client tries next (orchestra/endpoints.py)."""
from __future__ import annotations

import pytest

from orchestra.endpoints import LEADER_KEY, NOT_LEADER_KEY, Planes, never_reached, redirect_of


class Refused(Exception):
    def __init__(self, metadata):
        self._metadata = metadata

    def trailing_metadata(self):
        return self._metadata


def test_moves_to_the_named_leader_when_it_is_one_of_ours_else_to_the_next():
    p = Planes(["a:1", "b:1", "c:1"])
    assert p.current == "a:1"
    assert p.move("c:1") == "c:1"
    assert p.move("elsewhere:1") == "a:1"     # not one of ours: the next, round the list
    assert p.move() == "b:1"
    assert p.move("b:1") == "c:1"             # the current one named again: move on
    with pytest.raises(ValueError):
        Planes([])


def test_a_refusal_says_not_leader_and_who_leads():
    assert redirect_of(Refused(((NOT_LEADER_KEY, "1"), (LEADER_KEY, "b:1")))) == (True, "b:1")
    assert redirect_of(Refused(((NOT_LEADER_KEY, "1"),))) == (True, "")
    assert redirect_of(Refused(())) == (False, "")
    assert redirect_of(Exception("no metadata")) == (False, "")


def test_never_reached_only_for_connection_failures():
    assert never_reached("failed to connect to all addresses; Connection refused")
    assert not never_reached("Socket closed")
    assert not never_reached("")
