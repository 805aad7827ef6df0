"""The etcd store's pieces that need no etcd (the rest: tests/integration/store/)."""
from __future__ import annotations

import pytest

from orchestra.store import ReplicaRecord, codec
from orchestra.store.etcd import _needle


@pytest.mark.parametrize("value", ["vm-1", "", 'we"ird', "é/ü", "back\\slash"])
def test_the_list_prefilter_finds_the_field_as_the_codec_writes_it(value):
    # list() skips a document unless this substring is in it: it must match codec.dumps exactly.
    doc = codec.dumps(ReplicaRecord(id="r", workload=value, index=0, node=value)).encode()
    assert _needle("node", value) in doc and _needle("workload", value) in doc
