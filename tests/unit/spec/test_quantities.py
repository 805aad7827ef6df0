import math

import pytest

from orchestra.spec.quantities import parse_duration_ms, QuantityError, format_cpu, format_memory, parse_cpu, parse_memory


@pytest.mark.parametrize("text,millis", [
    ("250m", 250), ("1.5", 1500), (2, 2000), ("2", 2000), (0.25, 250), (0.1, 100), ("1e3m", 1000),
    (" 500m ", 500), ("0", 0), (".5", 500), ("1.", 1000), (10**3, 10**6),
])
def test_parse_cpu(text, millis):
    assert parse_cpu(text) == millis


@pytest.mark.parametrize("bad,fragment", [
    ("abc", "is not a CPU quantity (examples: 250m, 1.5, 2)"),
    ("-1", "must not be negative"), (-0.5, "must not be negative"),
    ("1.5m", "whole number of millicores"), ("0.0001", "whole number of millicores"),
    ("1e-999999999", "whole number of millicores"),
    ("1.000000000000000000000000000001", "whole number of millicores"),
    (True, "is not a CPU quantity"), (False, "is not a CPU quantity"),
    (math.nan, "is not a CPU quantity"), (math.inf, "is not a CPU quantity"), ("nan", "is not a CPU"),
    ("inf", "is not a CPU"), ("1e999999999", "absurdly large"), (10**12, "absurdly large"),
    ("", "is not a CPU"), ("250 m", "is not a CPU"), ("2Gi", "is not a CPU"), (None, "got NoneType"),
    ([1], "got list"), ("1" * 100, "is not a CPU"),
])
def test_parse_cpu_rejects(bad, fragment):
    with pytest.raises(QuantityError) as e:
        parse_cpu(bad)
    assert fragment in str(e.value)


@pytest.mark.parametrize("text,nbytes", [
    ("64Mi", 64 << 20), ("1Gi", 1 << 30), ("500M", 500 * 10**6), ("1e3", 1000), (1024, 1024),
    ("128974848", 128974848), ("1.5Gi", 3 << 29), ("1k", 1000), ("1K", 1000), ("2Ki", 2048),
    ("1Ti", 1 << 40), ("1Pi", 1 << 50), ("0", 0), (1e3, 1000), ("0.5Ki", 512),
])
def test_parse_memory(text, nbytes):
    assert parse_memory(text) == nbytes


@pytest.mark.parametrize("bad,fragment", [
    ("64MB", "use M or Mi"), ("1m", "'m' means milli"), ("1GiB", "use Gi"), ("5X", "unknown suffix 'X'"),
    ("0.5", "whole number of bytes"), ("1.3Ki", "whole number of bytes"), ("-1Mi", "must not be negative"),
    ("1Ei", "absurdly large"), ("1e30", "absurdly large"), (True, "is not a memory quantity"),
    (math.nan, "is not a memory quantity"), ("Mi", "is not a memory quantity"), ({}, "got dict"),
])
def test_parse_memory_rejects(bad, fragment):
    with pytest.raises(QuantityError) as e:
        parse_memory(bad)
    assert fragment in str(e.value)


@pytest.mark.parametrize("millis,text", [(250, "250m"), (2000, "2"), (1500, "1500m"), (0, "0")])
def test_format_cpu(millis, text):
    assert format_cpu(millis) == text
    assert parse_cpu(text) == millis


@pytest.mark.parametrize("nbytes,text", [
    (64 << 20, "64Mi"), (1 << 30, "1Gi"), (3 << 29, "1536Mi"), ((3 << 29) + 1, "1.5Gi"), (1000, "1000"), (1536, "1.5Ki"),
    (0, "0"), (123456789, "117.7Mi"), (-(64 << 20), "-64Mi"), (2177556 << 10, "2.1Gi"), (1025 << 20, "1025Mi"),
])
def test_format_memory(nbytes, text):
    assert format_memory(nbytes) == text


@pytest.mark.parametrize("text, ms", [("10s", 10_000), ("500ms", 500), ("2m", 120_000), ("1.5", 1500),
                                      ("0.25s", 250), ("24h", 86_400_000), ("7d", 604_800_000), (3, 3000)])
def test_durations(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["", "soon", "-1s", "1.2.3s", "1x", "h", "0.5ms", True])
def test_bad_durations(text):
    with pytest.raises(QuantityError, match="duration|milliseconds"):
        parse_duration_ms(text)
