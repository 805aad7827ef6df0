"""Secrets at rest: AES-256-GCM bound to the secret's name, an owner-only key file, HMAC digests."""
import hashlib
import json
import os
import stat

import pytest

from orchestra.security.secret_box import KEY_FILE, SecretBox, SecretKeyError, SecretUnreadable

DATA = {"password": b"hunter2", "token": b"\x00\xff"}


def test_sealed_data_opens_again_and_shows_nothing():
    box = SecretBox.ephemeral()
    sealed = box.seal("db", DATA)
    assert box.open("db", sealed, box.key_id) == DATA
    assert b"hunter2" not in sealed.encode() and "aHVudGVyMg" not in sealed   # neither clear nor base64
    assert box.seal("db", DATA) != sealed                                     # a fresh nonce each time


def test_a_sealed_value_is_bound_to_its_secret_and_its_key():
    box = SecretBox.ephemeral()
    sealed = box.seal("db", DATA)
    with pytest.raises(SecretUnreadable, match="does not open"):
        box.open("other", sealed)                  # copied onto another secret: refused
    with pytest.raises(SecretUnreadable, match="sealed under key"):
        SecretBox.ephemeral().open("db", sealed, box.key_id)
    with pytest.raises(SecretUnreadable, match="does not open"):
        SecretBox.ephemeral().open("db", sealed)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretUnreadable):
        box.open("db", tampered)


def test_the_key_file_is_made_once_owner_only_beside_the_pki(tmp_path):
    pki = tmp_path / "pki"
    box = SecretBox.load_or_create(pki)
    path = pki / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(pki.stat().st_mode) == 0o700
    sealed = box.seal("db", DATA)
    os.chmod(path, 0o644)                              # loosened by someone: tightened again
    again = SecretBox.load_or_create(pki)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert again.key_id == box.key_id and again.open("db", sealed) == DATA
    path.write_bytes(b"short")
    with pytest.raises(SecretKeyError, match="not a 32-byte key"):
        SecretBox.load_or_create(pki)


def test_digests_are_keyed_so_the_store_holds_no_guessable_hash():
    a, b = SecretBox.ephemeral(), SecretBox.ephemeral()
    assert a.digest(DATA) == a.digest(dict(DATA)) != a.digest({"password": b"other"})
    assert a.digest(DATA) != b.digest(DATA)
    plain = json.dumps({"password": "aHVudGVyMg==", "token": "AP8="}, sort_keys=True, separators=(",", ":"))
    assert hashlib.sha256(plain.encode()).hexdigest() not in a.digest(DATA)
