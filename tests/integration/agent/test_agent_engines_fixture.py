"""The engine fixture itself: a real dockerd, isolated network, image present, clean stop."""
from __future__ import annotations

import os
from pathlib import Path

from engines import BUSYBOX_IMAGE, start_engine


def test_engine_runs_busybox_with_loopback_only(engine):
    c = engine.client()
    try:
        assert c.images.get(BUSYBOX_IMAGE)
        out = c.containers.run(BUSYBOX_IMAGE, ["sh", "-c", "echo hi"], remove=True)
        assert out == b"hi\n"
    finally:
        c.close()
    links = engine.run_in_netns(["ip", "-o", "link"], capture_output=True, text=True, check=True)
    names = [line.split(":")[1].strip() for line in links.stdout.splitlines()]
    assert names == ["lo"]


def test_engine_restarts_on_same_data_and_stops_clean():
    e = start_engine()
    try:
        root, holder = e.root, e.holder.pid
        c = e.client()
        c.volumes.create("keep-me")
        c.close()
        e.stop_daemon()
        assert not e.running
        e.start_daemon()
        c = e.client()
        assert "keep-me" in [v.name for v in c.volumes.list()]
        c.close()
    finally:
        e.stop()
    assert not root.exists()
    assert not os.path.exists(f"/proc/{holder}")
    assert not (Path("/sys/fs/cgroup/memory") / e.cgroup_parent.strip("/")).exists()
