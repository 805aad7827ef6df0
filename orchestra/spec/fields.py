"""Typed readers for one document's fields: each checks a value, records a precise error
(with the field path) when it is wrong, and returns the value or None.

Errors are collected, not raised, so that one run reports every problem of a document.
"""
from __future__ import annotations

import datetime
import difflib
import re
from typing import Any, Callable, Mapping, Sequence

from orchestra.spec import names
from orchestra.spec.errors import ManifestError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
METADATA_FIELDS = ("name", "labels")        # every kind's metadata


def describe(value: Any) -> str:
    """How a value of the wrong type is named in an error (never the whole of a big value)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "the string " + quote(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return f"the date {value.isoformat()}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, (bytes, bytearray)):
        return "binary data"
    return f"a {type(value).__name__}"


def quote(text: str, limit: int = 60) -> str:
    shown = text if len(text) <= limit else text[: limit - 3] + "..."
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _scalar_text(value: Any) -> str:
    """The text a user would quote to turn a YAML scalar into the string they meant."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return repr(value) if isinstance(value, float) else str(value)


class Fields:
    """Error collector for one document: the source, the 1-based index and the problems."""

    # Past this many problems in one document the rest are only counted: a generated file with
    # a hundred thousand bad keys should fail fast, not spend seconds on suggestions.
    MAX_ERRORS = 50

    def __init__(self, source: str, index: int) -> None:
        self.source = source
        self.index = index
        self.errors: list[ManifestError] = []
        self.dropped = 0

    @property
    def full(self) -> bool:
        if len(self.errors) >= self.MAX_ERRORS:
            self.dropped += 1
            return True
        return False

    def all_errors(self) -> list[ManifestError]:
        if not self.dropped:
            return self.errors
        return self.errors + [ManifestError(self.source, f"... and {self.dropped} more problems in this document",
                                            self.index)]

    # -- paths and errors ---------------------------------------------------------------

    @staticmethod
    def key(path: str, name: str) -> str:
        if _IDENT.match(name):
            return f"{path}.{name}" if path else name
        return f"{path}[{quote(name)}]"

    @staticmethod
    def item(path: str, i: int) -> str:
        return f"{path}[{i}]"

    def error(self, path: str, message: str) -> None:
        if self.full:
            return
        self.errors.append(ManifestError(self.source, message, self.index, path))

    def wrong_type(self, path: str, expected: str, value: Any) -> None:
        if self.full:
            return
        hint = ""
        if expected.startswith("a string") and isinstance(value, (bool, int, float, datetime.date)):
            text = _scalar_text(value)
            hint = f' (quote it: "{text}")'
            if isinstance(value, bool):
                hint += "; YAML reads unquoted yes/no/on/off/true/false as booleans"
        elif expected.startswith("an integer") and isinstance(value, str):
            try:
                int(value)
                hint = " (remove the quotes)"
            except ValueError:
                pass
        self.errors.append(ManifestError(self.source, f"expected {expected}, got {describe(value)}{hint}",
                                         self.index, path))

    # -- mappings -----------------------------------------------------------------------

    def mapping(self, value: Any, path: str, known: Sequence[str], elsewhere: Mapping[str, str] = {},
                what: str = "a mapping") -> dict[str, Any] | None:
        """The known keys of a mapping; null counts as empty. Unknown keys are errors with a hint."""
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.wrong_type(path, what, value)
            return None
        out: dict[str, Any] = {}
        for k, v in value.items():
            if not isinstance(k, str):
                self.error(path, f"keys must be strings, got {describe(k)}")
                continue
            if k in known:
                out[k] = v
                continue
            if not self.full:
                self.error(self.key(path, k), "unknown field" + suggestion(k, known, elsewhere))
        return out

    def metadata(self, top: Mapping[str, Any], home: Mapping[str, str], name_problem: Callable[[str], str | None],
                 example: str, meaning: str = "") -> tuple[str | None, dict[str, str] | None]:
        """`metadata: {name, labels}` of a top-level document of any kind: its name (checked by
        `name_problem`; `example` and `meaning` go into the messages) and labels. `home` says where
        fields put at the wrong level belong, for the hint."""
        meta = self.mapping(top.get("metadata"), "metadata", METADATA_FIELDS, home)
        if meta is None:
            return None, None
        name = None
        if "metadata" not in top:
            self.error("metadata", f"required field is missing (expected a mapping with name, e.g. {{name: {example}}})")
        else:
            name = self.string(meta.get("name"), "metadata.name", name_problem, required=True,
                               expected=f"a name, e.g. {example}" + (f" ({meaning})" if meaning else ""))
        labels = self.string_map(meta.get("labels"), "metadata.labels", names.label_key_problem,
                                 names.label_value_problem, key_what="label key")
        return name, labels

    # -- scalars ------------------------------------------------------------------------

    def string(self, value: Any, path: str, check: Callable[[str], str | None] | None = None,
               required: bool = False, default: str = "", expected: str = "a string") -> str | None:
        if value is None:
            if required:
                self.error(path, f"required field is missing (expected {expected})")
                return None
            return default
        if not isinstance(value, str):
            self.wrong_type(path, expected, value)
            return None
        if "\x00" in value:
            self.error(path, "must not contain NUL characters")
            return None
        if required and not value:
            self.error(path, f"must not be empty (expected {expected})")
            return None
        if check is not None and value:
            problem = check(value)
            if problem:
                self.error(path, f"{quote(value)} {problem}")
                return None
        return value

    def choice(self, value: Any, path: str, choices: Sequence[str], default: str,
               allow_empty: bool = False) -> str | None:
        listed = " | ".join(choices)
        if value is None:
            return default
        if not isinstance(value, str):
            self.wrong_type(path, f"one of {listed}", value)
            return None
        if value == "" and allow_empty:
            return ""
        if value in choices:
            return value
        for c in choices:   # case slips are common (always, TCP): accept nothing, but say so
            if c.lower() == value.lower():
                self.error(path, f"{quote(value)} is not valid: did you mean {c}? (expected one of {listed})")
                return None
        self.error(path, f"{quote(value)} is not valid (expected one of {listed})")
        return None

    def integer(self, value: Any, path: str, low: int, high: int, default: int | None = None) -> int | None:
        """An integer in [low, high]; a missing value is `default`, or an error when there is none."""
        if value is None:
            if default is None:
                self.error(path, f"required field is missing (expected an integer from {low} to {high})")
            return default
        if isinstance(value, float) and value.is_integer() and low <= value <= high:
            value = int(value)   # JSON writers sometimes emit 3.0 for 3
        if isinstance(value, bool) or not isinstance(value, int):
            self.wrong_type(path, f"an integer from {low} to {high}", value)
            return None
        if not low <= value <= high:
            self.error(path, f"{value} is out of range (expected an integer from {low} to {high})")
            return None
        return value

    def boolean(self, value: Any, path: str, default: bool) -> bool | None:
        if value is None:
            return default
        if not isinstance(value, bool):
            self.wrong_type(path, "true or false", value)
            return None
        return value

    # -- collections --------------------------------------------------------------------

    def list_of(self, value: Any, path: str, example: str) -> list[Any] | None:
        if value is None:
            return []
        if not isinstance(value, (list, tuple)):
            self.wrong_type(path, f"a list (e.g. {example})", value)
            return None
        return list(value)

    def string_list(self, value: Any, path: str, example: str,
                    check: Callable[[str], str | None] | None = None) -> tuple[str, ...] | None:
        items = self.list_of(value, path, example)
        if items is None:
            return None
        out, ok = [], True
        for i, v in enumerate(items):
            p = self.item(path, i)
            if v is None:
                self.wrong_type(p, "a string", v)
                ok = False
                continue
            s = self.string(v, p, check)
            ok = ok and s is not None
            out.append(s)
        return tuple(out) if ok else None

    def string_map(self, value: Any, path: str, key_check: Callable[[str], str | None],
                   value_check: Callable[[str], str | None] | None = None,
                   key_what: str = "key") -> dict[str, str] | None:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.wrong_type(path, "a mapping of strings to strings", value)
            return None
        out: dict[str, str] = {}
        ok = True
        for k, v in value.items():
            if not isinstance(k, str):
                self.error(path, f"{key_what}s must be strings, got {describe(k)}")
                ok = False
                continue
            p = self.key(path, k)
            problem = key_check(k) if k else "must not be empty"
            if problem:
                self.error(p, f"{key_what} {quote(k)} {problem}" if k else f"{key_what} {problem}")
                ok = False
                continue
            if v is None:
                self.wrong_type(p, "a string", v)
                ok = False
                continue
            s = self.string(v, p, value_check)
            if s is None:
                ok = False
                continue
            out[k] = s
        return out if ok else None


def suggestion(name: str, known: Sequence[str], elsewhere: Mapping[str, str] = {}) -> str:
    """' (did you mean X?)' for a misspelt or misplaced field name, else the list of known ones."""
    squashed = name.replace("_", "").replace("-", "").lower()
    for k in known:
        if k.lower() == squashed:
            return f" (did you mean {k}?)"
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]}?)"
    if name in elsewhere:
        return f" ({name} belongs in {elsewhere[name]})"
    return f" (known fields: {', '.join(known)})"
