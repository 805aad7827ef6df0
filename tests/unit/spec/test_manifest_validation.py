"""Every class of manifest error: the message names file, document, field and what is valid."""
import json

import pytest

from orchestra.spec.errors import ManifestError, ManifestErrors
from orchestra.spec.manifest import load_text, parse_document
from orchestra.spec.model import workload_to_dict

BASE = """\
apiVersion: orchestra/v1
kind: Workload
metadata:
  name: web
spec:
  template:
    image: local/busybox:1
"""


def doc(**overrides) -> dict:
    """A valid document with dotted-path overrides (value None deletes the key)."""
    d = {"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "web"},
         "spec": {"template": {"image": "local/busybox:1"}}}
    for path, value in overrides.items():
        keys = path.split("__")
        node = d
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    return d


def error_of(data, source="web.yaml", index=2) -> str:
    with pytest.raises(ManifestError) as e:
        parse_document(data, source, index)
    return str(e.value)


def test_minimal_document_gets_defaults():
    w = parse_document(doc())
    assert w.name == "web" and w.spec.replicas == 1 and w.spec.tenant == "" and w.spec.priority == 0
    t = w.spec.template
    assert (t.resources.cpu_millis, t.resources.memory_bytes) == (100, 64 << 20)
    assert t.restart_policy == "Always" and t.read_only_root_fs is False and t.ports == ()
    assert w.spec.placement.strategy == "" and w.spec.placement.max_per_node == 0


def test_error_text_format():
    text = error_of(doc(spec__template__resources={"cpu": "abc"}))
    assert text == ('web.yaml: document 2: spec.template.resources.cpu: "abc" is not a CPU quantity '
                    '(examples: 250m, 1.5, 2)')


@pytest.mark.parametrize("overrides,expected", [
    # wrong apiVersion / kind, missing ones
    ({"apiVersion": "apps/v1"}, 'apiVersion: "apps/v1" is not supported (expected orchestra/v1)'),
    ({"kind": "Deployment"}, 'kind: "Deployment" is not supported (expected Workload | Service | Config | Secret)'),
    ({"apiVersion": None}, "apiVersion: required field is missing"),
    ({"kind": None}, "kind: required field is missing"),
    # unknown fields, with the closest known name or where they belong
    ({"metadata__labelz": {}}, "metadata.labelz: unknown field (did you mean labels?)"),
    ({"spec__template__restart_policy": "Never"}, "restart_policy: unknown field (did you mean restartPolicy?)"),
    ({"spec__image": "x"}, "spec.image: unknown field (image belongs in spec.template)"),
    ({"status": {}}, "status: unknown field (known fields: apiVersion, kind, metadata, spec)"),
    ({"spec__template__ports": [{"containerport": 80}]},
     "spec.template.ports[0].containerport: unknown field (did you mean containerPort?)"),
    # required fields
    ({"metadata__name": None}, "metadata.name: required field is missing"),
    ({"metadata": None}, "metadata: required field is missing"),
    ({"spec": None}, "spec: required field is missing"),
    ({"spec__template": None}, "spec.template: required field is missing"),
    ({"spec__template__image": None}, "spec.template.image: required field is missing"),
    ({"spec__template__image": ""}, "spec.template.image: must not be empty"),
    # names
    ({"metadata__name": "Web"}, 'metadata.name: "Web" must consist of lower-case letters'),
    ({"metadata__name": "a" * 54}, "is 54 characters long (at most 53, so that replica ids"),
    ({"metadata__name": "-web"}, "must consist of lower-case letters"),
    ({"metadata__name": 5}, "metadata.name: expected a name, e.g. web, got the number 5"),
    ({"spec__tenant": "Team A"}, 'spec.tenant: "Team A" must consist of lower-case letters'),
    ({"spec__template__image": "Local/Busybox"}, "is not an image reference"),
    # labels
    ({"metadata__labels": {"-bad": "x"}}, 'metadata.labels["-bad"]: label key "-bad" must consist of'),
    ({"metadata__labels": {"app": "a b"}}, 'metadata.labels.app: "a b" must be empty or consist of'),
    ({"metadata__labels": {"app": "x" * 64}}, "is 64 characters long (a label value has at most 63)"),
    ({"metadata__labels": {"Example.com/app": "x"}}, "has an invalid prefix"),
    ({"metadata__labels": {"app": 1}}, 'metadata.labels.app: expected a string, got the number 1 (quote it: "1")'),
    ({"metadata__labels": {"app": True}}, 'got the boolean true (quote it: "true")'),
    ({"metadata__labels": {1: "x"}}, "metadata.labels: label keys must be strings, got the number 1"),
    ({"metadata__labels": ["app"]}, "metadata.labels: expected a mapping of strings to strings, got a list"),
    # types
    ({"spec__replicas": "3"}, 'spec.replicas: expected an integer from 0 to 1000, got the string "3" (remove the quotes)'),
    ({"spec__replicas": 1001}, "spec.replicas: 1001 is out of range (expected an integer from 0 to 1000)"),
    ({"spec__replicas": -1}, "out of range"),
    ({"spec__replicas": True}, "got the boolean true"),
    ({"spec__replicas": 2.5}, "got the number 2.5"),
    ({"spec__template__readOnlyRootFilesystem": "yes"}, "expected true or false, got the string"),
    ({"spec__template__command": "httpd -f"}, 'spec.template.command: expected a list (e.g. [httpd, -f, -p, "8080"])'),
    ({"spec__template__command": ["httpd", 8080]}, 'command[1]: expected a string, got the number 8080 (quote it: "8080")'),
    ({"spec__template__command": ["httpd", None]}, "command[1]: expected a string, got null"),
    ({"spec__template__command": ["a\x00b"]}, "must not contain NUL characters"),
    ({"spec": []}, "spec: expected a mapping, got a list"),
    # env
    ({"spec__template__env": {"PORT": 8080}}, 'spec.template.env.PORT: expected a string, got the number 8080 (quote it: "8080")'),
    ({"spec__template__env": {"1X": "a"}}, 'variable name "1X" is not a valid environment variable name'),
    ({"spec__template__env": {"A": None}}, "spec.template.env.A: expected a string, got null"),
    ({"spec__template__env": [{"name": "A"}]}, "env: expected a mapping of strings to strings, got a list"),
    # ports
    ({"spec__template__ports": [{"containerPort": 0}]}, "containerPort: 0 is out of range (expected an integer from 1 to 65535)"),
    ({"spec__template__ports": [{"containerPort": 70000}]}, "70000 is out of range"),
    ({"spec__template__ports": [{"hostPort": 80}]}, "ports[0].containerPort: required field is missing"),
    ({"spec__template__ports": [{"containerPort": 80, "hostPort": 80, "hostIP": "localhost"}]},
     'ports[0].hostIP: "localhost" is not an IP address'),
    ({"spec__template__ports": [{"containerPort": 80, "hostIP": "127.0.0.1"}]}, "hostIP: is set but hostPort is not"),
    ({"spec__template__ports": [{"containerPort": 80, "protocol": "sctp"}]}, '"sctp" is not valid (expected tcp or udp)'),
    ({"spec__template__ports": [{"containerPort": 80}, {"containerPort": 80}]}, "ports[1].containerPort: 80/tcp is already listed in spec.template.ports[0]"),
    ({"spec__template__ports": [{"containerPort": 80, "hostPort": 8080}, {"containerPort": 81, "hostPort": 8080}]},
     "ports[1].hostPort: 8080/tcp is already published by spec.template.ports[0]"),
    ({"spec__template__ports": {"containerPort": 80}}, "ports: expected a list"),
    ({"spec__template__ports": [80]}, "ports[0]: expected a mapping with containerPort, got the number 80"),
    # resources
    ({"spec__template__resources": {"memory": "64MB"}}, 'memory: "64MB" is not a memory quantity: unknown suffix'),
    ({"spec__template__resources": {"cpu": "1m"}}, "cpu: 1m is too small (at least 10m"),
    ({"spec__template__resources": {"memory": "1Mi"}}, "memory: 1Mi is too small (at least 6Mi"),
    ({"spec__template__resources": {"cpu": -1}}, "must not be negative"),
    ({"spec__template__resources": {"disk": 1}}, "resources.disk: unknown field (known fields: cpu, memory)"),
    # restart policy, capabilities
    ({"spec__template__restartPolicy": "always"}, 'did you mean Always? (expected one of Always | OnFailure | Never)'),
    ({"spec__template__restartPolicy": "Sometimes"}, '"Sometimes" is not valid (expected one of Always | OnFailure | Never)'),
    ({"spec__template__addCapabilities": ["NET_ADMN"]}, '"NET_ADMN" is not a Linux capability (did you mean NET_ADMIN?)'),
    ({"spec__template__addCapabilities": ["NET_ADMIN", "CAP_NET_ADMIN"]}, "NET_ADMIN is listed twice"),
    # placement
    ({"spec__placement__strategy": "packed"}, '"packed" is not valid (expected one of binpack | spread)'),
    ({"spec__placement__nodeSelector": {"zone": 1}}, 'nodeSelector.zone: expected a string, got the number 1'),
    ({"spec__placement__requiredAffinity": [{"key": "zone", "operator": "In"}]}, "operator In needs at least one value"),
    ({"spec__placement__requiredAffinity": [{"key": "zone", "operator": "Exists", "values": ["a"]}]}, "operator Exists takes no values"),
    ({"spec__placement__requiredAffinity": [{"key": "zone"}]}, "requiredAffinity[0].operator: required field is missing"),
    ({"spec__placement__requiredAffinity": [{"key": "zone", "operator": "Near"}]}, "expected one of In | NotIn | Exists | DoesNotExist"),
    ({"spec__placement__preferredAffinity": [{"weight": 0, "match": [{"key": "z", "operator": "Exists"}]}]}, "weight: 0 is out of range (expected an integer from 1 to 100)"),
    ({"spec__placement__preferredAffinity": [{"weight": 5, "match": []}]}, "match: must list at least one requirement"),
    ({"spec__placement__preferredAffinity": [{"match": [{"key": "z", "operator": "Exists"}]}]}, "weight: required field is missing"),
    ({"spec__placement__tolerations": [{"operator": "Equal", "value": "x"}]}, "operator Equal needs a key"),
    ({"spec__placement__tolerations": [{"key": "k", "operator": "Exists", "value": "x"}]}, "operator Exists takes no value"),
    ({"spec__placement__tolerations": [{"key": "k", "effect": "NoExecute"}]}, 'effect: "NoExecute" is not valid (expected one of NoSchedule)'),
    ({"spec__placement__maxPerNode": -1}, "maxPerNode: -1 is out of range"),
    ({"spec__placement__spreadBy": "not a key"}, 'spreadBy: "not a key" must consist of'),
])
def test_each_error_class(overrides, expected):
    text = error_of(doc(**overrides))
    assert text.startswith("web.yaml: document 2: ")
    assert expected in text


@pytest.mark.parametrize("data,expected", [
    ([1, 2], "expected a mapping with apiVersion, kind, metadata and spec, got a list"),
    ("hello", 'got the string "hello"'), (42, "got the number 42"), (b"\x00", "got binary data"),
])
def test_non_mapping_documents(data, expected):
    assert expected in error_of(data)


def test_all_problems_reported_one_per_line():
    with pytest.raises(ManifestErrors) as e:
        parse_document(doc(metadata__name="Bad_Name", spec__replicas="x", spec__template__image=None))
    lines = str(e.value).splitlines()
    assert len(lines) == 3 == len(e.value.errors)
    assert [err.field for err in e.value.errors] == ["metadata.name", "spec.replicas", "spec.template.image"]
    assert all(isinstance(err, ManifestError) for err in e.value.errors)


def test_wrong_kind_reports_only_that():
    with pytest.raises(ManifestError) as e:
        parse_document({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"selector": {}}}, "d.yaml", 1)
    assert str(e.value) == 'd.yaml: document 1: apiVersion: "apps/v1" is not supported (expected orchestra/v1)'


def test_normalisation():
    w = parse_document(doc(spec__template__ports=[{"containerPort": 53, "protocol": "UDP", "hostPort": 53,
                                                    "hostIP": "::0001"}],
                           spec__template__addCapabilities=["cap_net_bind_service"],
                           spec__template__resources={"cpu": 0.5, "memory": "1Gi"}))
    p = w.spec.template.ports[0]
    assert (p.protocol, p.host_ip) == ("udp", "::1")
    assert w.spec.template.add_capabilities == ("NET_BIND_SERVICE",)
    assert w.spec.template.resources.cpu_millis == 500 and w.spec.template.resources.memory_bytes == 1 << 30
    assert parse_document(json.loads(json.dumps(workload_to_dict(w)))) == w


def test_null_means_default():
    w = parse_document(doc(metadata__labels=None, spec__replicas=None, spec__placement=None))
    assert w.labels == {} and w.spec.replicas == 1


def test_resources_default_each_independently():
    w = parse_document(doc(spec__template__resources={"cpu": "250m"}))
    assert w.spec.template.resources.memory_bytes == 64 << 20
    w = parse_document(doc(spec__template__resources={"memory": "128Mi"}))
    assert w.spec.template.resources.cpu_millis == 100


def test_load_text_yaml_example():
    (w,) = load_text(BASE, "web.yaml")
    assert w.spec.template.image == "local/busybox:1"
