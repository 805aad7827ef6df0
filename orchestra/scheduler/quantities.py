"""Human forms of CPU and memory amounts for explanations (512Mi, 1.5Gi, 250m, 2)."""
from __future__ import annotations

_UNITS = (("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10))


def format_memory(n: int) -> str:
    n = int(n)
    if n < 0:
        return "-" + format_memory(-n)
    for unit, size in _UNITS:
        if n >= size:
            value = n / size
            text = f"{value:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return f"{n}"


def format_cpu(millis: int) -> str:
    millis = int(millis)
    if millis % 1000 == 0:
        return str(millis // 1000)
    if millis > 1000:
        return f"{millis / 1000:.2f}".rstrip("0").rstrip(".")
    return f"{millis}m"
