"""The plane's state: one abstract interface (base.Store) and its backends (SQLite, etcd)."""
from orchestra.store.base import Store
from orchestra.store.datadir import DataDir, open_data_dir
from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.etcd import EtcdStore, Fence, NotLeaderError, StoreConflictError
from orchestra.store.etcd_client import EtcdTLS, StoreRequestError, StoreUnavailableError
from orchestra.store.open import open_store, parse_store_url
from orchestra.store.records import EventRecord, JoinTokenRecord, NodeRecord, ReplicaRecord, WorkloadRecord
from orchestra.store.sqlite import SqliteStore

__all__ = ["Store", "SqliteStore", "EtcdStore", "EtcdTLS", "Fence", "DataDir", "open_data_dir", "open_store",
           "parse_store_url", "StoreError", "StoreOpenError", "StoreConflictError", "NotLeaderError",
           "StoreUnavailableError", "StoreRequestError",
           "NodeRecord", "WorkloadRecord", "ReplicaRecord", "EventRecord", "JoinTokenRecord"]
