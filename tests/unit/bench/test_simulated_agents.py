"""bench/simulated_agents.py builds every message a simulated node sends from the real protos: a field
the protocol drops or renames must fail here, not stall a benchmark (a node whose message raised
stopped talking while its stream stayed open, which looked like a plane that stops placing)."""
import importlib.util
import sys
from pathlib import Path

from orchestra.api import agent_pb2, types_pb2

BENCH = Path(__file__).resolve().parents[3] / "bench"


def simulator():
    spec = importlib.util.spec_from_file_location("simulated_agents", BENCH / "simulated_agents.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("simulated_agents", mod)
    spec.loader.exec_module(mod)
    return mod


def test_every_message_of_a_node_with_replicas_builds_and_round_trips():
    sim = simulator()
    node = sim.Node(name=sim.node_name(3), tls=None, labels={"zone": "a"})
    node.revision = 7
    node.desired = {"w-0": agent_pb2.ContainerSpec(replica_id="w-0", workload="w", incarnation=2, revision=1,
                                                   resources=types_pb2.Resources(cpu_millis=10,
                                                                                 memory_bytes=16 << 20))}
    for build in (sim.hello, sim.heartbeat, sim.status_report, sim.usage_report):
        msg = build(node)
        assert agent_pb2.AgentMessage.FromString(msg.SerializeToString()) == msg
    st = sim.status_report(node).status
    assert st.revision == 7
    assert [(r.replica_id, r.phase, r.incarnation, r.ready) for r in st.replicas] == [("w-0", "Running", 2, True)]
    refusal = sim.log_refusal(agent_pb2.LogRequest(request_id="x", replica_id="w-0"))
    assert refusal.log.eof and refusal.log.error
