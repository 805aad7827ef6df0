"""Every tier imports shared test services from tests/support/ (e.g. `from tests.support.etcd
import etcd_cluster` in a conftest.py): the repository root must be importable for that, also
when pytest is started as `pytest` rather than `python -m pytest`."""
from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


# Hypothesis' health check for slow data generation trips when the machine is busy with the
# other tests' processes (integration tests run beside the unit tests): time is not what those
# property tests check.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("orchestra", suppress_health_check=[HealthCheck.too_slow], deadline=None)
settings.load_profile("orchestra")
