"""The Service kind: validation, defaults and the canonical form."""
from __future__ import annotations

import pytest

from orchestra.spec import codec
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import load_text
from orchestra.spec.service import Publish, Service, ServicePort

HEAD = "apiVersion: orchestra/v1\nkind: Service\nmetadata: {name: web}\n"


def one(spec: str) -> Service:
    [s] = load_text(HEAD + spec, "svc.yaml")
    return s


def error(text: str) -> str:
    with pytest.raises(ManifestError) as e:
        load_text(text, "svc.yaml")
    return str(e.value)


def test_defaults_and_round_trip():
    s = one("spec: {selector: {app: web}, ports: [{port: 80}], publish: [{port: 80, nodePort: 30080}]}")
    assert s.ports == (ServicePort(port=80, target_port=80),)
    assert s.publish == (Publish(80, 30080),) and s.node_port(80) == 30080
    assert codec.from_json(codec.to_json(s), "x") == s
    assert s.matches({"app": "web", "tier": "x"}) and not s.matches({"app": "api"})


def test_a_manifest_may_hold_a_workload_and_a_service_of_the_same_name():
    docs = load_text("apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: web}\nspec: {template: {image: a}}\n"
                     "---\n" + HEAD + "spec: {selector: {app: web}, ports: [{port: 80}]}\n")
    assert [d.KIND for d in docs] == ["Workload", "Service"]


@pytest.mark.parametrize("spec, expected", [
    ("spec: {ports: [{port: 80}]}", "spec.selector: required"),
    ("spec: {selector: {app: web}}", "spec.ports: required field is missing"),
    ("spec: {selector: {app: web}, ports: []}", "must list at least one port"),
    ("spec: {selector: {app: web}, ports: [{port: 0}]}", "spec.ports[0].port: 0 is out of range"),
    ("spec: {selector: {app: web}, ports: [{port: 80}, {port: 81}]}", "spec.ports[0].name: required when"),
    ("spec: {selector: {app: web}, ports: [{port: 80, name: a}, {port: 80, name: b}]}", "80 is already listed"),
    ("spec: {selector: {app: web}, ports: [{port: 80, name: a}, {port: 81, name: a}]}", "'a' is already the name"),
    ("spec: {selector: {app: web}, ports: [{port: 80, protocol: udp}]}", '"udp" is not supported'),
    ("spec: {selector: {app: web}, ports: [{port: 80, targetport: 1}]}", "did you mean targetPort?"),
    ("spec: {selector: {app: web}, ports: [{port: 80}], publish: [{port: 81, nodePort: 1}]}",
     "81 is not one of the service's ports"),
    ("spec: {selector: {app: web}, ports: [{port: 80, name: a}, {port: 81, name: b}], "
     "publish: [{port: 80, nodePort: 5}, {port: 81, nodePort: 5}]}", "nodePort: 5 is already published"),
    ("spec: {selector: {app: web}, ports: [{port: 80}], replicas: 2}", "spec.replicas: unknown field"),
])
def test_errors_name_the_field(spec, expected):
    text = error(HEAD + spec)
    assert text.startswith("svc.yaml: document 1: ") and expected in text, text


def test_the_name_is_a_dns_label():
    text = error(HEAD.replace("web", "Web.1") + "spec: {selector: {app: web}, ports: [{port: 80}]}")
    assert 'metadata.name: "Web.1" must consist of lower-case letters' in text
