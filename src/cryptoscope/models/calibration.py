"""Turn model scores into probabilities that can be priced, and measure how far off they are.

The calibrator is fitted on the validation period, never on train: on its own training rows a
boosted model is over-confident, and the threshold search prices decisions with these probabilities.
``isotonic`` (monotone steps) needs a few hundred bad rows; ``sigmoid`` (Platt scaling on the score's
log-odds, two parameters) is the safer choice with fewer.

Example::

    calibrator = Calibrator("isotonic").fit(valid_scores, y_valid)
    p_test = calibrator.transform(test_scores)
    reliability_table(y_test, p_test, bins=10)
"""

from __future__ import annotations

import math
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.utils.validation import check_is_fitted

from cryptoscope.errors import CryptoscopeError

_EPS = 1e-6
_FEW = 16  # up to this many scores, Platt scaling runs on Python floats (``transform_fast``)


class Calibrator(BaseEstimator):
    """Maps scores to calibrated probabilities of the bad class: ``fit(scores, y).transform(scores)``."""

    def __init__(self, method: Literal["isotonic", "sigmoid"] = "isotonic") -> None:
        self.method = method

    def fit(self, scores: Any, y: Any, sample_weight: Any = None) -> Self:
        s, labels = _scores(scores), np.asarray(y, dtype=float)
        if s.shape != labels.shape:
            raise CryptoscopeError(f"{s.size} scores for {labels.size} labels")
        if np.unique(labels).size < 2:
            raise CryptoscopeError("calibration needs good and bad rows in the validation period")
        if self.method == "isotonic":
            self.model_: Any = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
            self.model_.fit(s, labels, sample_weight=sample_weight)
        elif self.method == "sigmoid":
            self.model_ = LogisticRegression(C=1e6)  # two parameters: regularising them only biases them
            self.model_.fit(_log_odds(s)[:, None], labels, sample_weight=sample_weight)
        else:
            raise CryptoscopeError(f"calibration method must be 'isotonic' or 'sigmoid', not {self.method!r}")
        return self

    def transform(self, scores: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        s = _scores(scores)
        if self.method == "isotonic":
            return np.asarray(self.model_.predict(s), dtype=float)
        return np.asarray(self.model_.predict_proba(_log_odds(s)[:, None])[:, 1], dtype=float)

    def transform_fast(self, scores: np.ndarray) -> np.ndarray:
        """``transform`` for a serving path: Platt scaling applied as its two numbers, without scikit-learn's
        input checks (~180 µs for one row); the same probabilities to the last bits. Isotonic as ``transform``."""
        model = getattr(self, "model_", None)
        if self.method != "sigmoid" or model is None:
            return self.transform(scores)
        coef, intercept = float(model.coef_[0, 0]), float(model.intercept_[0])
        s = np.asarray(scores, dtype=float).ravel()
        small = s.tolist() if s.size <= _FEW else None
        if small is not None and (len(small) == 1 or all(0.0 <= v <= 1.0 for v in small)):
            # the few rows a request batch brings: numpy's per-call set-up would cost ~20 µs of arithmetic on them
            return np.array([_platt_one(v, coef, intercept) for v in small])
        return np.asarray(expit(_log_odds(_scores(s))[:, None] * coef + intercept)[:, 0], dtype=float)

    def fit_transform(self, scores: Any, y: Any, sample_weight: Any = None) -> np.ndarray:
        return self.fit(scores, y, sample_weight).transform(scores)


def reliability_table(y: Any, p: Any, bins: int = 10) -> pd.DataFrame:
    """Per equal-width bin of ``p`` on [0, 1]: its bounds, rows, mean predicted and observed bad rate.

    Bins are ``[lower, upper)``, the last one closed, so ``p = 1.0`` lands in it. Empty bins are kept
    with ``count`` 0 and NaN rates so that tables of different models line up.
    """
    labels, probs = _pair(y, p)
    if bins < 1:
        raise CryptoscopeError(f"bins must be at least 1, got {bins}")
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.searchsorted(edges, probs, side="right") - 1, 0, bins - 1)
    count = np.bincount(index, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(index, weights=probs, minlength=bins) / count
        observed = np.bincount(index, weights=labels, minlength=bins) / count
    return pd.DataFrame({"bin": np.arange(bins), "lower": edges[:-1], "upper": edges[1:], "count": count,
                         "mean_predicted": mean_p, "observed_rate": observed})


def brier_score(y: Any, p: Any) -> float:
    """Mean squared error of the probabilities: 0 is perfect, the base rate times (1 - it) is a constant's."""
    labels, probs = _pair(y, p)
    return float(np.mean((probs - labels) ** 2))


def expected_calibration_error(y: Any, p: Any, bins: int = 10) -> float:
    """Row-weighted mean |mean predicted - observed rate| over the bins of ``reliability_table``."""
    table = reliability_table(y, p, bins)
    filled = table[table["count"] > 0]
    gaps = (filled["mean_predicted"] - filled["observed_rate"]).abs()
    return float((gaps * filled["count"]).sum() / filled["count"].sum())


def _scores(scores: Any) -> np.ndarray:
    s = np.asarray(scores, dtype=float).ravel()
    if not np.isfinite(s).all():
        raise CryptoscopeError("scores must be finite numbers")
    return s


def _platt_one(score: float, coef: float, intercept: float) -> float:
    """``expit(_log_odds(score) * coef + intercept)`` on one float: the same rules and operations in ``math``."""
    if not math.isfinite(score):
        raise CryptoscopeError("scores must be finite numbers")
    if 0.0 <= score <= 1.0:
        c = min(max(score, _EPS), 1 - _EPS)
        score = math.log(c / (1 - c))
    z = score * coef + intercept
    return 1.0 / (1.0 + (math.exp(-z) if z > -709.0 else math.inf))  # scipy's expit: 1 / (1 + exp(-z))


def _log_odds(s: np.ndarray) -> np.ndarray:
    """Probabilities become log-odds, where Platt's line fits; other scores are used as they are."""
    if s.min() >= 0.0 and s.max() <= 1.0:
        c = np.clip(s, _EPS, 1 - _EPS)
        return np.asarray(np.log(c / (1 - c)))
    return s


def _pair(y: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
    labels, probs = np.asarray(y, dtype=float).ravel(), np.asarray(p, dtype=float).ravel()
    if labels.shape != probs.shape:
        raise CryptoscopeError(f"{probs.size} probabilities for {labels.size} labels")
    if labels.size == 0:
        raise CryptoscopeError("no rows to measure")
    if probs.min() < 0.0 or probs.max() > 1.0 or not np.isfinite(probs).all():
        raise CryptoscopeError("probabilities must lie in [0, 1]; calibrate raw scores first")
    return labels, probs
