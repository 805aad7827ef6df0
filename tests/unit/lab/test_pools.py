"""The pool controller's policy (orchestra.lab.pools.plan) and the pools' files."""
from __future__ import annotations

import pytest

from orchestra.lab import pools
from orchestra.lab.pools import Boot, Destroy, PendingReplica, Pool, VMView, Wait, plan

BLUE = Pool(name="blue", tenant="blue", min=0, max=2, memory_mib=1024, cpus=1, idle_s=60)
LONG_AGO = 1e9


def pending(rid="web-0", tenant="blue", selector=(), cpu=100, memory=64 << 20):
    return PendingReplica(rid, tenant, tuple(selector), cpu, memory)


def vm(index, status="Ready", replicas=0, busy=False):
    return VMView(f"blue-{index}", index, status, replicas, busy)


def steps(vms=(), pend=(), idle=None, since_ready=LONG_AGO, since_failed=LONG_AGO, pool=BLUE):
    return plan(pool, list(vms), list(pend), idle or {}, since_ready, since_failed)


def test_a_pending_replica_of_the_tenant_boots_one_vm_named_for_the_first_free_index():
    assert steps(pend=[pending("web-0"), pending("web-1")]) == [
        Boot(1, "2 pending replica(s) of tenant blue: web-0, web-1", ("web-0", "web-1"))]
    assert steps(vms=[vm(2)], pend=[pending()])[0].index == 1


def test_other_tenants_and_selectors_the_pool_cannot_meet_boot_nothing():
    assert steps(pend=[pending(tenant="red"), pending(tenant="")]) == []
    assert steps(pend=[pending(selector=[("disk", "ssd")])]) == []
    assert steps(pend=[pending(selector=[("orchestra.pool", "blue"), ("zone", "blue")])])[0].index == 1


def test_a_replica_larger_than_a_vm_is_said_to_wait_and_boots_nothing():
    [w] = steps(pend=[pending(memory=2 << 30)])
    assert isinstance(w, Wait) and w.warning and w.replicas == ("web-0",)
    assert "more than a VM of pool blue has (1 CPU, 1024 MiB)" in w.reason


def test_one_vm_at_a_time_and_the_scheduler_gets_its_turn_on_the_newest():
    assert steps(vms=[vm(1, status="")], pend=[pending()]) == []                 # still booting
    assert steps(vms=[vm(1, busy=True)], pend=[pending()]) == []                 # an operation runs
    assert steps(vms=[vm(1, replicas=1)], pend=[pending()], since_ready=3) == []  # just became Ready
    assert steps(vms=[vm(1, replicas=1)], pend=[pending()])[0] == Boot(2, "1 pending replica(s) of tenant blue: "
                                                                            "web-0", ("web-0",))


def test_at_max_the_replicas_are_told_why_they_wait():
    [w] = steps(vms=[vm(1, replicas=1), vm(2, replicas=1)], pend=[pending()])
    assert w == Wait(("web-0",), "pool blue is at its max of 2 VM(s)")


def test_after_a_failed_boot_it_waits_before_trying_again():
    assert steps(pend=[pending()], since_failed=10) == []
    assert steps(pend=[pending()], since_failed=pools.BOOT_RETRY_S + 1)[0].index == 1


def test_below_min_boots_without_demand():
    two = Pool(name="blue", tenant="blue", min=2, max=3)
    assert steps(vms=[vm(1)], pool=two) == [Boot(2, "pool blue has 1 VM(s), below its min of 2")]


def test_an_idle_vm_beyond_min_is_destroyed_newest_first_and_only_past_the_idle_limit():
    vms = [vm(1), vm(2)]
    assert steps(vms=vms, idle={"blue-1": 59, "blue-2": 59}) == []
    [d] = steps(vms=vms, idle={"blue-1": 61, "blue-2": 61})
    assert isinstance(d, Destroy) and d.name == "blue-2" and "idle for 61 s" in d.reason
    keep_one = Pool(name="blue", tenant="blue", min=1, max=2, idle_s=60)
    assert steps(vms=[vm(1)], idle={"blue-1": 600}, pool=keep_one) == []
    assert steps(vms=[vm(1, replicas=1)], idle={}) == []
    # Demand wins over idleness: a VM is not destroyed while replicas of the tenant wait.
    assert not any(isinstance(s, Destroy) for s in steps(vms=[vm(1), vm(2, replicas=1)], idle={"blue-1": 600},
                                                         pend=[pending()]))


def test_pools_are_saved_listed_and_marked_deleting(tmp_path, monkeypatch):
    monkeypatch.setenv("ORCHESTRA_LAB_DIR", str(tmp_path))
    assert pools.all_pools() == []
    p = Pool(name="blue", tenant="blue", labels={"gpu": "no"}, token_id="abc123")
    pools.save(p)
    pools.save(Pool(name="red", tenant="red", ssh_port_base=pools.free_port_base([p])))
    assert [(x.name, x.labels, x.ssh_port_base) for x in pools.all_pools()] == [
        ("blue", {"gpu": "no"}, 2300), ("red", {}, 2320)]
    assert not pools.is_deleting("blue")
    pools.mark_deleting("blue")
    assert pools.is_deleting("blue")
    with pytest.raises(pools.LabError, match="pool green does not exist"):
        pools.load("green")
    assert p.node_labels() == {"gpu": "no", "zone": "blue", "orchestra.pool": "blue", "orchestra.tenant": "blue"}
