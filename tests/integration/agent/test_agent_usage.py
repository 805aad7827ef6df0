"""agent.usage against a real engine: containers that stop or vanish while they are sampled."""
from __future__ import annotations

import threading

from agent.runtime.docker import DockerRuntime
from agent.usage import UsageSampler
from engines import BUSYBOX_IMAGE
from orchestra.api import agent_pb2


def test_sampling_survives_containers_that_vanish_or_stop(engine, caplog):
    rt = DockerRuntime(engine.host, "node-a", network="none", stop_timeout_s=0)
    sampler = UsageSampler(rt, clock=lambda: 1)
    try:
        def make(i: int) -> str:
            cid = rt.create(agent_pb2.ContainerSpec(
                replica_id=f"v-{i}", workload="v", incarnation=1, template_hash="t",
                image=BUSYBOX_IMAGE, command=["sleep", "1000"]))
            rt.start(cid)
            return cid

        stay = make(0)
        for i in range(1, 11):
            # Sampled while it is being removed: the engine may answer 404, or cut the answer
            # short (which the Docker SDK reads as invalid JSON).
            going = make(i)
            remover = threading.Thread(target=rt.remove, args=(going, 0))
            remover.start()
            got = sampler.containers({"v-0": stay, f"v-{i}": going})
            remover.join()
            assert "v-0" in {u.replica_id for u in got}
            assert all(u.usage.memory_bytes > 0 for u in got)
        # A stopped container has nothing to say (the engine's answer is all zeros).
        rt.stop(stay, 0)
        assert sampler.containers({"v-0": stay}) == []
        assert sampler.containers({"v-9": "0" * 64}) == []   # never existed
    finally:
        sampler.close()
        rt.close()
    assert not [r for r in caplog.records if r.exc_info]
