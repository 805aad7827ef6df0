"""Short forms of long node-name lists: `vm-1..vm-9, vm-12, db-a +40 more`."""
from __future__ import annotations

import re
from typing import Iterable

_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def _key(name: str) -> tuple[str, int, str]:
    m = _NUMBERED.match(name)
    if m is None:
        return (name, -1, name)
    return (m.group(1), int(m.group(2)), name)


def abbreviate(names: Iterable[str], limit: int = 4) -> str:
    """Names sorted naturally, consecutive numbers folded into ranges, at most `limit` items then `+N more`."""
    items: list[tuple[str, int]] = []     # (text, how many names it covers)
    run: list[tuple[str, int, str]] = []

    def flush() -> None:
        if not run:
            return
        if len(run) >= 3:
            items.append((f"{run[0][2]}..{run[-1][2]}", len(run)))
        else:
            items.extend((r[2], 1) for r in run)
        run.clear()

    for key in sorted(set(_key(n) for n in names)):
        prefix, number, _ = key
        if run and number >= 0 and run[-1][0] == prefix and run[-1][1] == number - 1:
            run.append(key)
            continue
        flush()
        run.append(key)
    flush()
    shown = items[:limit]
    rest = sum(count for _, count in items[limit:])
    text = ", ".join(t for t, _ in shown)
    return f"{text} +{rest} more" if rest else text
