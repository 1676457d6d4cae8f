"""A row budget for training: every bad decision kept, a fixed share of the good ones, weighted back.

A year of withdrawals on a large exchange is hundreds of millions of decisions; the model is fitted on
one machine. When the training period holds more decisions than the budget (``DEFAULT_ROW_BUDGET``,
``$CRYPTOSCOPE_RISK_ROW_BUDGET`` or an argument), its good decisions are down-sampled *on the engine*,
before the frame comes to the driver:

* every decision with a bad label known at the build date is kept (they are few and they are the signal);
* a good one is kept when the first 8 hex digits of the MD5 of its entity id fall below ``rate`` of the
  2**32 values: a hash, not a random draw, so that DuckDB and Spark (and a rerun) keep the same rows;
* a kept good decision weighs ``1 / rate`` in the fit, so the model sees the real mix of good and bad.

Only the training period is sampled: validation calibrates the scores and chooses the thresholds, and the
test period judges the costs, and both must see every decision as it came (weighing them back would
touch every metric). The model card's ``sampling`` says the budget, the rate and the rows before and after.

>>> keep_threshold(0.25)
'40000000'
>>> Sampling(budget=100, rate=0.25, rows_before=400, positives=4, rows_after=101).weight
4.0
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError

#: Environment variable that sets the row budget (an integer number of training-period decisions).
ROW_BUDGET_ENV = "CRYPTOSCOPE_RISK_ROW_BUDGET"
#: Two million rows of a hundred features: a few GB in pandas and minutes of LightGBM on one core.
DEFAULT_ROW_BUDGET = 2_000_000
#: The frame column that carries each row's weight in the fit (present only when the frame was sampled).
WEIGHT_COLUMN = "sample_weight"
_DIGITS = 8  # hex digits of the MD5 compared: 2**32 buckets
_BUCKETS = 16**_DIGITS


def row_budget(budget: int | None = None) -> int:
    """``budget`` if given, else ``$CRYPTOSCOPE_RISK_ROW_BUDGET``, else ``DEFAULT_ROW_BUDGET``."""
    raw: Any = budget if budget is not None else os.environ.get(ROW_BUDGET_ENV, DEFAULT_ROW_BUDGET)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise CryptoscopeError(f"the risk row budget must be a whole number of rows, got {raw!r} "
                               f"(from {'the argument' if budget is not None else '$' + ROW_BUDGET_ENV})") from None
    if value < 1:
        raise CryptoscopeError(f"the risk row budget must be at least 1 row, got {value}")
    return value


@dataclass(frozen=True)
class Sampling:
    """How a training period was sampled: see the module doc. ``rate`` 1 means it was not."""

    budget: int
    rate: float  # share of the good training decisions kept
    rows_before: int  # training-period decisions on the engine
    positives: int = 0  # of them, bad at the build date (counted only when the budget was exceeded)
    rows_after: int = 0  # training-period rows that reached the fit

    @property
    def sampled(self) -> bool:
        return self.rate < 1.0

    @property
    def weight(self) -> float:
        """What one kept good decision weighs in the fit."""
        return 1.0 / self.rate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def note(self) -> str:
        """One sentence for the model card's notes."""
        if not self.sampled:
            return (f"Row budget {self.budget:,}: the {self.rows_before:,} training decisions fitted within it, "
                    "none were sampled.")
        return (f"Row budget {self.budget:,}: the {self.rows_before:,} training decisions were sampled to "
                f"{self.rows_after:,} on the engine, every bad one kept ({self.positives:,}) and good ones kept at "
                f"rate {self.rate:.6f} by a hash of the entity id, each weighing {self.weight:,.4f} in the fit; "
                "validation and test were not sampled.")


def keep_threshold(rate: float) -> str:
    """The hex bound: a good decision is kept when its MD5's first digits sort below it."""
    return f"{min(int(rate * _BUCKETS), _BUCKETS - 1):0{_DIGITS}x}"


def effective_rate(rate: float) -> float:
    """The share of hash values below ``keep_threshold(rate)``: the rate the weights must undo."""
    return int(keep_threshold(rate), 16) / _BUCKETS


def kept_by_hash(entity_ids: pd.Series, rate: float) -> np.ndarray:
    """The same choice as the engine's, in pandas (for checks): True where a good decision is kept."""
    bound = keep_threshold(rate)
    return np.array([hashlib.md5(str(e).encode()).hexdigest()[:_DIGITS] < bound for e in entity_ids], dtype=bool)


def sample_training(con: Any, decisions: ir.Table, *, entity_type: str, label_types: tuple[str, ...],
                    train_end: dt.datetime, build_date: dt.datetime, budget: int) -> tuple[ir.Table, Sampling]:
    """``decisions`` (an Ibis table with ``entity_id`` and ``decision_time``) with its training period
    (before ``train_end``) down-sampled to about ``budget`` rows, and how.

    One count on the engine when the budget holds; one more (the bad decisions) when it does not. Refuses
    (``CryptoscopeError``) a budget that cannot hold the bad decisions with some good ones."""
    in_train = decisions.decision_time < ibis.literal(train_end.astimezone(dt.UTC))
    rows = int(decisions.filter(in_train).count().execute())
    if rows <= budget:
        return decisions, Sampling(budget=budget, rate=1.0, rows_before=rows, rows_after=rows)
    lab = con.table("labels")
    lab = lab.filter(lab.entity_type == entity_type, lab.label_type.isin(list(label_types)),
                     lab.event_time <= ibis.literal(build_date.astimezone(dt.UTC)))
    bad = lab.filter(lab.label == 1).select(_bad_id="entity_id").distinct()
    marked = decisions.left_join(bad, decisions.entity_id == bad._bad_id)
    marked = marked.mutate(_bad=marked._bad_id.notnull()).drop("_bad_id")
    train = marked.filter(marked.decision_time < ibis.literal(train_end.astimezone(dt.UTC)))
    positives = int(train.filter(train._bad).count().execute())
    room = budget - positives
    if room <= 0:
        raise CryptoscopeError(f"a row budget of {budget:,} cannot hold the {positives:,} bad training decisions "
                               "and any good one; raise it (argument or $" + ROW_BUDGET_ENV + ")")
    rate = effective_rate(room / (rows - positives))
    if rate <= 0.0:
        raise CryptoscopeError(f"a row budget of {budget:,} keeps no good decision out of {rows - positives:,}; "
                               "raise it")
    digest = marked.entity_id.hexdigest("md5").substr(0, _DIGITS)
    keep = (marked.decision_time >= ibis.literal(train_end.astimezone(dt.UTC))) | marked._bad | (
        digest < ibis.literal(keep_threshold(rate)))
    return marked.filter(keep).drop("_bad"), Sampling(budget=budget, rate=rate, rows_before=rows,
                                                      positives=positives)


def with_weights(frame: pd.DataFrame, sampling: Sampling, train_end: dt.datetime) -> tuple[pd.DataFrame, Sampling]:
    """The labelled frame with ``WEIGHT_COLUMN`` (when it was sampled), and ``sampling`` with the rows kept."""
    in_train = (frame["decision_time"] < pd.Timestamp(train_end)).to_numpy()
    done = Sampling(budget=sampling.budget, rate=sampling.rate, rows_before=sampling.rows_before,
                    positives=sampling.positives, rows_after=int(in_train.sum()))
    if not sampling.sampled:
        return frame, done
    good = (frame["label"] == 0).to_numpy()
    return frame.assign(**{WEIGHT_COLUMN: np.where(in_train & good, sampling.weight, 1.0)}), done
