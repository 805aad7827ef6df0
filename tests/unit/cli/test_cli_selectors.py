"""-l/--selector: kubectl's equality-based label selectors."""
import pytest
from hypothesis import given, strategies as st

from orchestra.cli.selectors import SelectorError, parse_selector

LABELS = {"app": "web", "tier": "front", "example.com/team": "a"}


@pytest.mark.parametrize("text,matches", [
    ("app=web", True), ("app==web", True), ("app=db", False),
    ("app!=db", True), ("app!=web", False), ("zone!=a", True),          # absent counts as "not a"
    ("app=web,tier=front", True), ("app=web,tier=back", False), (" app = web , tier!=back ", True),
    ("tier", True), ("zone", False), ("!zone", True), ("!tier", False),
    ("example.com/team=a", True), ("app=", False),
])
def test_matching(text, matches):
    assert parse_selector(text).matches(LABELS) is matches


@pytest.mark.parametrize("text,needle", [
    ("", "empty requirement"), ("app=web,", "empty requirement"), ("a=b=c", "is not one requirement"),
    ("a!=b=c", "is not one requirement"), ("-bad=x", "label key '-bad'"), ("app=no spaces", "label value"),
    ("=web", "label key ''"),
])
def test_errors_say_what_is_wrong(text, needle):
    with pytest.raises(SelectorError) as e:
        parse_selector(text)
    assert needle in str(e.value)


names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)


@given(st.dictionaries(names, names, max_size=4), names, names)
def test_equal_and_not_equal_are_opposites(labels, key, value):
    assert parse_selector(f"{key}={value}").matches(labels) != parse_selector(f"{key}!={value}").matches(labels)
