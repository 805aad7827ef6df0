from orchestra.scheduler.namelist import abbreviate


def test_runs_fold_into_ranges_in_natural_order():
    assert abbreviate([f"vm-{i}" for i in range(9, 0, -1)]) == "vm-1..vm-9"
    assert abbreviate(["vm-1", "vm-2", "vm-10"]) == "vm-1, vm-2, vm-10"
    assert abbreviate(["b", "a"]) == "a, b"


def test_long_lists_are_cut_with_a_count_of_the_rest():
    names = [f"vm-{i}" for i in range(0, 40, 2)]   # no runs: 20 single names
    assert abbreviate(names) == "vm-0, vm-2, vm-4, vm-6 +16 more"
