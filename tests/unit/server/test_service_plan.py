"""What the plane checks of services in an apply (orchestra.server.service_plan)."""
from __future__ import annotations

import pytest

from orchestra.server.service_plan import ServicesRefused, State, plan
from orchestra.spec.manifest import load_text
from orchestra.store.records import ServiceRecord
from orchestra.spec import codec


def docs(text: str):
    return load_text(text)


WEB = "apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: web, labels: {app: web}}\nspec: {template: {image: a}}\n"


def svc(name="web", selector="{app: web}", publish=""):
    return (f"apiVersion: orchestra/v1\nkind: Service\nmetadata: {{name: {name}}}\n"
            f"spec: {{selector: {selector}, ports: [{{port: 80}}]{publish}}}\n")


def empty() -> State:
    return State({}, {}, {})


def test_a_new_service_gets_the_lowest_free_address_and_keeps_it():
    [w], [s] = docs(WEB), docs(svc())
    [c] = plan(empty(), [s], [w], 5)
    assert (c.action, c.record.virtual_address) == ("created", "10.96.1.1")
    stored = State({"web": c.record}, {"web": s}, {"web": w})
    [again] = plan(stored, [s], [], 6)
    assert again.action == "unchanged"
    [s2] = docs(svc(publish=", publish: [{port: 80, nodePort: 30080}]"))
    [changed] = plan(stored, [s2], [], 7)
    assert (changed.action, changed.record.virtual_address, changed.record.generation) == ("configured", "10.96.1.1", 2)
    [api] = docs(svc(name="api"))
    [other] = plan(stored, [api], [], 8)
    assert other.record.virtual_address == "10.96.1.2"


@pytest.mark.parametrize("service, expected", [
    (svc(selector="{app: nope}"), "matches no workload"),
    (svc(name="web-0"), "is the name (and hostname) of a replica of workload web"),
])
def test_refusals(service, expected):
    [w] = docs(WEB)
    with pytest.raises(ServicesRefused) as e:
        plan(empty(), docs(service), [w], 1)
    assert expected in str(e.value)


def test_a_node_port_belongs_to_one_service():
    [w] = docs(WEB)
    [a] = docs(svc(publish=", publish: [{port: 80, nodePort: 30080}]"))
    rec = ServiceRecord(name="web", spec_json=codec.to_json(a), virtual_address="10.96.1.1")
    [b] = docs(svc(name="api", publish=", publish: [{port: 80, nodePort: 30080}]"))
    with pytest.raises(ServicesRefused, match="nodePort 30080 is already published by service web"):
        plan(State({"web": rec}, {"web": a}, {"web": w}), [b], [], 1)
