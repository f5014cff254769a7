"""A workload record and the row the store keeps of it: one list of fields, both ways."""

from __future__ import annotations

from console.hub.control.workloads import WorkloadRecord
from tests.hub.test_inventory import T0
from tests.scheduler.builders import workload


def test_a_record_and_its_stored_row_carry_the_same_fields() -> None:
    record = WorkloadRecord(
        workload("eseal", replicas=3), "doc", T0, {"gov-a": 2}, 1, "no room", "2 of 3", 4, T0 + 1
    )
    row = record.stored()
    assert (row.name, row.placed, row.pending, row.generation) == ("eseal", {"gov-a": 2}, 1, 4)
    row.placed["gov-b"] = 1  # a copy: the record is not changed through its row
    again = WorkloadRecord.from_stored(record.stored(), record.workload)
    assert again == record
