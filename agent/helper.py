"""Short-lived helper processes: work whose libraries the daemon should not keep resident.

`python -m agent.<module>` with this interpreter and the agent's own location on the path (a
directory, or a zipapp file), so a helper finds exactly the code and libraries the agent runs
with. Used for keys, CSRs and certificate dates (`agent.enroll`, cryptography) and for the
YAML settings file (`agent.yamlfile`, PyYAML).
"""

from __future__ import annotations

import os
import sys

# where the `agent` package is imported from
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def environment() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH", "")]))
    return {**os.environ, "PYTHONPATH": path}
