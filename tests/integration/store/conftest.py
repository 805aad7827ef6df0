"""Store backends as tests meet them: real etcd members (tests/support/etcd.py) beside SQLite.

    def test_x(etcd_cluster, etcd_prefix): ...   # the session's 1-member cluster, a fresh key prefix
    def test_y(etcd_cluster3): ...               # a 3-member cluster of this test's own (fault tests)
    def test_z(etcd_store): ...                  # an EtcdStore on the shared cluster, under a fresh prefix
"""
from __future__ import annotations

import pytest

from orchestra.store.etcd import EtcdStore
from tests.support.etcd import etcd_cluster, etcd_cluster3, etcd_prefix  # noqa: F401  (fixtures)


@pytest.fixture
def etcd_store(etcd_cluster, etcd_prefix):
    s = EtcdStore(etcd_cluster.endpoints, etcd_cluster.tls, prefix=etcd_prefix)
    yield s
    s.close()
