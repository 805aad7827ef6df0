"""A strict, bounded YAML reader for manifests.

yaml.safe_load_all with three guards: a duplicate key is an error (PyYAML silently keeps the
last one, which hides typos), nesting deeper than MAX_DEPTH is an error (the composer is
recursive; without this a crafted file ends in RecursionError), and every failure of the
parser becomes a ManifestError with the line number.
"""
from __future__ import annotations

from typing import Any, Iterator

import yaml

from orchestra.spec.errors import ManifestError

MAX_DEPTH = 64          # a manifest nests about 7 levels; 64 leaves room for anything sane
MERGE_TAG = "tag:yaml.org,2002:merge"


class _TooDeep(yaml.MarkedYAMLError):
    pass


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _StrictChecks:
    """Composer/constructor hooks shared by both loaders: refuse duplicate keys and deep nesting."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _TooDeep(problem=f"nested more than {MAX_DEPTH} levels deep",
                               problem_mark=self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            seen: dict[tuple[str, str], Any] = {}
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.tag != MERGE_TAG:
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        first = seen[key].line + 1
                        raise _DuplicateKey(
                            problem=f"duplicate key {key_node.value!r} (first at line {first})",
                            problem_mark=key_node.start_mark)
                    seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep)


class StrictSafeLoader(_StrictChecks, yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that refuses duplicate keys and deep nesting."""


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml
    CParser = None

if CParser is not None:
    from yaml.composer import Composer
    from yaml.constructor import SafeConstructor
    from yaml.resolver import Resolver

    class FastStrictSafeLoader(_StrictChecks, Composer, SafeConstructor, Resolver, CParser):
        """libyaml's parser (about 4x faster) for the events, PyYAML's own composer on top, so
        that the depth and duplicate-key checks above still run node by node."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            Composer.__init__(self)

    LOADER: type = FastStrictSafeLoader
else:  # pragma: no cover - depends on how PyYAML was built
    LOADER = StrictSafeLoader


def documents(text: str, source: str) -> Iterator[tuple[int, Any]]:
    """(1-based index, data) of each document of `text`, empty ones included (data None)."""
    index = 0
    loader = None
    try:
        while True:
            try:
                if loader is None:
                    loader = LOADER(text)   # the reader already checks characters
                if not loader.check_data():
                    return
                index += 1
                data = loader.get_data()
            except yaml.MarkedYAMLError as e:
                mark = e.problem_mark or e.context_mark
                problem = e.problem or e.context or "invalid YAML"
                if mark is None:
                    raise ManifestError(source, f"invalid YAML: {problem}", document=max(index, 1)) from None
                raise ManifestError(source, f"column {mark.column + 1}: invalid YAML: {problem}",
                                    document=max(index, 1), line=mark.line + 1) from None
            except yaml.reader.ReaderError as e:   # a character YAML does not allow
                line = text.count("\n", 0, max(0, e.position)) + 1
                raise ManifestError(source, f"invalid YAML: character {_char(e.character)} is not allowed "
                                            f"(YAML text cannot hold control characters)",
                                    document=max(index, 1), line=line) from None
            except yaml.YAMLError as e:
                raise ManifestError(source, f"invalid YAML: {_one_line(e)}", document=max(index, 1)) from None
            except RecursionError:
                raise ManifestError(source, "invalid YAML: nested too deeply", document=max(index, 1)) from None
            except (ValueError, TypeError, OverflowError, ArithmeticError) as e:
                # PyYAML's constructors raise plain built-in errors for some malformed scalars
                # (e.g. a timestamp 2024-13-45): input problems, so reported as such.
                raise ManifestError(source, f"invalid YAML value: {e}", document=max(index, 1)) from None
            yield index, data
    finally:
        if loader is not None:
            loader.dispose()


def _char(c: object) -> str:
    return f"U+{c:04X}" if isinstance(c, int) else repr(c)


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())
