"""Volume claims: named by replica slot, pinned where first placed, released by a move, removed
only once their node confirms it."""
from orchestra.server import volumes
from orchestra.spec.model import Template
from orchestra.spec.volumes import Volume, VolumeMount
from orchestra.store import SqliteStore
from orchestra.store.records import VOLUME_BOUND, VOLUME_DELETING, VOLUME_RELEASED, ReplicaRecord, VolumeRecord

TEMPLATE = Template("local/busybox:1", volumes=(Volume("data"), Volume("logs")),
                    volume_mounts=(VolumeMount("data", "/data"), VolumeMount("logs", "/logs")))


class Events:
    def __init__(self):
        self.said = []

    def emit(self, kind, obj, type_, reason, message):
        self.said.append((reason, message))


def replica(index=0, node=""):
    return ReplicaRecord(id=f"db-{index}", workload="db", index=index, node=node)


def test_first_binding_claims_the_volumes_on_that_node_and_pins_the_slot():
    store, events = SqliteStore(":memory:"), Events()
    assert volumes.claim(store, events, replica(), "vm-2", TEMPLATE, 1)
    recs = {v.name: v for v in store.list(VolumeRecord)}
    assert set(recs) == {"orchestra.db-0.data", "orchestra.db-0.logs"}
    assert {(v.node, v.state, v.replica) for v in recs.values()} == {("vm-2", VOLUME_BOUND, "db-0")}
    assert volumes.Claims(store).pin("db", 0, TEMPLATE) == ("vm-2", "volume data of db-0 is on vm-2")
    assert volumes.Claims(store).pin("db", 1, TEMPLATE) == ("", "")
    # Bound again (e.g. after a rollout): the same volumes, on no other node.
    assert volumes.claim(store, events, replica(), "vm-2", TEMPLATE, 2)
    assert not volumes.claim(store, events, replica(), "vm-1", TEMPLATE, 3)
    assert len(store.list(VolumeRecord)) == 2


def test_a_move_leaves_the_data_behind_and_the_next_claim_is_a_new_volume():
    store, events = SqliteStore(":memory:"), Events()
    volumes.claim(store, events, replica(), "vm-2", TEMPLATE, 1)
    released = volumes.release(store, events, replica(), 2)
    assert {(v.name, v.state) for v in released} == {("orchestra.db-0.data", VOLUME_RELEASED),
                                                      ("orchestra.db-0.logs", VOLUME_RELEASED)}
    assert any("stay on vm-2" in m for _, m in events.said)
    assert volumes.Claims(store).pin("db", 0, TEMPLATE) == ("", "")
    assert volumes.claim(store, events, replica(), "vm-1", TEMPLATE, 3)
    bound = volumes.Claims(store).bound("db", 0, TEMPLATE)
    assert sorted(v.name for v in bound) == ["orchestra.db-0.data.2", "orchestra.db-0.logs.2"]
    assert {v.node for v in bound} == {"vm-1"}


def test_removal_is_asked_once_no_replica_of_the_slot_is_there_and_done_when_the_node_says_so():
    store, events = SqliteStore(":memory:"), Events()
    volumes.claim(store, events, replica(), "vm-2", TEMPLATE, 1)
    store.put(VolumeRecord(name="orchestra.db-1.data", workload="db", index=1, volume="data"))  # never placed
    volumes.mark_deleting(store, events, store.list(VolumeRecord), "deleted", 2)
    assert {v.name for v in store.list(VolumeRecord)} == {"orchestra.db-0.data", "orchestra.db-0.logs"}
    assert {v.state for v in store.list(VolumeRecord)} == {VOLUME_DELETING}
    assert volumes.removals(store, [replica(node="vm-2")]) == {}          # its container may still use them
    asked = volumes.removals(store, [])["vm-2"]
    volumes.removing_from(store, asked, 7)
    assert volumes.confirm_removed(store, events, "vm-2", 6, set()) == []   # a report from before the ask
    assert volumes.confirm_removed(store, events, "vm-2", 7, {"orchestra.db-0.logs"}) == ["orchestra.db-0.data"]
    assert [v.name for v in store.list(VolumeRecord)] == ["orchestra.db-0.logs"]
