"""Rows and descriptions built from API messages (no server needed to format)."""
import json

from orchestra.api import orchestra_pb2 as pb
from orchestra.api import types_pb2 as t
from orchestra.cli import views
from orchestra.cli.apply import result_text
from orchestra.cli.describe import describe_node, describe_workload
from orchestra.cli.output import message_dict
from orchestra.spec.manifest import load_file
from orchestra.spec.model import workload_to_dict

NOW = 1_000_000_000


def node(**kw) -> t.Node:
    base = dict(name="node-1", status="Ready", schedulable=True, replica_count=2,
                capacity=t.Resources(cpu_millis=2000, memory_bytes=4 << 30),
                allocated=t.Resources(cpu_millis=250, memory_bytes=64 << 20), registered_at_ms=NOW - 125_000,
                labels={"zone": "a"})
    base.update(kw)
    return t.Node(**base)


def test_node_row():
    assert views.node_row(node(), False, NOW) == ["node-1", "Ready", "2", "250m/2", "64Mi/4Gi", "2m5s"]
    assert views.node_row(node(schedulable=False), False, NOW)[1] == "Ready,SchedulingDisabled"
    wide = views.node_row(node(taints=[t.Taint(key="gpu", value="yes", effect="NoSchedule")]), True, NOW)
    assert wide[6:8] == ["zone=a", "gpu=yes:NoSchedule"]


def test_replica_rows_and_usage():
    r = t.Replica(id="web-1", workload="web", index=1, node="node-1", phase="Running", restarts=3,
                  created_at_ms=NOW - 3_000, container_id="0123456789abcdef",
                  usage=t.ContainerUsage(cpu_percent=12.5, memory_bytes=16 << 20, memory_limit_bytes=64 << 20,
                                         sampled_at_ms=NOW))
    assert views.replica_row(r, False, NOW) == ["web-1", "web", "node-1", "Running", "no", "3", "3s"]
    r.ready = True
    assert views.replica_row(r, False, NOW)[4] == "yes"
    assert views.replica_row(r, True, NOW)[9] == "0123456789ab"
    assert views.replica_usage_row(r) == ["web-1", "node-1", "12%", "16Mi/64Mi", "25%"]
    pending = t.Replica(id="web-2", workload="web", phase="Pending")
    assert views.replica_row(pending, False, NOW)[2] == "<none>"
    assert views.replica_usage_row(pending)[2:] == ["-", "-", "-"]
    waiting = t.Replica(id="web-3", workload="web", phase="BackOff", restarts=4, next_restart_ms=NOW + 16_000)
    assert views.replica_row(waiting, False, NOW)[3:6] == ["BackOff (retry in 16s)", "no", "4"]


def test_node_usage_row():
    n = node(usage=t.NodeUsage(cpu_percent=7.25, memory_used_bytes=1 << 30, memory_total_bytes=4 << 30,
                               sampled_at_ms=NOW))
    assert views.node_usage_row(n) == ["node-1", "7.2%", "1Gi/4Gi", "25%"]


REPO = __import__("pathlib").Path(__file__).resolve().parents[3]


def _info(path=REPO / "examples" / "web.yaml") -> pb.WorkloadInfo:
    (w,) = load_file(path)
    return pb.WorkloadInfo(name=w.name, workload_json=json.dumps(workload_to_dict(w), sort_keys=True),
                           generation=2, desired=3, running=2, pending=1, created_at_ms=NOW - 60_000, revision=2,
                           ready=2, up_to_date=3, available=2, rollout=pb.RolloutStatus(state="Progressing"))


def test_workload_row():
    assert views.workload_row(_info(), False, NOW) == ["web", "2/3", "3", "2", "1", "local/busybox:1", "1m"]
    assert views.workload_row(_info(), True, NOW)[7:] == ["2", "Progressing", "-", "100m", "32Mi", "default",
                                                          "app=web"]
    broken = pb.WorkloadInfo(name="x", workload_json="{not json")
    assert views.workload_row(broken, False, NOW)[5] == "-"


def test_describe_workload_says_why_pending():
    d = pb.WorkloadDescription(
        workload=_info(),
        replicas=[t.Replica(id="web-0", workload="web", index=0, node="node-1", phase="Running"),
                  t.Replica(id="web-2", workload="web", index=2, phase="Pending",
                            reason="0/1 nodes fit: 1 insufficient memory")],
        events=[t.Event(id=1, time_ms=NOW - 2000, kind="Replica", object="web-2", type="Warning",
                        reason="FailedScheduling", message="0/1 nodes fit: 1 insufficient memory")])
    text = describe_workload(d, NOW)
    assert "Name:" in text and "web" in text
    assert "Command:        httpd -f -p 8080" in text
    assert "Resources:      cpu 100m, memory 32Mi per replica" in text
    assert "Why not running:\n  web-2 (Pending): 0/1 nodes fit: 1 insufficient memory" in text
    assert "FailedScheduling   Replica/web-2" in text


def test_describe_node():
    d = pb.NodeDescription(node=node(facts=t.NodeFacts(cpus=2, memory_bytes=4 << 30, os="Debian 12",
                                                        kernel="6.1", docker_version="20.10.24")))
    text = describe_node(d, NOW)
    assert "Capacity:       cpu 2, memory 4Gi" in text
    assert "Replicas:\n  <none>" in text and "Events:\n  <none>" in text
    assert "Agent memory" not in text          # no usage sampled yet


def test_describe_node_says_what_the_agent_costs():
    d = pb.NodeDescription(node=node(usage=t.NodeUsage(cpu_percent=12.5, memory_used_bytes=1 << 30,
                                                       memory_total_bytes=4 << 30, sampled_at_ms=NOW,
                                                       agent_memory_bytes=52 << 20)))
    text = describe_node(d, NOW)
    assert "Usage:          cpu 12.5%, memory 1Gi/4Gi" in text
    assert "Agent memory:   52Mi resident" in text


def test_apply_result_text():
    r = pb.ApplyResult(workload="web", action="created", generation=1,
                       placements=[pb.PlannedPlacement(replica="web-0", node="node-1"),
                                   pb.PlannedPlacement(replica="web-1", node="", explanation="0/1 nodes fit")],
                       removed_replicas=["web-5"])
    assert result_text(r, False).splitlines() == [
        "web: created", "  web-0 -> node-1", "  web-1: not placed: 0/1 nodes fit", "  web-5: removed (scale-down)"]
    assert result_text(r, True).splitlines()[0] == "web: would be created (dry run)"


def test_message_dict_keeps_proto_names_and_empty_lists():
    assert message_dict(pb.ListNodesResponse()) == {"nodes": []}
    d = message_dict(pb.ListNodesResponse(nodes=[node()]))
    assert d["nodes"][0]["replica_count"] == 2 and d["nodes"][0]["registered_at_ms"] == NOW - 125_000


def test_replica_outcome_by_restart_policy():
    from orchestra.cli.rollout import replica_outcome
    running = t.Replica(phase="Running", ready=True)
    ok = t.Replica(phase="Exited", exit_code=0)
    bad = t.Replica(phase="Exited", exit_code=3)
    assert replica_outcome(running, "Always") == "ready"
    assert replica_outcome(t.Replica(phase="Running"), "Always") == "waiting"   # not ready yet
    assert replica_outcome(ok, "Always") == "waiting"          # Always restarts it
    assert replica_outcome(ok, "OnFailure") == "completed"
    assert replica_outcome(bad, "OnFailure") == "waiting"      # OnFailure restarts it
    assert replica_outcome(ok, "Never") == "completed"
    assert replica_outcome(bad, "Never") == "failed"
    assert replica_outcome(t.Replica(phase="Failed"), "Never") == "failed"
    assert replica_outcome(t.Replica(phase="Pending"), "Never") == "waiting"
