"""What the page is drawn from: the plane's three listings (nodes, workloads, replicas) as one JSON
document, in the API's own field names (the `-o json` shape), trimmed to what a live view needs.

A replica's placement explanation (every rejection and score) is left out of the stream, all but its
summary line: it can be tens of lines per replica and changes only when the replica is placed, so the
replica page asks for it (`/api/replica`). A workload's manifest arrives parsed."""
from __future__ import annotations

import json

from orchestra.cli.output import message_dict


def workload_view(info) -> dict:
    d = message_dict(info)
    text = d.pop("workload_json", "")
    try:
        d["manifest"] = json.loads(text) if text else {}
    except ValueError:
        d["manifest"] = {}
    return d


def replica_view(r, full: bool = False) -> dict:
    d = message_dict(r)
    if not full:
        placement = d.get("placement") or {}
        d["placement"] = {"summary": placement.get("summary", ""), "node": placement.get("node", "")}
    return d


def cluster_snapshot(nodes, workloads, replicas, listed_at_ms: int, plane: str) -> dict:
    return {
        "plane": plane,
        "listed_at_ms": listed_at_ms,
        "nodes": [message_dict(n) for n in sorted(nodes, key=lambda n: n.name)],
        "workloads": [workload_view(w) for w in sorted(workloads, key=lambda w: w.name)],
        "replicas": [replica_view(r) for r in sorted(replicas, key=lambda r: (r.workload, r.index))],
    }


def same_state(a: dict | None, b: dict) -> bool:
    """Equal but for when they were listed."""
    if a is None:
        return False
    return {k: v for k, v in a.items() if k != "listed_at_ms"} == {k: v for k, v in b.items() if k != "listed_at_ms"}
