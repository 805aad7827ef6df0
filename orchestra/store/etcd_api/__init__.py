"""etcd's v3 gRPC API (generated from etcd's own protos in proto/; see generate.py)."""
