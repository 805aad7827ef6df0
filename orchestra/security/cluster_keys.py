"""The key material every plane of one cluster shares, kept in the shared store (etcd) sealed
with a plane token, so that a new plane starts with nothing but that token.

Shared (CLUSTER_FILES in `<data dir>/pki/`): the cluster CA (ca.crt, ca.key: agents and the CLI
trust it, and any plane may sign a joining node's certificate with it) and the key secrets are
sealed with at rest (secrets.key, orchestra.security.secret_box: any leader must open what
another sealed). Each plane's own: its serving certificate (for its own addresses), its admin
certificate and admin.conf, its node-token file; issued from the shared CA at its start.

At `orchestra server --store etcd://...` start, before anything reads `<data dir>/pki`:
  - the store holds no keys: this is the cluster's first plane. It makes what its pki lacks
    (CA, secrets key), takes the token from --plane-token-file or makes one in
    `<data dir>/plane-token` (0600), seals the files with it and stores them, create-only
    (two first planes racing: the second finds the first's keys and needs its token);
  - the store holds keys and the pki holds their CA: a restart, nothing to do;
  - the store holds keys and the pki holds none: a new plane; it needs the token, opens the
    keys with it and writes them (0600, directory 0700);
  - the pki holds another CA: refused (the data dir belongs to another cluster).

Sealing: AES-256-GCM (the cryptography library's AESGCM), a fresh 96-bit nonce, under a key
derived from the token with HKDF-SHA256 (the token is 32 random bytes: no password stretching
needed), the record's name as associated data. Whoever reads the store (a backup, an etcd
member's disk, an etcd client certificate) gets neither the CA key nor the secrets key without
the token; with the token and the store, one gets both. See README "Security: several planes".
"""
from __future__ import annotations

import base64
import json
import os
import pathlib
from typing import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from orchestra.security.ca import create_ca, fingerprint
from orchestra.security.private_files import ensure_private_dir, write_private
from orchestra.security.secret_box import KEY_BYTES as SECRETS_KEY_BYTES, KEY_FILE as SECRETS_KEY_FILE
from orchestra.store.records import ClusterKeysRecord

CLUSTER_FILES = ("ca.crt", "ca.key", SECRETS_KEY_FILE)
TOKEN_FILE = "plane-token"
TOKEN_ENV = "ORCHESTRA_PLANE_TOKEN"
TOKEN_PREFIX = "orchestra-plane-1:"
RECORD = "keys"
NONCE_BYTES = 12


class ClusterKeysError(Exception):
    """The plane cannot get the cluster's keys; str() says why and what to do."""


def new_token() -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def _key(token: str) -> bytes:
    text = token.strip()
    if not text.startswith(TOKEN_PREFIX):
        raise ClusterKeysError(f"the plane token must start with {TOKEN_PREFIX!r} (as the first plane wrote it "
                               f"to <data dir>/{TOKEN_FILE})")
    raw = base64.urlsafe_b64decode(text[len(TOKEN_PREFIX):] + "=" * (-len(text) % 4))
    if len(raw) < 32:
        raise ClusterKeysError("the plane token is too short (it holds 32 random bytes)")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"orchestra cluster keys").derive(raw)


def seal(token: str, files: dict[str, bytes]) -> str:
    payload = json.dumps({k: base64.b64encode(v).decode() for k, v in sorted(files.items())}).encode()
    nonce = os.urandom(NONCE_BYTES)
    return base64.b64encode(nonce + AESGCM(_key(token)).encrypt(nonce, payload, RECORD.encode())).decode()


def open_sealed(token: str, sealed: str) -> dict[str, bytes]:
    try:
        raw = base64.b64decode(sealed, validate=True)
        plain = AESGCM(_key(token)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], RECORD.encode())
    except (InvalidTag, ValueError) as exc:
        raise ClusterKeysError("the plane token does not open this cluster's keys (another cluster's token, "
                               "or mistyped)") from exc
    return {k: base64.b64decode(v) for k, v in json.loads(plain).items()}


def read_token(token_file: str | None, env: dict[str, str] | None = None) -> str | None:
    env = os.environ if env is None else env
    if token_file:
        try:
            return pathlib.Path(token_file).read_text().strip()
        except OSError as exc:
            raise ClusterKeysError(f"cannot read the plane token {token_file}: {exc.strerror or exc}") from exc
    return env.get(TOKEN_ENV) or None


def _local_files(pki: pathlib.Path) -> dict[str, bytes]:
    return {name: (pki / name).read_bytes() for name in CLUSTER_FILES if (pki / name).exists()}


def share(data_dir: str | os.PathLike, store, plane: str, token: str | None,
          clock_ms: Callable[[], int]) -> pathlib.Path | None:
    """Make `<data dir>/pki` hold the cluster's shared files (see the module's doc). Returns the
    token file when this plane made the token (the cluster's first plane), else None."""
    data = pathlib.Path(data_dir)
    pki = ensure_private_dir(data / "pki")
    record = store.get(ClusterKeysRecord, RECORD)
    if record is None:
        made = _first_plane(data, pki, store, plane, token, clock_ms)
        if made is not False:
            return made
        record = store.get(ClusterKeysRecord, RECORD)     # another first plane stored its keys first
    local = _local_files(pki)
    if "ca.crt" in local:
        if fingerprint(local["ca.crt"]) != record.ca_fingerprint:
            raise ClusterKeysError(
                f"{pki} holds the CA of another cluster (sha256 {fingerprint(local['ca.crt'])[:16]}...) than the "
                f"store's (sha256 {record.ca_fingerprint[:16]}..., stored by plane {record.created_by}): use a data "
                f"dir of this cluster, or move {pki} away and start with this cluster's plane token")
        if set(CLUSTER_FILES) <= set(local):
            return None
    if not token:
        raise ClusterKeysError(
            f"this cluster's keys are in the store, sealed with its plane token (plane {record.created_by} made "
            f"them): start this plane with --plane-token-file FILE or ${TOKEN_ENV} (the first plane wrote the "
            f"token to its <data dir>/{TOKEN_FILE})")
    files = open_sealed(token, record.sealed)
    if fingerprint(files["ca.crt"]) != record.ca_fingerprint:
        raise ClusterKeysError("the cluster's stored keys are damaged (their CA does not match the record)")
    for name, content in files.items():
        if name in CLUSTER_FILES and (name not in local or name == SECRETS_KEY_FILE):
            write_private(pki / name, content)
    return None


def _first_plane(data: pathlib.Path, pki: pathlib.Path, store, plane: str, token: str | None,
                 clock_ms: Callable[[], int]) -> pathlib.Path | None | bool:
    """Store this plane's keys (made if missing) as the cluster's. False: another plane was first."""
    local = _local_files(pki)
    if ("ca.crt" in local) != ("ca.key" in local):
        raise ClusterKeysError(f"{pki}: found only one of ca.crt and ca.key; restore both or remove both")
    made = []
    if "ca.crt" not in local:
        ca = create_ca()
        made += [write_private(pki / "ca.key", ca.key_pem), write_private(pki / "ca.crt", ca.cert_pem)]
    if SECRETS_KEY_FILE not in local:
        made.append(write_private(pki / SECRETS_KEY_FILE, os.urandom(SECRETS_KEY_BYTES)))
    local = _local_files(pki)
    token_file = None
    if not token:
        token = new_token()
        token_file = write_private(data / TOKEN_FILE, token + "\n")
    record = ClusterKeysRecord(name=RECORD, sealed=seal(token, local), ca_fingerprint=fingerprint(local["ca.crt"]),
                               created_at_ms=clock_ms(), created_by=plane)
    from orchestra.store.etcd import StoreConflictError
    try:
        with store.transaction():
            raced = store.get(ClusterKeysRecord, RECORD) is not None
            if not raced:
                store.put(record)
    except StoreConflictError:   # another plane stored its keys between our read and our write
        raced = True
    if raced:                    # what this plane made for itself is not the cluster's
        for path in [*made, *([token_file] if token_file else [])]:
            path.unlink(missing_ok=True)
        return False
    return token_file
