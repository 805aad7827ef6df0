"""Store backends as tests meet them: real etcd members (tests/support/etcd.py) beside SQLite.

    def test_x(etcd_cluster, etcd_prefix): ...   # the session's 1-member cluster, a fresh key prefix
    def test_y(etcd_cluster3): ...               # a 3-member cluster of this test's own (fault tests)
    def test_z(etcd_store): ...                  # an EtcdStore on the shared cluster, under a fresh prefix
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

_ROOT = Path(__file__).resolve().parents[3]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

from tests.support.etcd import etcd_cluster, etcd_cluster3, etcd_prefix  # noqa: E402,F401  (fixtures)

from orchestra.store.etcd import EtcdStore  # noqa: E402


@pytest.fixture
def etcd_store(etcd_cluster, etcd_prefix):
    s = EtcdStore(etcd_cluster.endpoints, etcd_cluster.tls, prefix=etcd_prefix)
    yield s
    s.close()
