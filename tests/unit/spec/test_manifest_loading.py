"""Files and YAML text: multi-document, syntax errors, binary, size and nesting limits, duplicates."""
from pathlib import Path

import pytest

from orchestra.spec.errors import ManifestError, ManifestErrors
from orchestra.spec.manifest import MAX_FILE_BYTES, load_file, load_files, load_text

REPO = Path(__file__).resolve().parents[3]


def manifest(name: str, extra: str = "") -> str:
    return (f"apiVersion: orchestra/v1\nkind: Workload\nmetadata: {{name: {name}}}\n"
            f"spec:\n  template: {{image: local/busybox:1}}\n{extra}")


def test_multi_document_file_and_empty_documents(tmp_path):
    p = tmp_path / "apps.yaml"
    p.write_text("---\n" + manifest("a") + "---\n---\n# only a comment\n---\n" + manifest("b"))
    assert [w.name for w in load_file(p)] == ["a", "b"]


def test_empty_file_has_no_workloads(tmp_path):
    p = tmp_path / "empty.yaml"
    p.write_text("")
    assert load_file(p) == []


def test_errors_of_every_document_with_document_index():
    text = manifest("a") + "---\n" + manifest("B") + "---\n" + manifest("c", "  replicas: many\n")
    with pytest.raises(ManifestErrors) as e:
        load_text(text, "apps.yaml")
    lines = str(e.value).splitlines()
    assert lines[0].startswith('apps.yaml: document 2: metadata.name: "B" must consist')
    assert lines[1].startswith('apps.yaml: document 3: spec.replicas: expected an integer')


def test_duplicate_names_in_one_file():
    with pytest.raises(ManifestError) as e:
        load_text(manifest("a") + "---\n" + manifest("a"), "apps.yaml")
    assert str(e.value) == ('apps.yaml: document 2: metadata.name: "a" is also the name of document 1; '
                            'names must be unique in one apply')


def test_duplicate_names_across_files(tmp_path):
    (tmp_path / "one.yaml").write_text(manifest("a"))
    (tmp_path / "two.yaml").write_text(manifest("b") + "---\n" + manifest("a"))
    with pytest.raises(ManifestError) as e:
        load_files([tmp_path / "one.yaml", tmp_path / "two.yaml"])
    assert "two.yaml: metadata.name: Workload \"a\" is also defined in" in str(e.value)
    assert [w.name for w in load_files([tmp_path / "two.yaml"])] == ["b", "a"]


def test_yaml_syntax_error_has_line_number():
    text = manifest("a") + "---\napiVersion: orchestra/v1\nkind: [Workload\nmetadata: {name: b}\n"
    with pytest.raises(ManifestError) as e:
        load_text(text, "bad.yaml")
    msg = str(e.value)
    assert msg.startswith("bad.yaml: document 2: line ")
    assert "invalid YAML" in msg


def test_tab_indentation_error():
    with pytest.raises(ManifestError) as e:
        load_text("apiVersion: orchestra/v1\nmetadata:\n\tname: a\n", "tabs.yaml")
    assert "tabs.yaml: document 1: line 3: column 1: invalid YAML" in str(e.value)


def test_duplicate_yaml_key_is_an_error():
    with pytest.raises(ManifestError) as e:
        load_text(manifest("a", "  replicas: 2\n  replicas: 3\n"), "dup.yaml")
    assert "line 7" in str(e.value) and "duplicate key 'replicas' (first at line 6)" in str(e.value)


def test_merge_keys_still_work():
    text = ("base: &b {image: local/busybox:1}\n") 
    text = ("apiVersion: orchestra/v1\nkind: Workload\nmetadata: {name: a}\n"
            "spec:\n  template:\n    <<: {image: local/busybox:1, command: [sh]}\n    command: [true]\n")
    with pytest.raises(ManifestError):   # command: [true] is a boolean: proves the merge was read
        load_text(text, "m.yaml")
    (w,) = load_text(text.replace("[true]", '["true"]'), "m.yaml")
    assert w.spec.template.command == ("true",)


def test_binary_and_non_utf8(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\x7fELF\x00\x01\x02")
    with pytest.raises(ManifestError) as e:
        load_file(p)
    assert str(e.value) == f"{p}: is binary (it contains NUL bytes); expected UTF-8 YAML text"
    p.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(ManifestError) as e:
        load_file(p)
    assert "is not UTF-8 text (byte 0xe9 at offset 9)" in str(e.value)


def test_control_characters_are_a_yaml_error():
    with pytest.raises(ManifestError) as e:
        load_text("a: \x07\n", "bell.yaml")
    assert "invalid YAML" in str(e.value)


def test_too_large(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    with pytest.raises(ManifestError) as e:
        load_file(p)
    assert "is larger than 1 MiB" in str(e.value)


def test_deep_nesting_is_refused():
    with pytest.raises(ManifestError) as e:
        load_text("a: " + "[" * 5000 + "]" * 5000, "deep.yaml")
    assert "nested more than 64 levels deep" in str(e.value)
    with pytest.raises(ManifestError):
        load_text("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)), "deep2.yaml")


def test_alias_bomb_is_cheap():
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    text = "\n".join(lines) + "\n"
    with pytest.raises(ManifestError):
        load_text(text, "bomb.yaml")
    doc = manifest("a").replace("spec:\n", "spec:\n  replicas: 1\n") + "  x: " + "[*h, *h]\n"
    with pytest.raises(ManifestError):
        load_text("\n".join(lines) + "\n---\n" + doc, "bomb2.yaml")


def test_unreadable_file(tmp_path):
    with pytest.raises(ManifestError) as e:
        load_file(tmp_path / "missing.yaml")
    assert str(e.value) == f"{tmp_path / 'missing.yaml'}: cannot read: No such file or directory"
    with pytest.raises(ManifestError) as e:
        load_file(tmp_path)
    assert "cannot read: Is a directory" in str(e.value)


def test_bad_timestamp_scalar():
    with pytest.raises(ManifestError) as e:
        load_text(manifest("a", "  tenant: 2024-13-45\n"), "t.yaml")
    assert str(e.value).startswith("t.yaml: document 1: ")


def test_date_where_string_expected():
    with pytest.raises(ManifestError) as e:
        load_text(manifest("a").replace("local/busybox:1}", "local/busybox:1, env: {D: 2024-01-02}}"), "d.yaml")
    assert 'env.D: expected a string, got the date 2024-01-02 (quote it: "2024-01-02")' in str(e.value)


def test_every_example_is_valid():
    examples = sorted((REPO / "examples").glob("*.yaml"))
    assert examples, "examples/ holds manifests"
    for path in examples:
        assert load_file(path), f"{path} holds at least one workload"


def test_path_with_nul_character():
    with pytest.raises(ManifestError) as e:
        load_file("web\x00.yaml")
    assert "cannot read: embedded null byte" in str(e.value)


def test_many_problems_are_capped_and_counted():
    text = manifest("a") + "".join(f"k{i}: 1\n" for i in range(500))
    with pytest.raises(ManifestErrors) as e:
        load_text(text, "many.yaml")
    lines = str(e.value).splitlines()
    assert len(lines) == 51
    assert lines[-1] == "many.yaml: document 1: ... and 450 more problems in this document"


def test_control_character_line_number():
    with pytest.raises(ManifestError) as e:
        load_text("a: 1\nb: \x07\n", "bell.yaml")
    assert str(e.value) == ("bell.yaml: document 1: line 2: invalid YAML: character U+0007 is not allowed "
                            "(YAML text cannot hold control characters)")
