import json
import os
import stat

import pytest

from orchestra.security.client_config import ConfigError, config_path, load_client_config, write_client_config
from orchestra.transport import ClientTLS

TLS = ClientTLS(b"CA", b"KEY", b"CERT")


def test_precedence(tmp_path):
    explicit, envp = tmp_path / "x", tmp_path / "y"
    assert config_path(explicit, {"ORCHESTRA_CONFIG": str(envp)}) == (explicit, "--config")
    assert config_path(None, {"ORCHESTRA_CONFIG": str(envp)}) == (envp, "$ORCHESTRA_CONFIG")
    path, origin = config_path(None, {})
    assert str(path).endswith(".orchestra/config") and origin == "default location"


def test_written_inline_config_round_trips_and_is_private(tmp_path):
    p = write_client_config(tmp_path / "conf", "127.0.0.1:7070", TLS)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    cfg = load_client_config(None, {"ORCHESTRA_CONFIG": str(p)})
    assert cfg.server == "127.0.0.1:7070" and cfg.tls == TLS and cfg.path == p


def test_file_references_are_relative_to_the_config(tmp_path):
    (tmp_path / "ca.crt").write_bytes(b"CA")
    (tmp_path / "c.crt").write_bytes(b"CERT")
    (tmp_path / "c.key").write_bytes(b"KEY")
    (tmp_path / "conf").write_text(json.dumps({"server": "h:1", "ca": "ca.crt", "cert": "c.crt", "key": "c.key"}))
    assert load_client_config(tmp_path / "conf", {}).tls == TLS


def test_missing_config_says_where_it_looked_and_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match=r"no client config at .*nope \(\$ORCHESTRA_CONFIG\).*--config"):
        load_client_config(None, {"ORCHESTRA_CONFIG": str(tmp_path / "nope")})


@pytest.mark.parametrize("content,match", [
    ("{", "cannot read"), ("[]", "JSON object"), ('{"server": "nohostport"}', "host:port"),
    ('{"server": "h:1", "ca_pem": "x", "cert_pem": "y"}', "'key_pem'"),
    ('{"server": "h:1", "ca": "missing.crt", "cert_pem": "y", "key_pem": "z"}', "cannot read ca file"),
])
def test_bad_configs_are_precise(tmp_path, content, match):
    (tmp_path / "conf").write_text(content)
    with pytest.raises(ConfigError, match=match):
        load_client_config(tmp_path / "conf", {})
