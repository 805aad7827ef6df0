from orchestra.scheduler.quantities import format_cpu, format_memory


def test_memory():
    assert format_memory(2 << 30) == "2Gi"
    assert format_memory(3 << 29) == "1.5Gi"
    assert format_memory(256 << 20) == "256Mi"
    assert format_memory(100) == "100"


def test_cpu():
    assert format_cpu(250) == "250m"
    assert format_cpu(2000) == "2"
    assert format_cpu(1500) == "1.5"
