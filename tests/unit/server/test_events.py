"""EventLog.history: what ListEvents returns, and the id a watcher continues after."""
from orchestra.server.events import NORMAL, WARNING, EventLog
from orchestra.store import SqliteStore


def test_history_oldest_first_filtered_limited_and_the_id_to_watch_after():
    store = SqliteStore(":memory:")
    log = EventLog(store, lambda: 1000)
    assert log.history() == ([], 0)
    for obj, reason in (("web", "Created"), ("web-0", "Scheduled"), ("vm-1", "NodeReady"), ("web-0", "Started")):
        log.emit("Replica" if obj == "web-0" else "Workload", obj, NORMAL, reason, f"{obj} {reason}")
    found, last_id = log.history()
    assert [e.reason for e in found] == ["Created", "Scheduled", "NodeReady", "Started"] and last_id == 4
    assert [e.reason for e in log.history("web-0")[0]] == ["Scheduled", "Started"]
    assert [e.reason for e in log.history(limit=2)[0]] == ["NodeReady", "Started"]
    assert log.history("nothing") == ([], 4)          # the id still says where a watch starts
    newer = log.emit("Node", "vm-1", WARNING, "NodeNotReady", "gone")
    assert newer > last_id and store.list_events(after_id=last_id)[0].id == newer
    store.close()
