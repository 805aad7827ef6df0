"""Fuzzing: whatever arrives (random YAML trees, mutated valid manifests, huge or deeply nested
input, random text and bytes), only ManifestError ever escapes the manifest loader."""
import copy
import datetime
import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import load_text, parse_document
from orchestra.spec.model import Workload

# Sized so that the whole file runs in about 20 s on 2 cores; cheap generators get more examples.
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                database=None)
FUZZ_SLOW = settings(FUZZ, max_examples=120)
FUZZ_CHEAP = settings(FUZZ, max_examples=1000)

VALID = {
    "apiVersion": "orchestra/v1", "kind": "Workload",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {
        "replicas": 3, "tenant": "team-a", "priority": 1,
        "template": {
            "image": "local/busybox:1", "command": ["httpd", "-f", "-p", "8080"], "env": {"GREETING": "hello"},
            "ports": [{"containerPort": 8080, "hostPort": 8080, "hostIP": "127.0.0.1", "protocol": "tcp"}],
            "resources": {"cpu": "250m", "memory": "64Mi"}, "restartPolicy": "Always",
            "readOnlyRootFilesystem": False, "addCapabilities": ["NET_BIND_SERVICE"],
        },
        "placement": {
            "nodeSelector": {"zone": "a"},
            "requiredAffinity": [{"key": "zone", "operator": "In", "values": ["a", "b"]}],
            "preferredAffinity": [{"weight": 50, "match": [{"key": "disk", "operator": "Exists"}]}],
            "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web", "effect": "NoSchedule"}],
            "strategy": "spread", "spreadBy": "zone", "maxPerNode": 2,
        },
    },
}

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(-70000, 70000),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["250m", "64Mi", "Always", "In", "tcp", "127.0.0.1", "web", "", "-1", "1e999", "NaN",
                     "orchestra/v1", "Workload", "local/busybox:1", "\x00", "é", "a" * 300]),
    st.binary(max_size=8), st.dates(), st.datetimes(),
)
keys = st.one_of(st.sampled_from(["name", "image", "spec", "template", "cpu", "ports", "key", "values",
                                  "containerPort", "labels", "env", "weight", "match"]),
                 st.text(max_size=10), st.integers(), st.none(), st.booleans())
trees = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=5), st.dictionaries(keys, children, max_size=5)), max_leaves=30)


def _only_manifest_errors(fn, *args):
    try:
        result = fn(*args)
    except ManifestError as e:
        assert str(e)   # and it can be shown
        return None
    return result


@FUZZ
@given(trees)
def test_random_trees(data):
    w = _only_manifest_errors(parse_document, data, "fuzz.yaml", 1)
    assert w is None or isinstance(w, Workload)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID) if p]


@st.composite
def mutated(draw):
    doc = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = doc
        try:
            for k in path[:-1]:
                parent = parent[k]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                parent[path[-1]] = draw(trees)
            elif action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif isinstance(parent, dict):
                parent[draw(keys)] = draw(trees)
        except (KeyError, IndexError, TypeError):
            pass   # an earlier mutation changed the shape under this path
    return doc


@FUZZ
@given(mutated())
def test_mutated_valid_manifests(doc):
    w = _only_manifest_errors(parse_document, doc, "fuzz.yaml", 1)
    if w is not None:   # whatever is accepted survives its canonical round trip
        assert parse_document(json.loads(json.dumps(w.to_dict()))) == w


@FUZZ_SLOW
@given(st.lists(st.one_of(mutated(), trees), max_size=3))
def test_yaml_documents(docs):
    try:
        text = yaml.safe_dump_all(docs, allow_unicode=True)
    except yaml.YAMLError:
        return
    _only_manifest_errors(load_text, text, "fuzz.yaml")


@FUZZ_CHEAP
@given(st.text(max_size=300))
def test_random_text(text):
    _only_manifest_errors(load_text, text, "fuzz.yaml")


yaml_fragments = st.sampled_from(["apiVersion: orchestra/v1\n", "kind: Workload\n", "metadata:\n", "  name: web\n",
                                  "spec:\n", "  template:\n", "    image: x\n", "- ", "[", "]", "{", "}", ": ",
                                  "&a ", "*a", "!!binary ", "!!python/object:os.system ", "---\n", "...\n",
                                  "? ", "|\n", ">\n", "'", '"', "\t", "#", "<<: ", "2024-13-45", "0x1F",
                                  "!!set {a}", "!!omap [a: 1]", "\n", "  ", "1e999", ".nan"])


@FUZZ_CHEAP
@given(st.lists(yaml_fragments, max_size=40).map("".join))
def test_yaml_like_text(text):
    _only_manifest_errors(load_text, text, "fuzz.yaml")


@FUZZ_CHEAP
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    _only_manifest_errors(load_text, raw, "fuzz.bin")


@settings(max_examples=20, deadline=None, database=None)
@given(st.integers(1, 3000), st.sampled_from(["[", "{a: ", "- ", "a:\n  "]))
def test_deeply_nested(depth, opener):
    text = opener * depth
    _only_manifest_errors(load_text, text, "deep.yaml")


@settings(max_examples=5, deadline=None, database=None)
@given(st.integers(1000, 3_000_000))
def test_huge(size):
    text = "a: " + "x" * size
    _only_manifest_errors(load_text, text, "huge.yaml")
    _only_manifest_errors(load_text, text.encode(), "huge.yaml")
