"""Hypothesis keeps its example database and caches outside the repository for these tests."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "tongchou-scheduler-hypothesis")
