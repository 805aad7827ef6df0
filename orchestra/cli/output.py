"""-o json|yaml: API messages as dicts (MessageToDict, proto field names, int64 as numbers)."""
from __future__ import annotations

import json
from typing import Any

import click
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

FORMATS = ("wide", "json", "yaml")


def message_dict(msg: Message) -> dict[str, Any]:
    return MessageToDict(msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True,
                         unquote_int64_if_possible=True)


def emit(data: Any, fmt: str) -> None:
    if isinstance(data, Message):
        data = message_dict(data)
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        import yaml     # only for -o yaml: it costs a read command's start-up otherwise
        click.echo(yaml.safe_dump(data, sort_keys=True, default_flow_style=False, allow_unicode=True).rstrip())
