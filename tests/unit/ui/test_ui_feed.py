"""What each browser tab is sent by the feed: everything once, then only what is newer than what
it has seen; a new listing of the history (after a reconnect) is sent whole, marked as a reset."""
from __future__ import annotations

import json

from orchestra.ui.feed import ClusterFeed, Seen


def feed_with(events: list[int], state: dict | None = None) -> ClusterFeed:
    f = ClusterFeed(target=None)
    f.events.extend({"id": i, "reason": f"r{i}"} for i in events)
    f.epoch = 1
    if state is not None:
        f.state, f.state_json, f.state_version = state, json.dumps(state), 1
    return f


def names(messages):
    return [name for name, _ in messages]


def test_a_new_tab_gets_status_state_and_the_whole_history():
    f = feed_with([1, 2, 3], {"nodes": []})
    seen = Seen()
    assert f._news(seen)
    out = dict(f.take(seen))
    assert json.loads(out["status"]) == {"status": "connecting", "live": False}
    assert json.loads(out["state"]) == {"nodes": []}
    assert json.loads(out["events"]) == {"reset": True, "events": [{"id": i, "reason": f"r{i}"} for i in (1, 2, 3)]}
    assert not f._news(seen) and f.take(seen) == []


def test_then_only_what_is_new():
    f = feed_with([1, 2])
    seen = Seen()
    f.take(seen)
    assert "state" not in names(f.take(seen))        # no state listed yet: nothing to send
    f.events.append({"id": 3, "reason": "r3"})
    f._set_status("live")
    out = dict(f.take(seen))
    assert set(out) == {"status", "events"}
    assert json.loads(out["events"]) == {"reset": False, "events": [{"id": 3, "reason": "r3"}]}
    assert seen.event_id == 3


def test_a_history_listed_anew_is_sent_whole():
    f = feed_with([5, 6])
    seen = Seen()
    f.take(seen)
    f.events.clear()
    f.events.extend({"id": i} for i in (1, 2))       # a plane whose store started again
    f.epoch += 1
    assert f._news(seen)
    assert json.loads(dict(f.take(seen))["events"]) == {"reset": True, "events": [{"id": 1}, {"id": 2}]}


def test_wait_returns_when_something_arrives_or_times_out():
    f = feed_with([1])
    seen = Seen()
    f.take(seen)
    assert f.wait(seen, 0.05) is False
    f._set_status("live")
    assert f.wait(seen, 5) is True
