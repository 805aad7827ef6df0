#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then runs every tier
# (unit, integration with real dockerd engines, e2e with real VMs). Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --vm
exec python3 -m pytest tests -p no:cacheprovider "$@"
