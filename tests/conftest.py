"""Fixtures every suite may use: the sample province's fleet, loaded once per session."""

from __future__ import annotations

import pytest

from console.documents import load_fleet
from console.model.fleet import Fleet
from tests.samples import SAMPLE


@pytest.fixture(scope="session")
def sample_fleet() -> Fleet:
    """The sample province as the loader builds it. Shared: tests must not change it."""
    return load_fleet([SAMPLE])
