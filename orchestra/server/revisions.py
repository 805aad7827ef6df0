"""Numbered revisions of a workload's template: made by an apply that changes the template (or
by an undo / automatic rollback), each with when and what changed; the newest KEEP are kept,
and never one that a replica still runs."""
from __future__ import annotations

import json
from typing import Any

from orchestra.server import configs
from orchestra.spec import codec
from orchestra.spec.model import Workload
from orchestra.store.base import Store
from orchestra.store.records import RevisionRecord

KEEP = 10
MAX_CHANGES_SHOWN = 4


_MISSING = object()


def _diff(a: Any, b: Any, path: str, out: list[str]) -> None:
    if a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            _diff(a.get(k, _MISSING), b.get(k, _MISSING), f"{path}.{k}" if path else k, out)
        return
    name = path.removeprefix("template.")
    if a is _MISSING or a is None:
        out.append(f"{name}: set to {_shown(b)}")
    elif b is _MISSING or b is None:
        out.append(f"{name}: removed")
    else:
        out.append(f"{name}: {_shown(a)} -> {_shown(b)}")


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, separators=(",", ":"))
    return text if len(text) <= 40 else text[:37] + "..."


def change_summary(before: Workload | None, after: Workload) -> str:
    """What changed in the template, tenant and placement, e.g. `env.GREETING: hello -> hi`."""
    if before is None:
        return "first revision"
    changes: list[str] = []
    _diff(codec.revision_part(before), codec.revision_part(after), "", changes)
    if not changes:
        return "no change in the template"
    more = len(changes) - MAX_CHANGES_SHOWN
    return "; ".join(changes[:MAX_CHANGES_SHOWN]) + (f"; and {more} more" if more > 0 else "")


def next_number(store: Store, workload: str, current: int) -> int:
    """Revision numbers are never reused, also after old ones were pruned."""
    known = [r.number for r in store.list_revisions(workload)]
    return max([current, *known]) + 1


def make(workload: Workload, number: int, before: Workload | None, now_ms: int, origin: str = "apply",
         change: str = "", refs: dict | None = None, refs_before: dict | None = None) -> RevisionRecord:
    """`refs`: the snapshot of the configs and secrets it reads (orchestra.server.configs); their
    digests are part of its template hash."""
    refs = refs or {}
    if not change:
        change = change_summary(before, workload)
        moved = configs.refs_change(refs_before or {}, refs) if before is not None else []
        if moved:
            change = "; ".join(moved) if change == "no change in the template" else f"{change}; {'; '.join(moved)}"
    return RevisionRecord(workload=workload.name, number=number, spec_json=codec.to_json(workload),
                          template_hash=codec.template_hash(workload, configs.digests(refs)), created_at_ms=now_ms,
                          change=change, origin=origin, refs=refs)


def prune(store: Store, workload: str, keep: set[int]) -> None:
    """Drop the oldest revisions beyond KEEP, except those in `keep` (current, stable, still running)."""
    revisions = store.list_revisions(workload)
    for rev in revisions[:max(0, len(revisions) - KEEP)]:
        if rev.number not in keep:
            store.delete(RevisionRecord, rev.key)
