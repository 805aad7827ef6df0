import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from plane_process import plane, plane_factory  # noqa: E402,F401  (fixtures)
