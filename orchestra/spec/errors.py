"""Errors of manifests: each names the file, the document, the field and what would be valid."""
from __future__ import annotations

from typing import Iterable


class ManifestError(Exception):
    """One problem in a manifest.

    str() reads like
    `web.yaml: document 2: spec.template.resources.cpu: "abc" is not a CPU quantity (examples: 250m, 1.5, 2)`.
    `document` is 1-based (None for problems of the whole file); `line` is set where the YAML
    parser knows it (syntax errors).
    """

    def __init__(self, source: str, message: str, document: int | None = None,
                 field: str = "", line: int | None = None) -> None:
        self.source = source
        self.message = message
        self.document = document
        self.field = field
        self.line = line
        super().__init__(self._text())

    def _text(self) -> str:
        parts = [self.source or "<input>"]
        if self.document is not None:
            parts.append(f"document {self.document}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self._text()


class ManifestErrors(ManifestError):
    """Every problem found in one load, one per line (users fix them all in one go)."""

    # Past this many, the rest are counted rather than listed: a generated file with
    # thousands of bad entries should not flood the terminal.
    MAX_LISTED = 100

    def __init__(self, errors: Iterable[ManifestError]) -> None:
        self.errors: list[ManifestError] = []
        for e in errors:  # flattened, so that nesting loads (files -> documents) reads as one list
            self.errors.extend(e.errors if isinstance(e, ManifestErrors) else [e])
        if not self.errors:
            raise ValueError("ManifestErrors needs at least one error")
        first = self.errors[0]
        super().__init__(first.source, first.message, first.document, first.field, first.line)

    def _text(self) -> str:
        lines = [str(e) for e in self.errors[: self.MAX_LISTED]]
        hidden = len(self.errors) - self.MAX_LISTED
        if hidden > 0:
            lines.append(f"... and {hidden} more problems")
        return "\n".join(lines)


def raise_collected(errors: list[ManifestError]) -> None:
    """Raise the one error, or all of them as ManifestErrors; nothing when the list is empty."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ManifestErrors(errors)
