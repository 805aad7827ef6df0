"""parse_document(workload_to_dict(w)) == w for every valid workload (also through JSON and YAML)."""
import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from orchestra.spec.manifest import load_text, parse_document
from orchestra.spec.model import (Placement, Port, PreferredTerm, Resources, SelectorRequirement, Template,
                                  Toleration, Workload, WorkloadSpec, workload_to_dict)
from orchestra.spec.names import CAPABILITIES

dns = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?\Z")
label_name = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?\Z")
label_key = st.one_of(label_name, st.builds(lambda p, n: f"{p}.io/{n}", dns, label_name))
label_value = st.one_of(st.just(""), label_name)
labels = st.dictionaries(label_key, label_value, max_size=3)
# NEL and the Unicode line/paragraph separators are excluded: PyYAML's emitter folds them
# (a PyYAML quirk; parse_document itself keeps them, see test_round_trip_keeps_any_text).
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\x85\u2028\u2029"),
               max_size=12)
env_name = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z")
ip = st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "10.1.2.3", "fe80::1"])


@st.composite
def ports(draw):
    n = draw(st.integers(0, 3))
    cports = draw(st.lists(st.integers(1, 65535), min_size=n, max_size=n, unique=True))
    hports = draw(st.lists(st.integers(1, 65535), min_size=n, max_size=n, unique=True))
    out = []
    for c, h in zip(cports, hports):
        published = draw(st.booleans())
        out.append(Port(container_port=c, host_port=h if published else 0,
                        host_ip=draw(st.one_of(st.just(""), ip)) if published else "",
                        protocol=draw(st.sampled_from(["tcp", "udp"]))))
    return tuple(out)


def requirement():
    with_values = st.builds(SelectorRequirement, key=label_key, operator=st.sampled_from(["In", "NotIn"]),
                            values=st.lists(label_value, min_size=1, max_size=3).map(tuple))
    without = st.builds(SelectorRequirement, key=label_key, operator=st.sampled_from(["Exists", "DoesNotExist"]))
    return st.one_of(with_values, without)


toleration = st.one_of(
    st.builds(Toleration, key=label_key, operator=st.just("Equal"), value=label_value,
              effect=st.sampled_from(["", "NoSchedule"])),
    st.builds(Toleration, key=st.one_of(st.just(""), label_key), operator=st.just("Exists"),
              effect=st.sampled_from(["", "NoSchedule"])),
)

workloads = st.builds(
    Workload,
    name=dns,
    labels=labels,
    spec=st.builds(
        WorkloadSpec,
        replicas=st.integers(0, 1000),
        tenant=st.one_of(st.just(""), dns),
        priority=st.integers(-1_000_000, 1_000_000),
        template=st.builds(
            Template,
            image=st.sampled_from(["local/busybox:1", "busybox", "registry.example:5000/a/b:v1.2",
                                   "x@sha256:" + "a" * 64]),
            command=st.lists(text, max_size=4).map(tuple),
            env=st.dictionaries(env_name, text, max_size=3),
            ports=ports(),
            resources=st.builds(Resources, cpu_millis=st.integers(10, 64_000),
                                memory_bytes=st.integers(6 << 20, 1 << 40)),
            restart_policy=st.sampled_from(["Always", "OnFailure", "Never"]),
            read_only_root_fs=st.booleans(),
            add_capabilities=st.lists(st.sampled_from(sorted(CAPABILITIES)), unique=True, max_size=3).map(tuple),
        ),
        placement=st.builds(
            Placement,
            node_selector=labels,
            required=st.lists(requirement(), max_size=2).map(tuple),
            preferred=st.lists(st.builds(PreferredTerm, weight=st.integers(1, 100),
                                         match=st.lists(requirement(), min_size=1, max_size=2).map(tuple)),
                               max_size=2).map(tuple),
            tolerations=st.lists(toleration, max_size=2).map(tuple),
            strategy=st.sampled_from(["", "binpack", "spread"]),
            spread_by=st.one_of(st.just(""), label_key),
            max_per_node=st.integers(0, 1000),
        ),
    ),
)


@settings(max_examples=150, deadline=None)
@given(workloads)
def test_round_trip(w):
    assert parse_document(workload_to_dict(w)) == w
    assert parse_document(json.loads(json.dumps(workload_to_dict(w), sort_keys=True))) == w
    assert Workload.from_dict(w.to_dict()) == w


@settings(max_examples=40, deadline=None)
@given(st.lists(workloads, max_size=3, unique_by=lambda w: w.name))
def test_yaml_multi_document_round_trip(ws):
    text = yaml.safe_dump_all([workload_to_dict(w) for w in ws], allow_unicode=True)
    assert load_text(text, "gen.yaml") == ws


def test_round_trip_keeps_any_text():
    w = parse_document({"apiVersion": "orchestra/v1", "kind": "Workload", "metadata": {"name": "a"},
                        "spec": {"template": {"image": "busybox", "command": ["\x85\u2028\t\n"]}}})
    assert parse_document(json.loads(json.dumps(workload_to_dict(w)))) == w
