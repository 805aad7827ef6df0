#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then runs every tier.
# Unit and integration tests (real plane, agents and dockerd engines) run three at a time:
# they mostly wait on processes. The e2e tier (real VMs under QEMU) runs after them, alone,
# because the VMs need the CPUs. Extra args go to both pytest runs, e.g. `-x` or `-k scale`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --vm --browser
python3 -m pytest tests/unit tests/integration -p no:cacheprovider -n 3 "$@"
exec python3 -m pytest tests/e2e -p no:cacheprovider "$@"
