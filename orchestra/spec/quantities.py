"""CPU and memory quantities, Kubernetes style: `250m`, `1.5`, `64Mi`, `1Gi`, `500M`, `1e3`.

Parsing is exact (Decimal, never float arithmetic), so `0.1` CPU is exactly 100 millicores and
a quantity that does not come to a whole number of millicores / bytes is refused rather than
rounded behind the user's back.
"""
from __future__ import annotations

import math
import re
from decimal import Context, Decimal, InvalidOperation

CPU_EXAMPLES = "examples: 250m, 1.5, 2"
MEMORY_EXAMPLES = "examples: 64Mi, 1Gi, 500M, 134217728"

MAX_CPU_MILLIS = 100_000 * 1000        # 100k CPUs: anything above is a typo
MAX_MEMORY_BYTES = 1 << 50             # 1 PiB: anything above is a typo
_MAX_TEXT = 64                         # no real quantity is longer

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_CPU_RE = re.compile(rf"^({_NUMBER})(m?)$")
_MEMORY_RE = re.compile(rf"^({_NUMBER})([A-Za-z]*)$")

_MEMORY_SUFFIXES = {
    "": 1,
    "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
# Suffixes people write from habit, with what they most likely meant.
_MEMORY_HINTS = {
    "m": "'m' means milli (thousandths of a byte); use M (megabytes) or Mi (mebibytes)",
    "b": "write bytes without a suffix", "B": "write bytes without a suffix",
    "KB": "use K or Ki", "kB": "use k or Ki", "MB": "use M or Mi", "GB": "use G or Gi",
    "TB": "use T or Ti", "KiB": "use Ki", "MiB": "use Mi", "GiB": "use Gi", "TiB": "use Ti",
    "mi": "use Mi", "gi": "use Gi", "ki": "use Ki", "g": "use G or Gi",
}


class QuantityError(ValueError):
    """A quantity that cannot be understood; the message says what would be valid."""


def _describe(value: object) -> str:
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return '"' + shown.replace('"', '\\"') + '"'
    return repr(value)


def _number_text(value: object, what: str, examples: str) -> str:
    """The text of a YAML/JSON scalar that should be a quantity; refuses other types."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a {what} quantity ({examples})")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise QuantityError(f"{value!r} is not a {what} quantity ({examples})")
        return repr(value)   # shortest text that round-trips: 0.1 stays "0.1"
    if isinstance(value, str):
        text = value.strip()
        if not text or len(text) > _MAX_TEXT:
            raise QuantityError(f"{_describe(value)} is not a {what} quantity ({examples})")
        return text
    raise QuantityError(f"expected a {what} quantity ({examples}), got {type(value).__name__}")


def _decimal(text: str) -> Decimal:
    try:
        d = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regexes admit only numbers
        raise QuantityError(f"{text!r} is not a number")
    if not d.is_finite():
        raise QuantityError(f"{text!r} is not a finite number")
    return d


# Enough precision that no input of _MAX_TEXT characters is ever rounded; tiny exponents are
# refused before arithmetic (they could only be fractions of the smallest unit anyway).
_EXACT = Context(prec=200, Emax=10**6, Emin=-10**6)


def _scaled(number: Decimal, unit: int) -> Decimal | None:
    """number * unit exactly, or None when that is not a whole number."""
    if number != 0 and number.adjusted() < -40:
        return None
    total = _EXACT.multiply(number, Decimal(unit))
    return total if total == total.to_integral_value() else None


def parse_cpu(value: object) -> int:
    """CPU quantity -> millicores. `250m` -> 250, `1.5` -> 1500, `2` or 2 -> 2000."""
    text = _number_text(value, "CPU", CPU_EXAMPLES)
    m = _CPU_RE.match(text)
    if not m:
        raise QuantityError(f"{_describe(value)} is not a CPU quantity ({CPU_EXAMPLES})")
    number = _decimal(m.group(1))
    if number < 0:
        raise QuantityError(f"{_describe(value)}: a CPU quantity must not be negative")
    per_unit = 1 if m.group(2) == "m" else 1000
    # Compare before multiplying: Decimal("1e999999999") * 1000 would overflow the context.
    if number > Decimal(MAX_CPU_MILLIS) / per_unit:
        raise QuantityError(f"{_describe(value)} is absurdly large for a CPU quantity "
                            f"(at most {MAX_CPU_MILLIS // 1000} CPUs)")
    millis = _scaled(number, per_unit)
    if millis is None:
        raise QuantityError(f"{_describe(value)} is not a whole number of millicores "
                            f"(the smallest CPU unit is 1m = 0.001)")
    return int(millis)


def parse_memory(value: object) -> int:
    """Memory quantity -> bytes. `64Mi`, `1Gi`, `500M`, `1e3`, 1024, `128974848`."""
    text = _number_text(value, "memory", MEMORY_EXAMPLES)
    m = _MEMORY_RE.match(text)
    if not m:
        raise QuantityError(f"{_describe(value)} is not a memory quantity ({MEMORY_EXAMPLES})")
    number_text, suffix = m.group(1), m.group(2)
    if suffix not in _MEMORY_SUFFIXES:
        hint = _MEMORY_HINTS.get(suffix, "known suffixes: Ki Mi Gi Ti Pi Ei (powers of 1024), "
                                         "k M G T P E (powers of 1000)")
        raise QuantityError(f"{_describe(value)} is not a memory quantity: unknown suffix "
                            f"{suffix!r} ({hint})")
    number = _decimal(number_text)
    if number < 0:
        raise QuantityError(f"{_describe(value)}: a memory quantity must not be negative")
    unit = _MEMORY_SUFFIXES[suffix]
    if number > Decimal(MAX_MEMORY_BYTES) / unit:
        raise QuantityError(f"{_describe(value)} is absurdly large for a memory quantity "
                            f"(at most {format_memory(MAX_MEMORY_BYTES)})")
    total = _scaled(number, unit)
    if total is None:
        raise QuantityError(f"{_describe(value)} is not a whole number of bytes")
    return int(total)


def format_cpu(millis: int) -> str:
    """Millicores for display: 2000 -> `2`, 250 -> `250m`, 1500 -> `1500m`."""
    if millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


_BINARY_UNITS = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


def format_memory(nbytes: int) -> str:
    """Bytes for display: an exact binary unit when one gives a short number (`64Mi`, `1536Mi`),
    else one decimal of the largest unit (`2.1Gi` for 2177556Ki)."""
    if nbytes < 0:
        return "-" + format_memory(-nbytes)
    for suffix, unit in _BINARY_UNITS:
        if nbytes >= unit and nbytes % unit == 0 and nbytes // unit < 10_000:
            return f"{nbytes // unit}{suffix}"
    for suffix, unit in _BINARY_UNITS:
        if nbytes >= unit:
            shown = f"{nbytes / unit:.1f}"
            if shown.endswith(".0"):
                shown = shown[:-2]
            return f"{shown}{suffix}"
    return str(nbytes)


# -- durations -----------------------------------------------------------------------------

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$")
_DURATION_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, None: 1000}
DURATION_EXAMPLES = "e.g. 500ms, 10s, 5m, 24h, 7d; a plain number is seconds"


def parse_duration_ms(value: object) -> int:
    """'500ms', '10s', '1.5s', '5m', '24h', '7d', or plain seconds ('90', 1.5) -> milliseconds.
    The one grammar of durations for every flag of the CLI, the server and the agent."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise QuantityError(f"invalid duration {_describe(value)}: {DURATION_EXAMPLES}")
    text = str(value).strip().lower()
    m = _DURATION_RE.match(text) if len(text) <= _MAX_TEXT else None
    if not m:
        raise QuantityError(f"invalid duration {str(value)[:_MAX_TEXT]!r}: {DURATION_EXAMPLES}")
    ms = Decimal(m.group(1)) * _DURATION_MS[m.group(2)]
    if ms != ms.to_integral_value():
        raise QuantityError(f"{value!r} is not a whole number of milliseconds")
    return int(ms)
