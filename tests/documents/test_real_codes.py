"""The sample province uses real GB/T 2260 codes with their real names (2023 data)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from console.model.fleet import Fleet

ROOT = Path(__file__).resolve().parents[2]
DIVISIONS = ROOT.parent / "shared" / "data" / "divisions"


def official_names() -> dict[str, str]:
    names: dict[str, str] = {}
    with (DIVISIONS / "provinces.csv").open(encoding="utf-8") as f:
        names.update((row["code"] + "0000", row["name"]) for row in csv.DictReader(f))
    with (DIVISIONS / "cities.csv").open(encoding="utf-8") as f:
        names.update((row["code"] + "00", row["name"]) for row in csv.DictReader(f))
    with (DIVISIONS / "areas.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names.setdefault(row["code"], row["name"])  # 441900 is both a city and an area
    with (DIVISIONS / "streets.csv").open(encoding="utf-8") as f:
        names.update((row["code"], row["name"]) for row in csv.DictReader(f))
    return names


@pytest.mark.skipif(
    not DIVISIONS.is_dir(), reason="the shared division data is not beside the repo"
)
def test_every_sample_division_is_real_and_named_as_in_the_statistics(sample_fleet: Fleet) -> None:
    names = official_names()
    fleet = sample_fleet
    wrong = {
        code: (division.name, names.get(code))
        for code, division in fleet.divisions.items()
        if names.get(code) != division.name
    }
    assert wrong == {}
