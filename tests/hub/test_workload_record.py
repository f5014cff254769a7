"""A workload record and the row the store keeps of it: one list of fields, both ways."""

from __future__ import annotations

import pytest

from console.hub.control.workloads import WorkloadRecord
from console.model.replicas import Replicas
from tests.hub.test_inventory import T0
from tests.scheduler.builders import workload


def test_a_record_and_its_stored_row_carry_the_same_fields() -> None:
    record = WorkloadRecord(
        workload("eseal", replicas=3),
        "doc",
        T0,
        Replicas({"gov-a": 2}),
        1,
        "no room",
        "2 of 3",
        4,
        T0 + 1,
    )
    row = record.stored()
    assert (row.name, row.placed, row.pending, row.generation) == (
        "eseal",
        Replicas({"gov-a": 2}),
        1,
        4,
    )
    with pytest.raises(TypeError):  # the record cannot be changed through its row
        row.placed["gov-b"] = 1  # type: ignore[index]
    again = WorkloadRecord.from_stored(record.stored(), record.workload)
    assert again == record
