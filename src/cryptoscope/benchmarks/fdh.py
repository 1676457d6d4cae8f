"""The Fraud Detection Handbook's benchmark, run on data that went through the lake.

The handbook's protocol, re-implemented from its description (its code is not used):

* 7 training days from ``train_start``, then 7 delay days (labels of the training week arrive), then
  7 test days;
* features only from the past (`cryptoscope.benchmarks.fdh_features`): the terminal's fraud rate uses
  only labels known before the decision, which with 7-day chargebacks is the handbook's lag;
* the model learns from the training week's labels known when the test week starts;
* from each test day, the customers already known to be compromised are removed: those with a fraud
  from ``train_start`` on whose label was known before that day (in training or delay, or earlier in
  the test week), as an investigator would have blocked them;
* scores: AUC-ROC, average precision and card precision@100 (`cryptoscope.benchmarks.fdh_metrics`).

A baseline (logistic regression on the same features) is fitted in the same run, so every figure has
a reference computed on the same rows.

The model is LightGBM by default; ``sequence`` (a GRU over each card's payments before the decision) and
``hybrid`` (LightGBM + the sequence model's logit) come from `cryptoscope.benchmarks.fdh_deep`, and
`run_models` fits several of them in one run on the same rows, which is how they are compared.

>>> import datetime
>>> result = run_fdh("transactions.parquet", datetime.date(2018, 7, 25))  # doctest: +SKIP
>>> result.model.average_precision                                      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np
import pandas as pd
from lightgbm import LGBMClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from cryptoscope.benchmarks.fdh_data import fdh_lake
from cryptoscope.benchmarks.fdh_deep import (
    HYBRID_FOLDS,
    LOGIT,
    SEQUENCE_PARAMS,
    hybrid_scores,
    sequence_inputs,
    sequence_model,
)
from cryptoscope.benchmarks.fdh_features import FEATURES, card_features, card_labels, payment_spine
from cryptoscope.benchmarks.fdh_metrics import Scores, card_precision_at_k, fraud_scores
from cryptoscope.benchmarks.fdh_sequences import EVENT_FEATURES
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect

#: The handbook's published test figures for its dates (train from 2018-07-25), AUC / AP / CP@100.
BOOK_FIGURES: dict[str, Scores] = {
    "xgboost_model_selection": Scores(0.869, 0.687, 0.303),
    "random_forest_model_selection": Scores(0.870, 0.678, 0.299),
    "logistic_regression": Scores(0.871, 0.606, 0.291),
    "decision_tree_depth_2": Scores(0.763, 0.496, 0.241),
    "random_forest": Scores(0.867, 0.658, 0.287),
    "xgboost": Scores(0.862, 0.639, 0.273),
}
BOOK_DATES = dt.date(2018, 7, 25)
BOOK_BEST = "xgboost_model_selection"

#: LightGBM's settings, chosen on validation folds that end before each test week (see
#: benchmarks/fdh.py --validate), never on a test week. Frauds are ~0.8% of payments. Re-weighting them
#: (scale_pos_weight 2 or 3) or under-sampling genuine payments per tree (to 20% or 50%) both lowered
#: the validation folds' mean average precision (0.711-0.719 against 0.727), so the model learns from the
#: natural ratio: the ranking metrics judged here do not need calibrated probabilities, and the trees'
#: leaves are kept large enough (min_child_samples) to hold a few frauds. A fine amount grid (max_bin)
#: lets the trees find exact amount thresholds.
LGBM_PARAMS: dict[str, Any] = {
    "n_estimators": 400, "learning_rate": 0.03, "num_leaves": 15, "min_child_samples": 50, "max_bin": 4095,
    "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0,
    "scale_pos_weight": 1.0, "random_state": 7, "n_jobs": 1, "deterministic": True, "force_col_wise": True,
    "verbose": -1,
}


@dataclass(frozen=True)
class Periods:
    """Training, delay and test periods: each ``[start, end)`` in UTC days."""

    train_start: dt.date
    train_days: int = 7
    delay_days: int = 7
    test_days: int = 7

    @property
    def train_end(self) -> dt.date:
        return self.train_start + dt.timedelta(days=self.train_days)

    @property
    def test_start(self) -> dt.date:
        return self.train_end + dt.timedelta(days=self.delay_days)

    @property
    def test_end(self) -> dt.date:
        return self.test_start + dt.timedelta(days=self.test_days)

    def as_dict(self) -> dict[str, list[str]]:
        """Each period as [first day, last day], inclusive, as the handbook writes them."""
        last = dt.timedelta(days=1)
        return {"train": [str(self.train_start), str(self.train_end - last)],
                "delay": [str(self.train_end), str(self.test_start - last)],
                "test": [str(self.test_start), str(self.test_end - last)]}


@dataclass(frozen=True)
class RowCounts:
    train: int
    train_frauds: int
    test: int
    test_frauds: int
    test_removed_known_compromised: int
    test_cards_compromised: tuple[int, ...]  # per test day, after the removal


@dataclass(frozen=True)
class FdhResult:
    """What one run of the protocol measured."""

    periods: Periods
    model: Scores
    baseline: Scores
    model_name: str
    baseline_name: str
    card_precision_per_day: tuple[float, ...]
    rows: RowCounts
    features: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def as_json(self, command: str | None = None) -> dict[str, Any]:
        best = BOOK_FIGURES[BOOK_BEST]
        return {
            "benchmark": "fdh",
            "train_start": str(self.periods.train_start),
            "auc_roc": round(self.model.auc_roc, 4),
            "average_precision": round(self.model.average_precision, 4),
            "card_precision_at_100": round(self.model.card_precision_at_100, 4),
            "model": {"name": self.model_name, "params": self.params},
            "baseline": {"name": self.baseline_name, **self.baseline.rounded()},
            "book": {
                "note": "published test figures for train 2018-07-25..07-31, test 2018-08-08..08-14; "
                        "comparable only for that start date",
                "best": BOOK_BEST,
                **{name: s.rounded(3) for name, s in BOOK_FIGURES.items()}},
            "beats_book_best_average_precision": self.model.average_precision > best.average_precision,
            "book_dates": self.periods.train_start == BOOK_DATES,
            "card_precision_at_100_per_day": [round(v, 4) for v in self.card_precision_per_day],
            "periods": self.periods.as_dict(),
            "rows": {k: list(v) if isinstance(v, tuple) else v for k, v in vars(self.rows).items()},
            "features": list(self.features),
            "seconds": round(self.seconds, 1),
            **({"command": command} if command else {}),
        }


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def labelled_payments(con: Any, periods: Periods) -> pd.DataFrame:
    """Every card payment of the training and test weeks with its features and its (true) label.

    ``known_label`` is the label as known when the test week starts (NaN when not yet known).
    """
    spine = payment_spine(con, _utc(periods.train_start), _utc(periods.train_end)).union(
        payment_spine(con, _utc(periods.test_start), _utc(periods.test_end)), distinct=False)
    feats = card_features(con, spine)
    truth = card_labels(con)
    known = card_labels(con, known_before=_utc(periods.test_start))
    truth = truth.select(_p=truth.payment_id, fraud=truth.label)
    known = known.select(_q=known.payment_id, known_label=known.label)
    out = feats.left_join(truth, feats.payment_id == truth._p).drop("_p")
    out = out.left_join(known, out.payment_id == known._q).drop("_q")
    frame = out.to_pandas()
    if frame.fraud.isna().any():
        raise CryptoscopeError(f"{int(frame.fraud.isna().sum())} payments have no card_fraud label in the lake")
    frame["day"] = frame.decision_time.dt.tz_convert("UTC").dt.date
    return frame.sort_values(["decision_time", "payment_id"], kind="stable").reset_index(drop=True)


def compromise_times(con: Any, periods: Periods) -> pd.DataFrame:
    """(user_id, known_time) of every fraud since ``train_start``: from ``known_time`` on, the customer is
    known to be compromised."""
    lab = card_labels(con)
    bad = lab.filter(lab.label == 1, lab.decision_time >= ibis.literal(_utc(periods.train_start)),
                     lab.decision_time < ibis.literal(_utc(periods.test_end)))
    payments = con.table("payments")
    bad = bad.join(payments, bad.payment_id == payments.payment_id)
    return bad.select("user_id", "known_time").to_pandas()


def known_compromised(times: pd.DataFrame, day: dt.date) -> set[int]:
    """Customers whose compromise was known before ``day`` began (``times`` from `compromise_times`)."""
    return {int(u) for u in times[times.known_time < pd.Timestamp(_utc(day))].user_id}


def split(con: Any, periods: Periods) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Training rows (labels known by the test start), test rows without known-compromised customers,
    and how many test rows were removed."""
    frame = labelled_payments(con, periods)
    is_train = frame.decision_time < pd.Timestamp(_utc(periods.train_end))
    train = frame[is_train & frame.known_label.notna()].reset_index(drop=True)
    test = frame[~is_train]
    times = compromise_times(con, periods)
    keep = [rows[~rows.user_id.isin(known_compromised(times, rows.day.iloc[0]))]
            for _, rows in test.groupby("day", sort=True)]
    kept = pd.concat(keep).reset_index(drop=True) if keep else test.iloc[:0]
    return train, kept, len(test) - len(kept)


def _baseline() -> Any:
    return make_pipeline(SimpleImputer(strategy="constant", fill_value=0.0), StandardScaler(),
                         LogisticRegression(max_iter=2000))


def _matrix(frame: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    return frame[list(features)].astype("float64").to_numpy()


#: What ``--model`` may name: trees, the sequence model alone, or trees with the sequence model's logit.
MODELS = ("lightgbm", "sequence", "hybrid")


@dataclass(frozen=True)
class ModelRun:
    """One model's test figures in a run, and what fitting and scoring it cost."""

    name: str
    scores: Scores
    per_day: tuple[float, ...]
    params: dict[str, Any]
    seconds: float
    cpu_seconds: float


@dataclass(frozen=True)
class FdhComparison:
    """Every model of one run, on the same training rows and the same test rows."""

    periods: Periods
    runs: dict[str, ModelRun]
    baseline: Scores
    rows: RowCounts
    features: tuple[str, ...]
    seconds: float
    cpu_seconds: float

    def result(self, name: str) -> FdhResult:
        run = self.runs[name]
        return FdhResult(self.periods, run.scores, self.baseline, name, "logistic_regression", run.per_day,
                         self.rows, self.features, run.params, self.seconds)


def _timed(fit: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fit()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run_models(lake: Lake, periods: Periods, models: tuple[str, ...] = MODELS, features: tuple[str, ...] = FEATURES,
               *, seed: int | None = None, sequence_params: dict[str, Any] | None = None) -> FdhComparison:
    """Fit each of ``models`` (see `MODELS`) and the baseline on the training week, score the same test week.

    ``seed`` replaces the models' own seeds (LightGBM's 7, the sequence model's 7) for a run over seeds;
    ``sequence_params`` replaces `SEQUENCE_PARAMS` (a smaller network in tests).
    """
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise CryptoscopeError(f"unknown model {', '.join(unknown) or '(none)'}; choose from {', '.join(MODELS)}")
    started, cpu_started = time.perf_counter(), time.process_time()
    con = connect(lake, threads=1)  # one thread: float sums in one order, so every run gives the same figures
    con.con.execute("SET enable_progress_bar = false")
    train, test, removed = split(con, periods)
    y_train = train.known_label.astype(int).to_numpy()
    y_test = test.fraud.astype(int).to_numpy()
    if len(set(y_train)) < 2 or len(set(y_test)) < 2:
        raise CryptoscopeError(f"train {periods.train_start}: the training or test week has no fraud (or only "
                               "fraud); pick another start date")
    x_train, x_test = _matrix(train, features), _matrix(test, features)
    lgbm_params = {**LGBM_PARAMS, **({"random_state": seed} if seed is not None else {})}
    seq_seed = 7 if seed is None else seed
    cards, days = test.card.to_numpy(), test.day.to_numpy()
    scores: dict[str, tuple[np.ndarray, dict[str, Any], float, float]] = {}
    if "lightgbm" in models:
        p, wall, cpu = _timed(lambda: np.asarray(LGBMClassifier(**lgbm_params).fit(x_train, y_train)
                                                 .predict_proba(x_test))[:, 1])
        scores["lightgbm"] = (p, {k: v for k, v in lgbm_params.items() if k != "verbose"}, wall, cpu)
    if "sequence" in models or "hybrid" in models:
        sp = SEQUENCE_PARAMS if sequence_params is None else sequence_params
        steps = int(sp["steps"])
        (s_train, s_test), wall_in, cpu_in = _timed(lambda: sequence_inputs(
            con, _utc(periods.train_start), _utc(periods.test_end), [train, test], features, steps))
        seq_params = {**sp, "random_state": seq_seed, "event_features": list(EVENT_FEATURES)}
        if "sequence" in models:
            logit, wall, cpu = _timed(lambda: sequence_model(seq_seed, sp).fit(s_train, y_train)
                                      .decision_function(s_test))
            scores["sequence"] = (logit, {**seq_params, "tabular_features": True}, wall_in + wall, cpu_in + cpu)
        if "hybrid" in models:
            groups = train.user_id.to_numpy()
            p, wall, cpu = _timed(lambda: hybrid_scores(lambda: LGBMClassifier(**lgbm_params), s_train, y_train,
                                                        groups, s_test, len(features), seq_seed, params=sp))
            scores["hybrid"] = (p, {"lightgbm": {k: v for k, v in lgbm_params.items() if k != "verbose"},
                                    "sequence": {**seq_params, "tabular_features": False},
                                    "learned_features": [LOGIT], "out_of_fold_by_customer": HYBRID_FOLDS},
                                wall_in + wall, cpu_in + cpu)
    baseline = _baseline().fit(x_train, y_train)
    p_base = np.asarray(baseline.predict_proba(x_test))[:, 1]
    runs = {name: ModelRun(name, fraud_scores(p, y_test, cards, days),
                           card_precision_at_k(p, cards, days, y_test, k=100).per_day, params, wall, cpu)
            for name, (p, params, wall, cpu) in scores.items()}
    compromised = tuple(int(g.groupby("card").fraud.max().sum()) for _, g in test.groupby("day", sort=True))
    rows = RowCounts(len(train), int(y_train.sum()), len(test), int(y_test.sum()), removed, compromised)
    return FdhComparison(periods, {m: runs[m] for m in models}, fraud_scores(p_base, y_test, cards, days), rows,
                         features, time.perf_counter() - started, time.process_time() - cpu_started)


def run_protocol(lake: Lake, periods: Periods, features: tuple[str, ...] = FEATURES, model: str = "lightgbm"
                 ) -> FdhResult:
    """Train ``model`` (one of `MODELS`) on the training week, score the test week, on a lake that holds
    payments and labels."""
    return run_models(lake, periods, (model,), features).result(model)


def run_fdh(data: str | os.PathLike[str], train_start: dt.date, lake: str | os.PathLike[str] | None = None,
            model: str = "lightgbm") -> FdhResult:
    """Ingest ``data`` (once per file; into a per-file cache lake unless ``lake`` is given) and run the
    protocol from ``train_start`` with ``model`` (one of `MODELS`)."""
    return run_protocol(fdh_lake(data, lake), Periods(train_start), model=model)
