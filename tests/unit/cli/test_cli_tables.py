import pytest

from orchestra.cli.tables import age, duration, labels_text, percent, shorten, table


def test_table_aligns_columns_with_upper_case_headers():
    text = table(["name", "status"], [["node-1", "Ready"], ["n2", "NotReady"]])
    assert text.splitlines() == [
        "NAME     STATUS",
        "node-1   Ready",
        "n2       NotReady",
    ]


def test_table_no_trailing_spaces_and_none_cells():
    text = table(["a", "b", "c"], [["x", None, ""]])
    assert all(line == line.rstrip() for line in text.splitlines())
    assert text.splitlines()[1] == "x"


@pytest.mark.parametrize("seconds,text", [
    (0, "0s"), (5.9, "5s"), (59, "59s"), (60, "1m"), (200, "3m20s"), (600, "10m"), (3599, "59m"),
    (3600, "1h"), (7380, "2h3m"), (36000, "10h"), (86400, "1d"), (90000, "1d1h"), (86400 * 12, "12d"),
])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_age():
    assert age(1_000, now_ms=6_000) == "5s"
    assert age(10_000, now_ms=5_000) == "0s"      # clock skew never shows negative ages
    assert age(0) == "<unknown>"


def test_percent_labels_shorten():
    assert percent(0) == "0%" and percent(3.14) == "3.1%" and percent(42.4) == "42%"
    assert labels_text({"b": "2", "a": "1"}) == "a=1,b=2" and labels_text({}) == "<none>"
    assert shorten("a\n  b", 10) == "a b" and shorten("x" * 20, 10) == "xxxxxxx..."
