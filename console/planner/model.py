"""The mixed-integer model as columns and rows, and a quiet HiGHS to pass it to (shared by
the whole model and the platforms' models)."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator

import highspy
import numpy as np

GIB = float(2**30)
"""Memory goes to the solver in GiB: bytes next to cores make the model badly scaled."""


class Columns:
    def __init__(self) -> None:
        self.cost: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []

    def add(self, cost: float, lower: float, upper: float, integer: bool) -> int:
        self.cost.append(cost)
        self.lower.append(lower)
        self.upper.append(upper)
        self.integer.append(integer)
        return len(self.cost) - 1


class Rows:
    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.values: list[float] = []

    def add(self, terms: list[tuple[int, float]], lower: float, upper: float) -> None:
        r = len(self.lower)
        self.lower.append(lower)
        self.upper.append(upper)
        for col, value in terms:
            self.rows.append(r)
            self.cols.append(col)
            self.values.append(value)


_STDOUT_LOCK = threading.Lock()


@contextlib.contextmanager
def _stdout_to_null() -> Iterator[None]:
    """Points file descriptor 1 at the null device for the block: what a C library prints
    there (HiGHS's banner) never mixes with the program's output, such as `plan -o json`."""
    with _STDOUT_LOCK:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, 1)
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)


def quiet_highs() -> highspy.Highs:
    """A HiGHS instance that logs nothing: some highspy releases print a banner when the
    instance is made, before any option can be set, so it is made with standard output
    pointed at the null device; then its output is switched off."""
    with _stdout_to_null():
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.setOptionValue("log_to_console", False)
    return h


def pass_model(h: highspy.Highs, cols: Columns, rows: Rows) -> None:
    lp = highspy.HighsLp()
    lp.num_col_ = len(cols.cost)
    lp.num_row_ = len(rows.lower)
    lp.col_cost_ = np.array(cols.cost, dtype=np.float64)
    lp.col_lower_ = np.array(cols.lower, dtype=np.float64)
    lp.col_upper_ = np.array(cols.upper, dtype=np.float64)
    lp.row_lower_ = np.array(rows.lower, dtype=np.float64)
    lp.row_upper_ = np.array(rows.upper, dtype=np.float64)
    col_idx = np.array(rows.cols, dtype=np.int64)
    order = np.lexsort((np.array(rows.rows), col_idx))
    starts = np.searchsorted(col_idx[order], np.arange(len(cols.cost) + 1))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = np.array(rows.rows, dtype=np.int32)[order]
    lp.a_matrix_.value_ = np.array(rows.values, dtype=np.float64)[order]
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
        for i in cols.integer
    ]
    h.passModel(lp)
