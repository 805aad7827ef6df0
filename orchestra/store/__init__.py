"""The plane's state: one abstract interface (base.Store) and its backends."""
from orchestra.store.base import Store
from orchestra.store.datadir import DataDir, open_data_dir
from orchestra.store.errors import StoreError, StoreOpenError
from orchestra.store.records import EventRecord, JoinTokenRecord, NodeRecord, ReplicaRecord, WorkloadRecord
from orchestra.store.sqlite import SqliteStore

__all__ = ["Store", "SqliteStore", "DataDir", "open_data_dir", "StoreError", "StoreOpenError",
           "NodeRecord", "WorkloadRecord", "ReplicaRecord", "EventRecord", "JoinTokenRecord"]
