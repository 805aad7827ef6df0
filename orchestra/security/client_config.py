"""The CLI's client config: which plane to call and with which credentials.

Found by precedence: `--config PATH` > `$ORCHESTRA_CONFIG` > `~/.orchestra/config`.
A JSON object:

  {"server": "127.0.0.1:7443",          (or the planes of one cluster: "a:7443,b:7443")
   "ca_pem": "-----BEGIN CERTIFICATE-----...", "cert_pem": "...", "key_pem": "..."}

Instead of the inline `*_pem` fields, `ca`, `cert` and `key` may name PEM files (relative
paths are relative to the config file's folder). The plane writes an inline one for its
first admin, so that one file can be copied to another machine.
"""
from __future__ import annotations

import json
import os
import pathlib
from dataclasses import dataclass
from typing import Mapping

from orchestra.security.private_files import write_private
from orchestra.spec.names import addresses_problem
from orchestra.transport import ClientTLS

ENV_VAR = "ORCHESTRA_CONFIG"
DEFAULT_PATH = pathlib.Path("~/.orchestra/config")


class ConfigError(ValueError):
    """The client config is missing or unusable; the message says which file and what to do."""


@dataclass(frozen=True)
class ClientConfig:
    server: str
    tls: ClientTLS
    path: pathlib.Path


def config_path(explicit: str | os.PathLike | None = None,
                env: Mapping[str, str] | None = None) -> tuple[pathlib.Path, str]:
    """(path, where it came from) by precedence --config > $ORCHESTRA_CONFIG > ~/.orchestra/config."""
    env = os.environ if env is None else env
    if explicit:
        return pathlib.Path(explicit).expanduser(), "--config"
    if env.get(ENV_VAR):
        return pathlib.Path(env[ENV_VAR]).expanduser(), f"${ENV_VAR}"
    return DEFAULT_PATH.expanduser(), "default location"


def load_client_config(explicit: str | os.PathLike | None = None,
                       env: Mapping[str, str] | None = None) -> ClientConfig:
    path, origin = config_path(explicit, env)
    if not path.exists():
        raise ConfigError(
            f"no client config at {path} ({origin}): the plane writes one for its admin when it first starts "
            f"(see `orchestra server` output); pass --config PATH or set ${ENV_VAR}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ConfigError(f"cannot read client config {path}: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"client config {path}: expected a JSON object")
    server = data.get("server")
    if not isinstance(server, str) or addresses_problem(server):
        raise ConfigError(f"client config {path}: 'server' must be host:port, or several separated by commas "
                          f"(the planes of one cluster)")
    pems = {}
    for field in ("ca", "cert", "key"):
        pems[field] = _pem(data, field, path)
    return ClientConfig(server, ClientTLS(pems["ca"], pems["key"], pems["cert"]), path)


def _pem(data: dict, field: str, path: pathlib.Path) -> bytes:
    inline = data.get(f"{field}_pem")
    if isinstance(inline, str) and inline.strip():
        return inline.encode()
    ref = data.get(field)
    if not isinstance(ref, str) or not ref:
        raise ConfigError(f"client config {path}: needs '{field}_pem' (inline PEM) or '{field}' (path to a PEM file)")
    file = pathlib.Path(ref).expanduser()
    if not file.is_absolute():
        file = path.parent / file
    try:
        return file.read_bytes()
    except OSError as e:
        raise ConfigError(f"client config {path}: cannot read {field} file {file}: {e.strerror}") from None


def write_client_config(path: str | os.PathLike, server: str, tls: ClientTLS) -> pathlib.Path:
    doc = {"server": server, "ca_pem": tls.ca_pem.decode(), "cert_pem": tls.cert_pem.decode(),
           "key_pem": tls.key_pem.decode()}
    return write_private(path, json.dumps(doc, indent=2) + "\n")
