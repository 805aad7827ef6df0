"""The etcd client's pieces that need no etcd (the rest: tests/integration/store/)."""
from __future__ import annotations

import pytest

from orchestra.store import StoreOpenError
from orchestra.store.etcd_client import EtcdClient, EtcdTLS, prefix_end


@pytest.mark.parametrize("prefix, end", [
    (b"/orchestra/nodes/", b"/orchestra/nodes0"),
    (b"a\xff", b"b"),
    (b"\xff\xff", b"\0"),       # every key
])
def test_prefix_end_covers_exactly_the_prefix(prefix, end):
    assert prefix_end(prefix) == end


def test_missing_certificate_files_are_named(tmp_path):
    (tmp_path / "ca.pem").write_text("x")
    with pytest.raises(StoreOpenError, match=f"cannot read the etcd client key {tmp_path}/nope.pem"):
        EtcdClient(["127.0.0.1:1"], EtcdTLS(str(tmp_path / "ca.pem"), str(tmp_path / "ca.pem"),
                                            str(tmp_path / "nope.pem")))


def test_endpoints_are_required():
    with pytest.raises(StoreOpenError, match="no etcd endpoints"):
        EtcdClient([], None)
