from orchestra.bench import table
from orchestra.bench.families import METRICS


def full(value):
    return {m.key: value for m in METRICS}


def test_medians_of_runs():
    assert table.medians({"host": {"cpu_prime": [3.0, 1.0, 2.0]}, "vm": {"cpu_prime": []}}) == \
        {"host": {"cpu_prime": 2.0}, "vm": {}}


def test_every_row_has_each_arms_median_and_ratio_to_the_host():
    med = {"host": full(100.0), "vm": full(25.0), "container_in_vm": full(20.0), "container_on_host": full(99.0)}
    out = table.render(med, accel="tcg", runs=3, sizes_note="sizes: short")
    assert "median of 3 runs" in out
    assert "TCG overstates every VM cost" in out
    row = next(line for line in out.splitlines() if "STREAM triad" in line)
    assert "100 (1.00x)" in row and "25.00 (0.25x)" in row and "20.00 (0.20x)" in row and "99.00 (0.99x)" in row
    assert table.missing_cells(med) == []


def test_kvm_is_named_without_the_warning():
    out = table.render({"host": full(1.0)}, accel="kvm", runs=3, sizes_note="")
    assert "accelerator: KVM" in out and "overstates" not in out


def test_missing_cells_are_named():
    med = {"host": full(1.0), "vm": {}, "container_in_vm": full(1.0), "container_on_host": full(1.0)}
    assert table.missing_cells(med) == [f"vm/{m.key}" for m in METRICS]
    assert "missing" in table.render(med, accel="tcg", runs=3, sizes_note="")


def test_small_and_huge_numbers_stay_readable():
    assert table.cell(0.00123, 0.001) == "0.0012 (1.23x)"
    assert table.cell(28.5, 0.001) == "28.50 (28,500x)"
