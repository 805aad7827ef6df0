"""Small pure parts of the agent: usage arithmetic, log chunking, reconnect back-off, the
command line's parsing of labels and taints, Docker timestamps."""
from __future__ import annotations

import pytest

from agent import session
from agent.logs import chunks
from agent.main import build_parser, parse_taints
from orchestra.spec.names import parse_labels
from agent.runtime.docker import container_from_inspect, parse_time_ms
from agent.usage import cpu_percent, memory_bytes


def sample(total, system, online=2, usage=0, inactive=0, limit=0):
    return {"cpu_stats": {"cpu_usage": {"total_usage": total}, "system_cpu_usage": system,
                          "online_cpus": online},
            "memory_stats": {"usage": usage, "limit": limit,
                             "stats": {"total_inactive_file": inactive}}}


def test_cpu_percent_from_two_samples():
    # 0.5 s of CPU while the 2-CPU machine ran 2 s of CPU time (1 s wall): half a CPU.
    assert cpu_percent(sample(1_000_000_000, 10_000_000_000),
                       sample(1_500_000_000, 12_000_000_000)) == pytest.approx(50.0)
    assert cpu_percent(None, sample(1, 1)) == 0.0
    # A restarted container's counter goes back: no negative figure.
    assert cpu_percent(sample(5, 10), sample(1, 20)) == 0.0
    assert cpu_percent(sample(5, 10), sample(6, 10)) == 0.0
    assert cpu_percent({"cpu_stats": {}}, sample(1, 1)) == 0.0


def test_memory_leaves_out_inactive_page_cache():
    assert memory_bytes(sample(0, 0, usage=100, inactive=30, limit=1000)) == (70, 1000)
    assert memory_bytes(sample(0, 0, usage=10, inactive=30)) == (10, 0)
    assert memory_bytes({}) == (0, 0)


def test_log_chunks_batch_a_read_and_pass_a_follow_through():
    frames = [b"a\n"] * 5
    assert list(chunks(frames, follow=False, limit=4)) == [b"a\na\n", b"a\na\n", b"a\n"]
    assert list(chunks(frames, follow=True, limit=4)) == frames
    assert list(chunks([b"x" * 10], follow=True, limit=4)) == [b"xxxx", b"xxxx", b"xx"]
    assert list(chunks([], follow=False)) == []


def test_reconnect_back_off_doubles_to_ten_seconds_with_jitter():
    d, seen = session.BACKOFF_INITIAL_S, []
    for _ in range(8):
        seen.append(d)
        d = session.next_backoff(d)
    assert seen == [0.5, 1, 2, 4, 8, 10, 10, 10]
    for _ in range(200):
        assert 5.0 <= session.jittered(10.0) <= 10.0


def test_labels_and_taints():
    assert parse_labels("zone=a, disk=ssd,empty=") == {"zone": "a", "disk": "ssd", "empty": ""}
    assert parse_labels("") == {}
    for bad, msg in [("zone", "has no '='"), ("=a", "is empty"), ("a=1,a=2", "twice"),
                     ("-x=1", "must consist of")]:
        with pytest.raises(ValueError, match=msg):
            parse_labels(bad)
    [t] = parse_taints(["gpu=yes:NoSchedule"])
    assert (t.key, t.value, t.effect) == ("gpu", "yes", "NoSchedule")
    with pytest.raises(ValueError, match="key=value:NoSchedule"):
        parse_taints(["gpu=yes:NoExecute"])


def test_command_line_refuses_bad_input(capsys):
    p = build_parser()
    for argv, msg in [(["--server", "nohost", "--name", "n"], "is not HOST:PORT"),
                      (["--server", "h:99999", "--name", "n"], "is not HOST:PORT"),
                      (["--server", "h:1", "--name", "bad name"], "is not a node name"),
                      (["--server", "h:1", "--name", "n", "--cpu", "two"], "cpu"),
                      (["--server", "h:1", "--name", "n", "--memory", "1GB"], "use G or Gi"),
                      (["--server", "h:1", "--name", "n", "--network", "overlay"], "invalid choice"),
                      (["--name", "n"], "--server")]:
        with pytest.raises(SystemExit) as e:
            p.parse_args(argv)
        assert e.value.code == 2
        assert msg in capsys.readouterr().err
    a = p.parse_args(["--server", "127.0.0.1:7070", "--name", "vm-1", "--cpu", "1500m",
                      "--memory", "2Gi", "--labels", "zone=a"])
    assert (a.cpu, a.memory, a.labels, a.network) == (1500, 2 * 2**30, {"zone": "a"}, "bridge")


def test_docker_timestamps():
    assert parse_time_ms("2026-11-27T20:50:44.123456789Z") == 1795812644123
    assert parse_time_ms("2026-11-27T20:50:44Z") == 1795812644000
    assert parse_time_ms("2026-11-27T21:50:44.5+01:00") == 1795812644500
    assert parse_time_ms("0001-01-01T00:00:00Z") == 0
    assert parse_time_ms("") == 0


def test_container_from_inspect_reads_labels_and_state():
    c = container_from_inspect({
        "Id": "abc", "Created": "2026-11-27T20:50:40.0Z",
        "Config": {"Labels": {"orchestra.replica": "web-0", "orchestra.revision": "2",
                              "orchestra.incarnation": "x", "orchestra.template-hash": "h"}},
        "State": {"Status": "exited", "ExitCode": 137, "OOMKilled": True,
                  "StartedAt": "2026-11-27T20:50:41Z", "FinishedAt": "2026-11-27T20:50:44Z"}})
    assert (c.replica_id, c.revision, c.template_hash, c.state, c.exit_code, c.oom_killed) == (
        "web-0", 2, "h", "exited", 137, True)
    assert c.incarnation == -1   # unreadable label: never equal to a desired one -> replaced
    assert c.finished_at_ms - c.started_at_ms == 3000
