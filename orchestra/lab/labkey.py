"""A lab's own SSH key (ed25519), made once per lab. Every VM of the lab gets its public half
at boot through QEMU's fw_cfg and authorises it before sshd starts, so Vagrant's well-known
insecure key is never accepted and Vagrant need not log in to replace it (a login costs many
seconds under software emulation)."""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PRIVATE = "ssh_key"


def ensure(directory: Path, comment: str = "orchestra-lab") -> tuple[Path, Path]:
    """(private key, public key) files in `directory`, made when missing (private: 0600)."""
    private, public = directory / PRIVATE, directory / f"{PRIVATE}.pub"
    if private.exists() and public.exists():
        return private, public
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    line = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    public.write_bytes(line + f" {comment}\n".encode())
    return private, public
