"""Config and Secret documents: parsing, the canonical form, and errors that never show a secret."""
import base64

import pytest

from orchestra.spec import codec
from orchestra.spec.configs import MAX_DATA_BYTES, Config, Secret
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import load_text

SECRET_VALUE = "hunter2-very-secret"


def one(text: str):
    [doc] = load_text(text, "s.yaml")
    return doc


def errors(text: str) -> str:
    with pytest.raises(ManifestError) as e:
        load_text(text, "s.yaml")
    return str(e.value)


def test_config_holds_text_entries_and_round_trips():
    c = one("apiVersion: orchestra/v1\nkind: Config\nmetadata: {name: web, labels: {app: web}}\n"
            "data: {app.conf: \"listen 80\\n\", mode: fast}\n")
    assert c == Config(name="web", data={"app.conf": "listen 80\n", "mode": "fast"}, labels={"app": "web"})
    assert codec.from_json(codec.to_json(c), "x") == c
    assert c.sizes() == {"app.conf": 10, "mode": 4}


def test_secret_takes_base64_data_and_string_data_and_keeps_bytes():
    token = base64.b64encode(b"\x00\xff").decode()
    s = one("apiVersion: orchestra/v1\nkind: Secret\nmetadata: {name: db}\n"
            f"data: {{token: {token}}}\nstringData: {{password: {SECRET_VALUE}}}\n")
    assert s.data == {"token": b"\x00\xff", "password": SECRET_VALUE.encode()}
    # Canonically every value is base64 under data, whatever form it came in.
    assert codec.to_json(s).count(base64.b64encode(SECRET_VALUE.encode()).decode()) == 1
    assert codec.from_json(codec.to_json(s), "x") == s


def test_a_secret_never_shows_its_values():
    s = Secret(name="db", data={"password": SECRET_VALUE.encode()})
    assert SECRET_VALUE not in repr(s) and SECRET_VALUE not in str(s)
    assert "password" in repr(s) and str(len(SECRET_VALUE)) in repr(s)


@pytest.mark.parametrize("data, expected", [
    ("stringData: {password: 12345}", "stringData.password: expected a string, got a number (quote the value)"),
    (f"stringData: {{password: [{SECRET_VALUE}]}}", "stringData.password: expected a string, got a list"),
    (f"data: {{password: '{SECRET_VALUE}!'}}", "data.password: is not valid base64"),
    (f"data: {{password: cGFzcw==}}\nstringData: {{password: {SECRET_VALUE}}}", 'key "password" is also in data'),
])
def test_errors_about_secret_values_name_the_key_never_the_value(data, expected):
    text = errors(f"apiVersion: orchestra/v1\nkind: Secret\nmetadata: {{name: db}}\n{data}\n")
    assert expected in text
    assert SECRET_VALUE not in text and "12345" not in text


@pytest.mark.parametrize("body, expected", [
    ("data: {'a/b': x}", 'data["a/b"]: key "a/b" must consist of letters, digits'),
    ("data: {'..': x}", "must consist of letters, digits"),
    ("data: {a: 3}", "data.a: expected a string (the entry's text), got the number 3"),
    ("spec: {}", "spec: unknown field"),
    ("data: {a: b}\nextra: 1", "extra: unknown field"),
])
def test_config_errors_are_precise(body, expected):
    assert expected in errors(f"apiVersion: orchestra/v1\nkind: Config\nmetadata: {{name: c}}\n{body}\n")


def test_an_object_too_big_to_travel_is_refused():
    big = "x" * (MAX_DATA_BYTES + 1)
    text = errors(f"apiVersion: orchestra/v1\nkind: Config\nmetadata: {{name: c}}\ndata: {{a: {big}}}\n")
    assert "data: holds" in text and "at most 256 KiB" in text


def test_names_are_unique_per_kind_only():
    docs = load_text("apiVersion: orchestra/v1\nkind: Config\nmetadata: {name: web}\ndata: {}\n---\n"
                     "apiVersion: orchestra/v1\nkind: Secret\nmetadata: {name: web}\nstringData: {}\n", "x")
    assert [d.KIND for d in docs] == ["Config", "Secret"]
