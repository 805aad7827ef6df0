from orchestra.lab.milestones import Milestones, phases

LINES = [
    (1.0, "==> lab-1: Creating image (snapshot of base box volume)."),
    (1.1, "==> lab-2: Creating image (snapshot of base box volume)."),
    (2.0, "==> lab-1: Starting domain."),
    (2.5, "==> lab-2: Starting domain."),
    (3.0, "==> lab-1: Waiting for machine to boot. This may take a few minutes..."),
    (40.0, "==> lab-2: Machine booted and ready!"),
    (44.0, "==> lab-1: Machine booted and ready!"),
    (50.0, "==> lab-1: Machine booted and ready!"),      # only the first time counts
]


def fed():
    ms = Milestones()
    for t, line in LINES:
        ms.feed(t, line)
    return ms


def test_each_nodes_milestones_from_vagrant_lines():
    ms = fed()
    assert ms.at["lab-1"] == {"defined": 1.0, "started": 2.0, "ssh": 44.0}
    assert ms.last(["lab-1", "lab-2"], "started") == 2.5
    assert ms.last(["lab-1", "lab-2"], "ready") is None


def test_phases_when_agents_are_ready_before_vagrant_returns():
    ms = fed()
    ms.mark("lab-1", "ready", 30.0)
    ms.mark("lab-2", "ready", 35.0)
    ms.mark("lab-2", "ready", 60.0)
    got = phases(ms, ["lab-1", "lab-2"], vagrant_start=0.5, vagrant_end=45.0, end=45.5)
    assert got == {"define": 2.0, "boot_ssh": 42.5, "join": 0.0}


def test_phases_when_an_agent_joins_after_vagrant():
    ms = fed()
    ms.mark("lab-1", "ready", 30.0)
    ms.mark("lab-2", "ready", 52.0)
    got = phases(ms, ["lab-1", "lab-2"], vagrant_start=0.5, vagrant_end=45.0, end=53.0)
    assert got["join"] == 7.0


def test_describe_lists_what_each_node_reached():
    ms = fed()
    ms.mark("lab-2", "ready", 41.0)
    assert ms.describe(["lab-2"]) == ["lab-2: defined 1.1s, started 2.5s, ssh 40.0s, ready 41.0s"]
