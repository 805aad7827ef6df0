"""Secrets at rest on the plane: sealed with AES-256-GCM under a key kept owner-only beside the
plane's PKI (`<data dir>/pki/secrets.key`, 0600 in a 0700 directory, made on first start).

Why AES-GCM (the cryptography library's AESGCM) rather than Fernet: it is authenticated
encryption *with associated data*, and the secret's name is that data, so a sealed value copied
onto another secret's record (or into another revision) does not open, instead of handing one
secret's value to another's users; a 256-bit key; one primitive, no padding, no timestamps.
Each seal takes a fresh random 96-bit nonce: the plane seals once per change of a secret, far
below the 2^32 seals per key that random nonces allow.

Digests: what decides that workloads using a secret roll out is a digest of its content. It is
an HMAC-SHA256 under a key derived from the sealing key (HKDF), never a plain hash: a plain
SHA-256 of a short password in the store would be one dictionary attack away from it.

The key never leaves this process; losing it makes the stored secrets unreadable (apply them
again), so it is backed up with the CA key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import pathlib
from typing import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from orchestra.security.private_files import FILE_MODE, ensure_private_dir, write_private

KEY_FILE = "secrets.key"
KEY_BYTES = 32
NONCE_BYTES = 12


class SecretKeyError(Exception):
    """The key file cannot be used; str() says why and what to do."""


class SecretUnreadable(Exception):
    """A sealed secret does not open with this plane's key; str() names the secret, never its value."""


def _canonical(data: Mapping[str, bytes]) -> bytes:
    return json.dumps({k: base64.b64encode(v).decode("ascii") for k, v in data.items()},
                      sort_keys=True, separators=(",", ":")).encode()


def _associated(name: str) -> bytes:
    return b"orchestra secret\x00" + name.encode()


class SecretBox:
    def __init__(self, key: bytes):
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"a secrets key has {KEY_BYTES} bytes, not {len(key)}")
        self._aead = AESGCM(key)
        self._digest_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                                info=b"orchestra secret digest").derive(key)
        # Names the key (never the key): a secret sealed under another key says so when it fails to open.
        self.key_id = hashlib.sha256(b"orchestra secrets key id\x00" + key).hexdigest()[:16]

    @staticmethod
    def load_or_create(pki_dir: str | os.PathLike) -> "SecretBox":
        d = ensure_private_dir(pki_dir)
        path = pathlib.Path(d) / KEY_FILE
        if not path.exists():
            write_private(path, os.urandom(KEY_BYTES))
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise SecretKeyError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if len(key) != KEY_BYTES:
            raise SecretKeyError(f"{path} holds {len(key)} bytes, not a {KEY_BYTES}-byte key; restore it from "
                                 f"the backup of the data dir (without it, stored secrets cannot be read)")
        if path.stat().st_mode & 0o077:
            os.chmod(path, FILE_MODE)      # owner-only, also when someone loosened it
        return SecretBox(key)

    @staticmethod
    def ephemeral() -> "SecretBox":
        """A key that lives only in this process (an in-memory plane: its store dies with it)."""
        return SecretBox(os.urandom(KEY_BYTES))

    def seal(self, name: str, data: Mapping[str, bytes]) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, _canonical(data), _associated(name))).decode("ascii")

    def open(self, name: str, sealed: str, key_id: str = "") -> dict[str, bytes]:
        if key_id and key_id != self.key_id:
            raise SecretUnreadable(f"secret {name} was sealed under key {key_id}, but this plane's key is "
                                   f"{self.key_id}: restore pki/{KEY_FILE}, or apply the secret again")
        try:
            raw = base64.b64decode(sealed, validate=True)
            plain = self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _associated(name))
        except (InvalidTag, ValueError) as exc:
            raise SecretUnreadable(f"secret {name} does not open with this plane's key (damaged, or sealed for "
                                   f"another secret); apply it again") from exc
        return {k: base64.b64decode(v) for k, v in json.loads(plain).items()}

    def digest(self, data: Mapping[str, bytes]) -> str:
        return "hmac-sha256:" + hmac.new(self._digest_key, _canonical(data), hashlib.sha256).hexdigest()
