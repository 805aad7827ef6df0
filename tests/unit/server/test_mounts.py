"""What a container gets: its claimed volumes, config and secret files, and its variables, split
into plain env (configs) and secret_env (secrets, never in the container's stored config)."""
import pytest

from orchestra.api import agent_pb2
from orchestra.security.secret_box import SecretBox
from orchestra.server import mounts
from orchestra.spec.model import Template
from orchestra.spec.volumes import CONFIG, SECRET, EnvFrom, KeyRef, KeyToPath, Volume, VolumeMount

BOX = SecretBox.ephemeral()
REFS = {"config/web": {"digest": "d1", "data": {"app.conf": "listen 80\n", "MODE": "fast"}},
        "secret/db": {"digest": "d2", "sealed": BOX.seal("db", {"password": b"pw", "MODE": b"secret-mode"}),
                      "key_id": BOX.key_id}}


def spec_of(template: Template, refs=REFS, claimed=None) -> agent_pb2.ContainerSpec:
    spec = agent_pb2.ContainerSpec(replica_id="web-0", env=dict(template.env))
    mounts.fill(spec, template, refs, BOX, claimed or {})
    return spec


def test_files_volumes_and_variables():
    t = Template("i", volumes=(Volume("data"), Volume("conf", CONFIG, "web"),
                               Volume("creds", SECRET, "db", (KeyToPath("password", "db/pw"),))),
                 volume_mounts=(VolumeMount("data", "/data"), VolumeMount("conf", "/etc/web", True),
                                VolumeMount("creds", "/run/secrets", True)),
                 env={"GREETING": "hi"}, env_refs={"PW": KeyRef(SECRET, "db", "password")},
                 env_from=(EnvFrom(CONFIG, "web", "CFG_"),))
    spec = spec_of(t, claimed={"data": "orchestra.web-0.data.2"})
    assert [(v.volume, v.mount_path, v.read_only) for v in spec.volume_mounts] == [("orchestra.web-0.data.2", "/data", False)]
    files = {m.mount_path: {f.path: f.content for f in m.files} for m in spec.file_mounts}
    assert files == {"/etc/web": {"app.conf": b"listen 80\n", "MODE": b"fast"}, "/run/secrets": {"db/pw": b"pw"}}
    assert [m.secret for m in spec.file_mounts] == [False, True]
    assert dict(spec.env) == {"GREETING": "hi", "CFG_app.conf": "listen 80\n", "CFG_MODE": "fast"}
    assert dict(spec.secret_env) == {"PW": b"pw"}


def test_env_entries_win_over_env_from_as_in_kubernetes():
    t = Template("i", env={"MODE": "plain"}, env_refs={"X": KeyRef(CONFIG, "web", "MODE")},
                 env_from=(EnvFrom(SECRET, "db"), EnvFrom(CONFIG, "web")))
    spec = spec_of(t)
    assert spec.env["MODE"] == "plain" and "MODE" not in spec.secret_env
    assert spec.env["X"] == "fast" and spec.secret_env["password"] == b"pw"


def test_content_that_cannot_be_built_is_an_error_naming_no_value():
    t = Template("i", env_refs={"PW": KeyRef(SECRET, "db", "password")})
    with pytest.raises(mounts.ContentError, match="no snapshot of secret db"):
        spec_of(t, refs={})
    other = SecretBox.ephemeral()
    bad = {"secret/db": {"digest": "d", "sealed": other.seal("db", {"password": b"pw"}), "key_id": other.key_id}}
    with pytest.raises(mounts.ContentError, match="sealed under key"):
        spec_of(t, refs=bad)
    with pytest.raises(mounts.ContentError, match="volume data has no claim"):
        spec_of(Template("i", volumes=(Volume("data"),), volume_mounts=(VolumeMount("data", "/d"),)))
