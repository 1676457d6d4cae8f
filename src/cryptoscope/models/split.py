"""Time-ordered train / valid / test splits: a model is judged only on decisions after its data.

Periods are half-open, ``[start, end)``, on the decision time::

    train: t < train_end
    valid: train_end + gap <= t < valid_end
    test:  valid_end + gap <= t < test_end      (to the end of the data when test_end is None)

The ``gap`` (embargo) drops the decisions just after each boundary. Labels arrive late: a chargeback
for a payment made the day before the cut-off is not known on the cut-off day, so training up to
``train_end`` and validating right after it would not be possible in production. The same gap sits
before the test period because early stopping, calibration and thresholds use the valid labels.

Example::

    split = time_split(frame, "decision_time", "2025-03-01", "2025-03-15", gap=timedelta(days=7))
    split.train, split.valid, split.test
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from cryptoscope.errors import CryptoscopeError

TimeLike = dt.datetime | dt.date | str | pd.Timestamp


@dataclass(frozen=True)
class Period:
    """One period of a split: its name, bounds (``[start, end)``) and size."""

    name: str
    start: dt.datetime | None
    end: dt.datetime | None
    rows: int

    def describe(self) -> str:
        start = self.start.isoformat() if self.start else "the beginning"
        end = self.end.isoformat() if self.end else "the end"
        return f"{self.name}: {start} to {end} ({self.rows} rows)"


@dataclass(frozen=True, eq=False)
class Split:
    """Three time-ordered frames and the boundaries that made them (``eq=False``: frames do not compare)."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    time_col: str
    train_end: pd.Timestamp
    valid_end: pd.Timestamp
    test_end: pd.Timestamp | None
    gap: dt.timedelta
    train_start: pd.Timestamp | None = None

    @property
    def valid_start(self) -> pd.Timestamp:
        return self.train_end + self.gap

    @property
    def test_start(self) -> pd.Timestamp:
        return self.valid_end + self.gap

    @property
    def periods(self) -> tuple[Period, Period, Period]:
        """The data window of each period, as a model card records it."""
        return (Period("train", _py(self.train_start), _py(self.train_end), len(self.train)),
                Period("valid", _py(self.valid_start), _py(self.valid_end), len(self.valid)),
                Period("test", _py(self.test_start), _py(self.test_end), len(self.test)))


def time_split(frame: pd.DataFrame | pa.Table, time_col: str, train_end: TimeLike, valid_end: TimeLike,
               test_end: TimeLike | None = None, *, gap: dt.timedelta = dt.timedelta(0),
               train_start: TimeLike | None = None) -> Split:
    """Split ``frame`` by ``time_col`` into train, valid and test periods; never at random.

    ``train_start`` (optional) drops older rows, for sliding windows. Raises ``CryptoscopeError``
    when the boundaries are not in order, the gap swallows a period, or a period has no rows.
    """
    df = _as_frame(frame)
    times = _times(df, time_col)
    tz = times.dt.tz
    b_train, b_valid = _boundary(train_end, tz, "train_end"), _boundary(valid_end, tz, "valid_end")
    b_test = _boundary(test_end, tz, "test_end") if test_end is not None else None
    b_start = _boundary(train_start, tz, "train_start") if train_start is not None else None
    if gap < dt.timedelta(0):
        raise CryptoscopeError(f"the gap must not be negative, got {gap}")
    if b_start is not None and not b_start < b_train:
        raise CryptoscopeError(f"train_start ({b_start}) must be before train_end ({b_train})")
    if not b_train + gap < b_valid:
        raise CryptoscopeError(f"valid_end ({b_valid}) must be after train_end ({b_train}) plus the gap ({gap})")
    if b_test is not None and not b_valid + gap < b_test:
        raise CryptoscopeError(f"test_end ({b_test}) must be after valid_end ({b_valid}) plus the gap ({gap})")

    in_train = times < b_train
    if b_start is not None:
        in_train &= times >= b_start
    in_valid = (times >= b_train + gap) & (times < b_valid)
    in_test = times >= b_valid + gap
    if b_test is not None:
        in_test &= times < b_test
    split = Split(train=df[in_train].reset_index(drop=True), valid=df[in_valid].reset_index(drop=True),
                  test=df[in_test].reset_index(drop=True), time_col=time_col, train_end=b_train,
                  valid_end=b_valid, test_end=b_test, gap=gap,
                  train_start=b_start if b_start is not None else (times[in_train].min() if in_train.any() else None))
    for period in split.periods:
        if period.rows == 0:
            raise CryptoscopeError(f"the {period.describe()} has no rows; the data runs from "
                                   f"{times.min()} to {times.max()}: move the boundaries")
    return split


def rolling_splits(frame: pd.DataFrame | pa.Table, time_col: str, *, first_train_end: TimeLike,
                   valid_length: dt.timedelta, test_length: dt.timedelta, step: dt.timedelta | None = None,
                   gap: dt.timedelta = dt.timedelta(0), train_length: dt.timedelta | None = None) -> list[Split]:
    """Successive splits moved forward by ``step`` (default ``test_length``) for metrics over time.

    The training window grows (expanding) unless ``train_length`` makes it slide. Folds go on while
    their test period starts by the last decision in the data, so the last one may be cut short.
    """
    df = _as_frame(frame)
    times = _times(df, time_col)
    step = step or test_length
    if step <= dt.timedelta(0) or valid_length <= dt.timedelta(0) or test_length <= dt.timedelta(0):
        raise CryptoscopeError("valid_length, test_length and step must be positive")
    train_end = _boundary(first_train_end, times.dt.tz, "first_train_end")
    last = times.max()
    splits: list[Split] = []
    while True:
        valid_end = train_end + gap + valid_length
        test_end = valid_end + gap + test_length
        if valid_end + gap > last:
            break
        start = train_end - train_length if train_length is not None else None
        splits.append(time_split(df, time_col, train_end, valid_end, test_end, gap=gap, train_start=start))
        train_end = train_end + step
    if not splits:
        raise CryptoscopeError(f"no complete fold fits between {first_train_end} and the last decision ({last}); "
                               "use shorter periods or an earlier first_train_end")
    return splits


def _as_frame(frame: pd.DataFrame | pa.Table) -> pd.DataFrame:
    if isinstance(frame, pa.Table):
        return frame.to_pandas()
    if isinstance(frame, pd.DataFrame):
        return frame
    raise CryptoscopeError(f"expected a pandas DataFrame or an Arrow table, got {type(frame).__name__}")


def _times(df: pd.DataFrame, time_col: str) -> pd.Series:
    if time_col not in df.columns:
        raise CryptoscopeError(f"no time column {time_col!r}; columns are: {', '.join(map(str, df.columns))}")
    times = df[time_col]
    if not pd.api.types.is_datetime64_any_dtype(times):
        raise CryptoscopeError(f"column {time_col!r} must hold timestamps, not {times.dtype}")
    if times.isna().any():
        raise CryptoscopeError(f"column {time_col!r} has {int(times.isna().sum())} missing times; "
                               "a row without a time cannot be put in a period")
    return times


def _boundary(value: Any, tz: Any, what: str) -> pd.Timestamp:
    """A boundary in the column's zone: a naive boundary against a zoned column is read as UTC."""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise CryptoscopeError(f"{what} {value!r} is not a time: {exc}") from exc
    if tz is not None:
        return ts.tz_localize("UTC").tz_convert(tz) if ts.tzinfo is None else ts.tz_convert(tz)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _py(ts: pd.Timestamp | None) -> dt.datetime | None:
    return None if ts is None or pd.isna(ts) else ts.to_pydatetime(warn=False)
