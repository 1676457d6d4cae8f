"""One arithmetic for a decision frame and for one decision row, so the two can never disagree.

The risk products' ``derive`` functions, rules and guardrails are written once, against `Columns`:
a whole frame's columns as float arrays (batch, training, ``score_many``) or one row's cells as floats
(the online fast path, ``score_one``). The few operations they need keep pandas' semantics on both: a
missing value is NaN; a comparison with NaN is false; ``fill`` is ``fillna``; ``positive`` is
``where(x > 0)``. On one row this costs microseconds where a one-row pandas frame costs milliseconds.

>>> import pandas as pd
>>> fill(columns({"x": None})["x"]), fill(columns(pd.DataFrame({"x": [None, 2.0]}))["x"]).tolist()
(0.0, [0.0, 2.0])
>>> decide(columns({"x": 5.0})["x"] >= 3, False), decide(np.array([False, True]), np.array([True, False])).tolist()
('block', ['review', 'block'])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from cryptoscope.models import APPROVE, BLOCK, REVIEW

NAN = math.nan
Value = Any  # a float (one row) or a float64 array (a frame)
Data = TypeVar("Data", pd.DataFrame, dict[str, Any])


class FrameColumns:
    """A frame's columns as float64 arrays (nullable or integer columns read as float, missing as NaN)."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def __getitem__(self, name: str) -> np.ndarray:
        return np.asarray(self.frame[name].to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)


class RowColumns:
    """One row's cells as floats (None is NaN), the way the frame would hold them."""

    def __init__(self, row: Mapping[str, Any]) -> None:
        self.row = row

    def __getitem__(self, name: str) -> float:
        value = self.row[name]
        return NAN if value is None else float(value)


class ReadColumns(FrameColumns):
    """Records the columns read (each answers one NaN). Derive functions, rules and guardrails are arithmetic on
    whole columns, with no branch on a value, so one call over this sees every column they can ever read."""

    def __init__(self) -> None:
        self.read: set[str] = set()

    def __getitem__(self, name: str) -> np.ndarray:
        self.read.add(name)
        return np.array([NAN])


Columns = FrameColumns | RowColumns
Readable = pd.DataFrame | Mapping[str, Any] | Columns  # what the rules read: a frame, a row, or a view of either


def columns(data: Readable) -> Columns:
    """The right view for a frame or a row (a view stays itself)."""
    if isinstance(data, FrameColumns | RowColumns):
        return data
    return FrameColumns(data) if isinstance(data, pd.DataFrame) else RowColumns(data)


def fill(x: Value, value: float = 0.0) -> Value:
    """``fillna(value)``."""
    if isinstance(x, np.ndarray):
        return np.where(np.isnan(x), value, x)
    return value if x != x else x


def positive(x: Value) -> Value:
    """``where(x > 0)``: the value when above zero, else NaN."""
    if isinstance(x, np.ndarray):
        return np.where(x > 0, x, np.nan)
    return x if x > 0 else NAN


def floor(x: Value, lowest: float) -> Value:
    """``np.maximum(x, lowest)`` (NaN stays NaN)."""
    if isinstance(x, np.ndarray):
        return np.maximum(x, lowest)
    return x if x != x else max(x, lowest)


def flag(x: Value) -> Value:
    """A condition as 1/0 (an int8 column in a frame)."""
    return x.astype(np.int8) if isinstance(x, np.ndarray) else int(x)


def decide(block: Value, review: Value) -> Value:
    """``block`` over ``review`` over ``approve``, per row."""
    if isinstance(block, np.ndarray) or isinstance(review, np.ndarray):
        return np.where(block, BLOCK, np.where(review, REVIEW, APPROVE))
    return BLOCK if block else REVIEW if review else APPROVE

