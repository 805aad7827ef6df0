"""A candidate plane in a process of its own, for the election tests: it campaigns, and while
it leads writes a heartbeat record through the fenced store every 50 ms. It prints, one per
line: `LEADER <create revision>`, `WROTE <n>` (every 10th write), `REFUSED <error>` when a
fenced write is refused, then `LOST` or `NOT-LOST` (whether its session noticed), and exits 3.

    python election_candidate.py NAME PREFIX TTL ENDPOINTS CA CERT KEY
"""
from __future__ import annotations

import sys
import time


def main() -> int:
    name, prefix, ttl, endpoints, ca, cert, key = sys.argv[1:8]
    from orchestra.store import NodeRecord
    from orchestra.store.etcd import EtcdStore, NotLeaderError
    from orchestra.store.etcd_client import EtcdTLS
    from orchestra.store.etcd_election import Election, Session

    store = EtcdStore(endpoints.split(","), EtcdTLS(ca, cert, key), prefix=prefix)
    session = Session(store.client, ttl_s=int(ttl))
    leadership = Election(store.client, prefix=prefix).campaign(session, name, {"pid": __import__("os").getpid()})
    print(f"LEADER {leadership.create_revision}", flush=True)
    fenced = store.fenced(leadership.fence)
    n = 0
    while True:
        n += 1
        try:
            fenced.put_node(NodeRecord(name=f"beat-{name}", labels={"n": str(n)}))
        except NotLeaderError as exc:
            print(f"REFUSED {exc}", flush=True)
            print("LOST" if session.lost.wait(3 * int(ttl)) else "NOT-LOST", flush=True)
            return 3
        if n % 10 == 0:
            print(f"WROTE {n}", flush=True)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
