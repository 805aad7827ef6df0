"""The keys several planes share through their store (orchestra/security/cluster_keys.py), over a
real SQLite store: the first plane makes and seals them, a new plane opens them with the token
alone, a wrong token or another cluster's data dir is refused with what to do."""
from __future__ import annotations

import pytest

from orchestra.security.cluster_keys import (CLUSTER_FILES, TOKEN_FILE, ClusterKeysError, new_token, open_sealed,
                                             read_token, seal, share)
from orchestra.store.records import ClusterKeysRecord
from orchestra.store.sqlite import SqliteStore


@pytest.fixture
def store(tmp_path):
    s = SqliteStore(str(tmp_path / "state.db"))
    yield s
    s.close()


def clock() -> int:
    return 1_000


def test_the_first_plane_makes_the_keys_and_a_new_plane_opens_them_with_the_token(tmp_path, store):
    made = share(tmp_path / "p1", store, "p1", None, clock)
    assert made == tmp_path / "p1" / TOKEN_FILE and (made.stat().st_mode & 0o777) == 0o600
    token = made.read_text().strip()
    record = store.get(ClusterKeysRecord, "keys")
    assert record.created_by == "p1" and b"PRIVATE KEY" not in record.sealed.encode()
    assert share(tmp_path / "p2", store, "p2", token, clock) is None
    for name in CLUSTER_FILES:
        assert (tmp_path / "p2" / "pki" / name).read_bytes() == (tmp_path / "p1" / "pki" / name).read_bytes()
    assert share(tmp_path / "p1", store, "p1", None, clock) is None      # a restart: nothing to do


def test_a_new_plane_without_the_token_or_with_another_is_refused(tmp_path, store):
    share(tmp_path / "p1", store, "p1", None, clock)
    with pytest.raises(ClusterKeysError, match="--plane-token-file"):
        share(tmp_path / "p2", store, "p2", None, clock)
    with pytest.raises(ClusterKeysError, match="does not open this cluster's keys"):
        share(tmp_path / "p3", store, "p3", new_token(), clock)
    with pytest.raises(ClusterKeysError, match="must start with"):
        share(tmp_path / "p4", store, "p4", "hunter2", clock)
    assert not (tmp_path / "p3" / "pki" / "ca.key").exists()


def test_a_data_dir_of_another_cluster_is_refused(tmp_path, store):
    share(tmp_path / "p1", store, "p1", None, clock)
    other = SqliteStore(str(tmp_path / "other.db"))
    try:
        share(tmp_path / "elsewhere", other, "x", None, clock)
        token = (tmp_path / "p1" / TOKEN_FILE).read_text().strip()
        with pytest.raises(ClusterKeysError, match="holds the CA of another cluster"):
            share(tmp_path / "elsewhere", store, "x", token, clock)
    finally:
        other.close()


def test_sealing_is_authenticated(tmp_path):
    token = new_token()
    sealed = seal(token, {"ca.key": b"secret"})
    assert open_sealed(token, sealed) == {"ca.key": b"secret"}
    damaged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(ClusterKeysError):
        open_sealed(token, damaged)
    (tmp_path / "t").write_text(token + "\n")
    assert read_token(str(tmp_path / "t"), env={}) == token
    assert read_token(None, env={"ORCHESTRA_PLANE_TOKEN": token}) == token
    with pytest.raises(ClusterKeysError, match="cannot read the plane token"):
        read_token(str(tmp_path / "missing"), env={})


def test_a_secret_sealed_on_one_plane_opens_on_the_next(tmp_path, store):
    """Every plane loads the one secrets key the store shares: a failover keeps stored secrets usable."""
    from orchestra.security.secret_box import SecretBox
    token = share(tmp_path / "p1", store, "p1", None, clock).read_text().strip()
    sealed = SecretBox.load_or_create(tmp_path / "p1" / "pki").seal("db", {"password": b"pw"})
    (tmp_path / "p2" / "pki").mkdir(parents=True, mode=0o700)
    SecretBox.load_or_create(tmp_path / "p2" / "pki")          # a key of its own from an earlier start
    share(tmp_path / "p2", store, "p2", token, clock)
    assert SecretBox.load_or_create(tmp_path / "p2" / "pki").open("db", sealed) == {"password": b"pw"}
