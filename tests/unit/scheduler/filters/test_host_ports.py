import numpy as np

from orchestra.scheduler.filters.host_ports import HostPorts, clash
from orchestra.scheduler.snapshot import BoundReplica
from orchestra.spec.model import Port, Resources

from ..builders import bound, node, state, view, workload


def test_address_clashes():
    assert clash("", "127.0.0.1") and clash("0.0.0.0", "10.0.0.1") and clash("10.0.0.1", "10.0.0.1")
    assert not clash("127.0.0.1", "10.0.0.1")


def test_a_taken_host_port_blocks_the_node():
    udp = BoundReplica("dns-0", "dns", "c", Resources(), ports=(Port(53, 8080, "", "udp"),))
    local = BoundReplica("lo-0", "lo", "d", Resources(), ports=(Port(80, 8080, "127.0.0.1"),))
    c = state([node("a"), node("b"), node("c"), node("d")], [bound("api-0", "b", host_ports=(8080,)), udp, local])
    f = HostPorts()
    w = view(c, workload(host_ports=(8080,)))
    assert f.mask(c, w).tolist() == [True, False, True, False]
    assert [f.passes(c, w, i) for i in range(4)] == [True, False, True, False]
    [(reason, idx, _)] = f.explain(c, w, np.array([1, 3]))
    assert reason == "host port 8080/tcp in use" and c.node_names(idx) == ["b", "d"]
    assert not f.applies(view(c, workload()).demand)
