"""Splits follow time: nothing from the future of a period ever lands in it."""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pyarrow as pa
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import rolling_splits, time_split

from .conftest import START

DAY = dt.timedelta(days=1)


def test_every_train_time_is_before_every_valid_time_before_every_test_time(risk_frame: pd.DataFrame) -> None:
    split = time_split(risk_frame.sample(frac=1, random_state=0), "decision_time",  # order of rows does not matter
                       START + 40 * DAY, START + 60 * DAY, START + 80 * DAY)
    t = "decision_time"
    assert split.train[t].max() < split.valid[t].min()
    assert split.valid[t].max() < split.test[t].min()
    assert split.test[t].max() < START + 80 * DAY
    assert len(split.train) + len(split.valid) + len(split.test) == (risk_frame[t] < START + 80 * DAY).sum()


def test_the_gap_drops_the_decisions_whose_labels_would_not_be_known_yet(risk_frame: pd.DataFrame) -> None:
    split = time_split(risk_frame, "decision_time", "2025-02-15", "2025-03-08", gap=7 * DAY)
    t = "decision_time"
    assert split.valid[t].min() >= split.train_end + 7 * DAY
    assert split.test[t].min() >= split.valid_end + 7 * DAY
    assert split.valid[t].min() - split.train[t].max() > 7 * DAY
    dropped = risk_frame[(risk_frame[t] >= split.train_end) & (risk_frame[t] < split.train_end + 7 * DAY)]
    assert len(dropped) > 0 and not dropped[t].isin(split.valid[t]).any()


def test_the_periods_are_recorded_for_the_model_card(risk_frame: pd.DataFrame) -> None:
    split = time_split(risk_frame, "decision_time", START + 40 * DAY, START + 60 * DAY, gap=DAY)
    train, valid, test = split.periods
    assert (train.name, valid.name, test.name) == ("train", "valid", "test")
    assert valid.start == (START + 41 * DAY).to_pydatetime() and valid.end == (START + 60 * DAY).to_pydatetime()
    assert test.end is None  # open-ended: the test period runs to the end of the data
    assert (train.rows, valid.rows, test.rows) == (len(split.train), len(split.valid), len(split.test))


@pytest.mark.parametrize(("bounds", "gap", "message"), [
    (("2025-02-15", "2025-02-01", None), DAY * 0, "valid_end .* must be after train_end"),
    (("2025-02-15", "2025-02-20", None), DAY * 7, "plus the gap"),
    (("2025-02-15", "2025-03-01", "2025-02-20"), DAY * 0, "test_end .* must be after valid_end"),
    (("2024-01-01", "2025-03-01", None), DAY * 0, "train: .* has no rows"),
    (("2025-02-15", "2025-03-01", "2025-03-01 00:00:01"), DAY * 0, "test: .* has no rows|test_end"),
    (("2025-02-15", "2026-03-01", None), DAY * 0, "test: .* has no rows"),
    (("2025-02-15", "2025-03-01", None), -DAY, "gap must not be negative"),
    (("not a date", "2025-03-01", None), DAY * 0, "train_end 'not a date' is not a time"),
])
def test_bad_boundaries_raise_clear_errors(risk_frame: pd.DataFrame, bounds: tuple[str, str, str | None],
                                           gap: dt.timedelta, message: str) -> None:
    with pytest.raises(CryptoscopeError, match=message):
        time_split(risk_frame, "decision_time", *bounds, gap=gap)


def test_a_missing_or_non_time_column_is_named(risk_frame: pd.DataFrame) -> None:
    with pytest.raises(CryptoscopeError, match="no time column 'when'"):
        time_split(risk_frame, "when", "2025-02-15", "2025-03-01")
    with pytest.raises(CryptoscopeError, match="must hold timestamps"):
        time_split(risk_frame, "amount_usd", "2025-02-15", "2025-03-01")


def test_arrow_tables_and_zoned_boundaries_work_too(risk_frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(risk_frame, preserve_index=False)
    in_utc = time_split(table, "decision_time", "2025-02-15", "2025-03-01")
    # 2025-02-15 01:00 in Paris is 2025-02-15 00:00 UTC: the same boundary
    in_paris = time_split(table, "decision_time", pd.Timestamp("2025-02-15 01:00", tz="Europe/Paris"),
                          "2025-03-01")
    assert len(in_utc.train) == len(in_paris.train)


def test_rolling_splits_move_forward_and_never_leak(risk_frame: pd.DataFrame) -> None:
    folds = rolling_splits(risk_frame, "decision_time", first_train_end=START + 28 * DAY, valid_length=14 * DAY,
                           test_length=14 * DAY, gap=DAY)
    assert len(folds) >= 3
    for before, after in itertools.pairwise(folds):
        assert after.train_end - before.train_end == 14 * DAY  # step defaults to the test length
        assert len(after.train) > len(before.train)  # expanding window
    for fold in folds:
        assert fold.train["decision_time"].max() < fold.valid["decision_time"].min()
        assert fold.valid["decision_time"].max() < fold.test["decision_time"].min()
    sliding = rolling_splits(risk_frame, "decision_time", first_train_end=START + 28 * DAY, valid_length=14 * DAY,
                             test_length=14 * DAY, train_length=28 * DAY)
    assert all(f.train["decision_time"].min() >= f.train_end - 28 * DAY for f in sliding)
