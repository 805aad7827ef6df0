"""The one JSON form of a workload, and the hash that decides when its containers are re-created.

The CLI sends, the plane stores and compares, and both parse this form only: canonical JSON
(sorted keys, compact) of orchestra.spec.model.workload_to_dict. A revision is what of a
workload ends up in its containers or decides where they run (template, tenant, placement);
`template_hash` is computed over that part alone, so a change of replicas, priority, labels or
the update strategy makes no revision and re-creates nothing.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import parse_document
from orchestra.spec.model import Workload, workload_to_dict

REVISION_FIELDS = ("template", "tenant", "placement")


def _canonical(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def to_json(doc: Any) -> str:
    """A Workload, or a document of another kind (anything with to_dict)."""
    return _canonical(doc.to_dict())


def from_json(text: str, source: str, index: int = 1) -> Any:
    """Validate one JSON document (of any kind); raises ManifestError naming `source` and `index`."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ManifestError(source, "JSON nested too deeply", index) from None
    except (TypeError, ValueError) as exc:
        raise ManifestError(source, f"not valid JSON: {exc}", index) from None
    return parse_document(data, source=source, index=index)


def revision_part(w: Workload) -> dict[str, Any]:
    spec = workload_to_dict(w)["spec"]
    return {k: spec[k] for k in REVISION_FIELDS}


def template_hash(w: Workload, refs: Mapping[str, str] | None = None) -> str:
    """`refs`: a content digest of each config and secret the template uses ("secret/db" -> digest,
    orchestra.server.configs): a change of what they hold makes a new revision like a change of the
    template. A workload that uses none hashes as it did before configs existed."""
    part = revision_part(w)
    if refs:
        part = {**part, "refs": dict(refs)}
    return hashlib.sha256(_canonical(part).encode()).hexdigest()


def with_revision_part(w: Workload, part: dict[str, Any]) -> Workload:
    """`w` with the template, tenant and placement of an older revision (rollout undo)."""
    doc = workload_to_dict(w)
    doc["spec"].update(part)
    return parse_document(doc, source="<revision>", index=1)
