"""Which store a server uses, from its `--store` option:

    (empty) or sqlite                       SQLite in the data dir (DATA/state.db): the default
    etcd://HOST:PORT[,HOST:PORT...][/PREFIX] an etcd cluster, under PREFIX (default /orchestra/),
                                            over TLS with a client certificate (--etcd-ca,
                                            --etcd-cert, --etcd-key)

The data dir is prepared and locked either way: it holds the plane's keys and certificates.
"""
from __future__ import annotations

from dataclasses import dataclass

from orchestra.store.base import Store
from orchestra.store.datadir import DataDir
from orchestra.store.errors import StoreOpenError
from orchestra.store.etcd import DEFAULT_PREFIX
from orchestra.store.etcd_client import EtcdTLS

EXAMPLE = "etcd://10.0.0.1:2379,10.0.0.2:2379,10.0.0.3:2379"


@dataclass(frozen=True)
class StoreLocation:
    backend: str                 # "sqlite" | "etcd"
    endpoints: tuple[str, ...] = ()
    prefix: str = DEFAULT_PREFIX


def parse_store_url(url: str) -> StoreLocation:
    text = (url or "").strip()
    if text in ("", "sqlite"):
        return StoreLocation("sqlite")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme != "etcd":
        raise StoreOpenError(f"--store {text!r}: expected sqlite or etcd://HOST:PORT[,HOST:PORT...] (e.g. {EXAMPLE})")
    hosts, slash, path = rest.partition("/")
    prefix = "/" + path.strip("/") + "/" if slash and path.strip("/") else DEFAULT_PREFIX
    endpoints = []
    for part in hosts.split(","):
        host, colon, port = part.strip().rpartition(":")
        if not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise StoreOpenError(f"--store {text!r}: {part.strip()!r} is not HOST:PORT (e.g. {EXAMPLE})")
        endpoints.append(f"{host}:{int(port)}")
    if len(set(endpoints)) != len(endpoints):
        raise StoreOpenError(f"--store {text!r}: an endpoint is named twice")
    return StoreLocation("etcd", tuple(endpoints), prefix)


def etcd_tls(ca: str | None, cert: str | None, key: str | None) -> EtcdTLS:
    given = {"--etcd-ca": ca, "--etcd-cert": cert, "--etcd-key": key}
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise StoreOpenError(f"an etcd store needs {', '.join(missing)}: orchestra talks to etcd only over TLS "
                             f"with a client certificate (the CA that signed the etcd members, and a client "
                             f"certificate and key that etcd's --trusted-ca-file accepts)")
    return EtcdTLS(ca=ca, cert=cert, key=key)


def open_store(url: str, data_dir: str, etcd_ca: str | None = None, etcd_cert: str | None = None,
               etcd_key: str | None = None) -> tuple[DataDir, Store]:
    """Prepares and locks the data dir, then opens the store `url` names. On error nothing
    stays locked, and the StoreOpenError says what to fix."""
    where = parse_store_url(url)
    tls = etcd_tls(etcd_ca, etcd_cert, etcd_key) if where.backend == "etcd" else None
    if where.backend == "sqlite" and any((etcd_ca, etcd_cert, etcd_key)):
        raise StoreOpenError("--etcd-ca, --etcd-cert and --etcd-key need --store etcd://...")
    data = DataDir(data_dir)
    data.prepare()
    try:
        if where.backend == "sqlite":
            return data, data.open_store()
        from orchestra.store.etcd import EtcdStore
        return data, EtcdStore(list(where.endpoints), tls, prefix=where.prefix)
    except BaseException:
        data.release()
        raise
