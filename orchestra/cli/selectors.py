"""`-l/--selector`: label selectors the way kubectl writes them.

`app=web,tier!=db` is a list of requirements that must all hold:
  key=value, key==value   the label is there with that value
  key!=value              the label is absent or has another value (as in Kubernetes)
  key                     the label is there (any value)
  !key                    the label is absent
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from orchestra.spec.names import label_key_problem, label_value_problem

SYNTAX = "key=value, key!=value, key or !key, joined by commas (e.g. app=web,tier!=db)"


class SelectorError(ValueError):
    pass


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str            # = | != | exists | !exists
    value: str = ""

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.op == "=":
            return labels.get(self.key) == self.value
        if self.op == "!=":
            return labels.get(self.key) != self.value
        if self.op == "exists":
            return self.key in labels
        return self.key not in labels


@dataclass(frozen=True)
class Selector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def __bool__(self) -> bool:
        return bool(self.requirements)


def parse_selector(text: str) -> Selector:
    """`app=web,tier!=db` -> Selector; SelectorError says which part is wrong and what is expected."""
    requirements = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise SelectorError(f"{text!r}: empty requirement; expected {SYNTAX}")
        requirements.append(_requirement(part, text))
    return Selector(tuple(requirements))


def _requirement(part: str, whole: str) -> Requirement:
    if "!=" in part:
        key, _, value = part.partition("!=")
        op = "!="
    elif "=" in part:
        key, _, value = part.partition("==") if "==" in part else part.partition("=")
        op = "="
    elif part.startswith("!"):
        key, value, op = part[1:], "", "!exists"
    else:
        key, value, op = part, "", "exists"
    key, value = key.strip(), value.strip()
    problem = label_key_problem(key)
    if problem:
        raise SelectorError(f"{whole!r}: label key {key!r} {problem}")
    if op in ("=", "!=") and ("=" in value or "!" in value):
        raise SelectorError(f"{whole!r}: {part!r} is not one requirement; expected {SYNTAX}")
    problem = label_value_problem(value)
    if problem:
        raise SelectorError(f"{whole!r}: label value {value!r} {problem}")
    return Requirement(key, op, value)
