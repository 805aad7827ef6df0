"""orchestra.spec.fields: the metadata every kind shares (name and labels), with its errors."""
from __future__ import annotations

from orchestra.spec import names
from orchestra.spec.fields import Fields

HOME = {"name": "metadata", "labels": "metadata"}


def test_metadata_name_and_labels():
    f = Fields("app.yaml", 1)
    got = f.metadata({"metadata": {"name": "db", "labels": {"tier": "data"}}}, HOME, names.dns_label_problem, "web")
    assert got == ("db", {"tier": "data"}) and f.errors == []


def test_metadata_missing_says_what_to_write():
    f = Fields("app.yaml", 2)
    assert f.metadata({}, HOME, names.dns_label_problem, "web-config") == (None, {})
    [e] = f.errors
    assert e.field == "metadata" and "e.g. {name: web-config}" in str(e)


def test_metadata_bad_name_unknown_field_and_bad_label_are_all_reported():
    f = Fields("app.yaml", 1)
    name, labels = f.metadata({"metadata": {"name": "Bad_Name", "label": {}, "labels": {"": "x"}}}, HOME,
                              names.dns_label_problem, "web", "containers resolve it")
    assert name is None
    paths = sorted(e.field for e in f.errors)
    assert paths == ["metadata.label", 'metadata.labels[""]', "metadata.name"], f.errors
    unknown = next(e for e in f.errors if e.field == "metadata.label")
    assert "labels" in str(unknown)            # the suggestion
