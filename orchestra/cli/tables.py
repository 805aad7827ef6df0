"""Plain-text tables and short durations, the way kubectl prints them."""
from __future__ import annotations

import time
from typing import Iterable, Sequence


GAP = 3


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], gap: int = GAP) -> str:
    """Upper-case headers and left-aligned columns separated by `gap` spaces; no trailing spaces."""
    body = [["" if c is None else str(c) for c in row] for row in rows]
    widths = column_widths(headers, body)
    return "\n".join(table_line(row, widths, gap) for row in [[h.upper() for h in headers], *body])


def column_widths(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[int]:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len("" if cell is None else str(cell)))
    return widths


def table_line(row: Sequence[object], widths: Sequence[int], gap: int = GAP) -> str:
    """One row padded to `widths` (a longer cell pushes the rest right, as kubectl's watch does)."""
    cells = ["" if c is None else str(c) for c in row]
    return (" " * gap).join(cell.ljust(widths[i]) if i < len(widths) else cell
                            for i, cell in enumerate(cells)).rstrip()


def age(since_ms: int, now_ms: int | None = None) -> str:
    """Time since `since_ms` like kubectl: 5s, 3m, 2h, 4d (and 3m20s under ten minutes)."""
    if not since_ms:
        return "<unknown>"
    if now_ms is None:
        now_ms = int(time.time() * 1000)
    return duration(max(0, now_ms - since_ms) / 1000)


def duration(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 10:
        return f"{m}m{s}s" if s else f"{m}m"
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m}m" if h < 10 and m else f"{h}h"
    d, h = divmod(h, 24)
    return f"{d}d{h}h" if d < 10 and h else f"{d}d"


def percent(value: float) -> str:
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def labels_text(labels: dict[str, str] | object) -> str:
    items = sorted(dict(labels).items())  # type: ignore[arg-type]
    return ",".join(f"{k}={v}" for k, v in items) or "<none>"


def shorten(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
