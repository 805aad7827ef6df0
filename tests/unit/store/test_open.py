"""`orchestra server --store URL`: what the option accepts, and what it says to anything else."""
from __future__ import annotations

import pytest

from orchestra.store import StoreOpenError
from orchestra.store.open import StoreLocation, etcd_tls, open_store, parse_store_url


@pytest.mark.parametrize("url, expected", [
    ("", StoreLocation("sqlite")),
    ("sqlite", StoreLocation("sqlite")),
    ("etcd://127.0.0.1:2379", StoreLocation("etcd", ("127.0.0.1:2379",), "/orchestra/")),
    ("etcd://a:2379, b:2380,c:2381", StoreLocation("etcd", ("a:2379", "b:2380", "c:2381"), "/orchestra/")),
    ("etcd://a:2379/lab-1", StoreLocation("etcd", ("a:2379",), "/lab-1/")),
    ("etcd://a:2379/team/lab/", StoreLocation("etcd", ("a:2379",), "/team/lab/")),
])
def test_store_urls(url, expected):
    assert parse_store_url(url) == expected


@pytest.mark.parametrize("url, says", [
    ("postgres://x:5432", "expected sqlite or etcd://HOST:PORT"),
    ("etcd://", "'' is not HOST:PORT"),
    ("etcd://a", "'a' is not HOST:PORT"),
    ("etcd://a:99999", "'a:99999' is not HOST:PORT"),
    ("etcd://a:2379,,b:2379", "'' is not HOST:PORT"),
    ("etcd://a:2379,a:2379", "named twice"),
])
def test_bad_store_urls_say_what_is_wrong(url, says):
    with pytest.raises(StoreOpenError, match="--store") as err:
        parse_store_url(url)
    assert says in str(err.value)


def test_etcd_needs_all_three_tls_files():
    with pytest.raises(StoreOpenError, match="--etcd-cert, --etcd-key"):
        etcd_tls("ca.pem", None, "")
    assert etcd_tls("ca", "cert", "key").cert == "cert"


def test_etcd_tls_options_without_an_etcd_store_are_refused_and_lock_nothing(tmp_path):
    with pytest.raises(StoreOpenError, match="need --store etcd://"):
        open_store("", str(tmp_path / "data"), etcd_ca="ca.pem")
    data, store = open_store("sqlite", str(tmp_path / "data"))   # the data dir was not left locked
    store.close()
    data.release()
