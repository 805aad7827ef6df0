"""Records <-> plain JSON-able dicts, the one form every backend stores.

A record is a dataclass of scalars, dicts, lists and nested dataclasses (Resources, Taint,
...). Decoding is driven by the record's own type hints, resolved once per class: a field
missing from the stored dict takes its default (so adding a field needs no migration), a
stored key the class no longer has is ignored.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import typing
from functools import lru_cache
from typing import Any, Callable


def to_dict(rec: Any) -> dict[str, Any]:
    return {f.name: _encode(getattr(rec, f.name)) for f in dataclasses.fields(rec)}


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_dict(value)
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def from_dict(cls: type, data: dict[str, Any]) -> Any:
    decoders = _decoders(cls)
    kwargs = {}
    for name, value in data.items():
        decode = decoders.get(name)
        if decode is not None:
            kwargs[name] = decode(value)
    return cls(**kwargs)


def dumps(rec: Any) -> str:
    return json.dumps(to_dict(rec), sort_keys=True, separators=(",", ":"))


def loads(cls: type, text: str) -> Any:
    return from_dict(cls, json.loads(text))


@lru_cache(maxsize=None)
def _decoders(cls: type) -> dict[str, Callable[[Any], Any]]:
    hints = typing.get_type_hints(cls, vars(sys.modules[cls.__module__]))
    return {f.name: _decoder(hints[f.name]) for f in dataclasses.fields(cls)}


def _identity(value: Any) -> Any:
    return value


def _decoder(hint: Any) -> Callable[[Any], Any]:
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        args = typing.get_args(hint)
        item = _decoder(args[0]) if args else _identity
        if item is _identity:
            return list if origin is list else tuple
        return (lambda v: [item(x) for x in v]) if origin is list else (lambda v: tuple(item(x) for x in v))
    if origin is typing.Union or origin is getattr(__import__("types"), "UnionType", None):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(inner) == 1:
            dec = _decoder(inner[0])
            return lambda v: None if v is None else dec(v)
        return _identity
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda v: from_dict(hint, v)
    return _identity
