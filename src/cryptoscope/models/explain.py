"""Reason codes: why a row scored high, in words an analyst or a customer letter can use.

``ReasonExplainer`` computes SHAP contributions of each feature to a row's score: TreeExplainer
(exact, on log-odds) for LightGBM and other tree models, ``LinearShap`` for linear models (also
behind the imputer ``RiskClassifier`` adds: shap's LinearExplainer values, computed in numpy), and
shap's permutation explainer on the probability for anything else with ``predict_proba``. The top
``k`` positive contributions of a row are its reasons; a ``ReasonCatalog`` turns each into a sentence.
Contributions are computed on the raw score: calibration is monotone, so it does not change which
features pushed a row up.

Catalog keys are exact feature names, glob patterns (``since_security_change_*``) or compiled
regular expressions, tried in that order (longest glob first). A template may use ``{value}``,
``{value_minutes}``, ``{value_hours}``, ``{value_days}`` (the value read as seconds, as ``since_last``
features are), ``{feature}``, ``{window}`` (a trailing ``_24h``-style suffix) and a regex's named groups::

    catalog = ReasonCatalog({"devices_24h": "used {value:.0f} devices in the last 24 hours",
                             "since_security_change_*": "security settings changed {value_hours:.0f} hours earlier"})
    explainer = ReasonExplainer(catalog, top_k=3).fit(model, X_train)
    explainer.reasons(X_test.head())   # -> one tuple of Reason per row
"""

from __future__ import annotations

import fnmatch
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.estimator import RiskClassifier

_WINDOW = re.compile(r"_(\d+)(m|h|d|w)$")
_UNITS = {"m": "minute", "h": "hour", "d": "day", "w": "week"}


@dataclass(frozen=True)
class Reason:
    """One reason for a row's score: the feature, its value, its push on the score, and the words."""

    feature: str
    value: float
    contribution: float
    text: str


class ReasonCatalog:
    """Feature names (exact, glob, or compiled regex) to sentence templates; see the module doc."""

    def __init__(self, templates: Mapping[str | re.Pattern[str], str] | None = None) -> None:
        self.templates = dict(templates or {})
        self._exact = {k: v for k, v in self.templates.items() if isinstance(k, str) and not _is_glob(k)}
        self._globs = sorted(((k, v) for k, v in self.templates.items() if isinstance(k, str) and _is_glob(k)),
                             key=lambda kv: -len(kv[0]))
        self._regexes = [(k, v) for k, v in self.templates.items() if isinstance(k, re.Pattern)]
        # feature -> (template, regex groups): glob and regex matching once per feature, not once per reason
        self._resolved: dict[str, tuple[str | None, dict[str, str]]] = {}

    def describe(self, feature: str, value: float) -> str:
        """The sentence for ``feature`` at ``value``: its template, or one made from the name."""
        value = steady(value)
        template, groups = self._template(feature)
        if template is None or _missing(value):
            return _fallback(feature, value)
        fields = _fields(feature, value) | groups
        try:
            return template.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise CryptoscopeError(f"the reason template for {feature!r} ({template!r}) cannot be filled: {exc}; "
                                   f"available fields: {', '.join(fields)}") from exc

    def _template(self, feature: str) -> tuple[str | None, dict[str, str]]:
        found = self._resolved.get(feature)
        if found is None:
            found = self._resolved[feature] = self._find(feature)
        return found

    def _find(self, feature: str) -> tuple[str | None, dict[str, str]]:
        if feature in self._exact:
            return self._exact[feature], {}
        for pattern, template in self._globs:
            if fnmatch.fnmatchcase(feature, pattern):
                return template, {}
        for regex, template in self._regexes:
            match = regex.fullmatch(feature)
            if match:
                return template, {k: v for k, v in match.groupdict().items() if v is not None}
        return None, {}


@dataclass(frozen=True)
class LinearShap:
    """The interventional SHAP values of a binary linear model, in numpy: ``coef * (x - mean(background))`` on the
    log-odds, ``x`` as the model sees it (after the pipeline's transform steps).

    These are the numbers shap's ``LinearExplainer`` gives with its default (independent) masker over the same
    background, to the last bit (``tests/models/test_explain.py`` holds them equal). Not for speed per call
    (shap's own call on an array is ~2 µs a row; what made a linear model's one-row reasons cost ~1.6 ms was the
    frame and the imputer's checks around it): the serving row path (``risk/fastscore.py``) needs the two arrays
    to explain a float matrix without pandas, and a linear model no longer imports shap (~1 s more than
    scikit-learn and pandas). Every background row counts, where shap samples 100 of a larger background:
    ``ReasonExplainer`` passes at most ``background_size`` rows (100 by default), so the two agree.
    """

    coef: np.ndarray
    mean: np.ndarray
    intercept: float

    @classmethod
    def fit(cls, model: Any, background: Any) -> LinearShap:
        """``model``'s coefficients (one per column of ``background``) and the background's column means."""
        coef = np.asarray(model.coef_, dtype=float).ravel()
        data = np.asarray(background, dtype=float)
        if data.ndim != 2 or data.shape[1] != coef.size:
            raise CryptoscopeError(f"{type(model).__name__} has {coef.size} coefficients for a background of "
                                   f"shape {data.shape}: a linear explanation needs one per column")
        return cls(coef, data.mean(axis=0), float(np.ravel(getattr(model, "intercept_", 0.0))[0]))

    @property
    def expected_value(self) -> float:
        """The log-odds at the background mean: a row's contributions add up to its log-odds minus this."""
        return float(np.dot(self.coef, self.mean) + self.intercept)

    def values(self, x: np.ndarray) -> np.ndarray:
        """One row of contributions per row of ``x`` (transformed inputs, one column per coefficient)."""
        return (np.asarray(x, dtype=float) - self.mean) * self.coef


class ReasonExplainer(BaseEstimator):
    """SHAP contributions and reason codes for a fitted classifier (``RiskClassifier`` or scikit-learn).

    ``fit(model, X_background)`` picks the explainer; ``background_size`` rows of ``X_background``
    (sampled with ``random_state``) are the reference for the linear and permutation explainers.
    """

    def __init__(self, catalog: ReasonCatalog | None = None, *, top_k: int = 3, background_size: int = 100,
                 random_state: int = 0) -> None:
        self.catalog = catalog
        self.top_k = top_k
        self.background_size = background_size
        self.random_state = random_state

    def fit(self, model: Any, X_background: Any) -> Self:
        self.model_ = model
        background = self._prepare(X_background)
        if len(background) > self.background_size:
            background = background.sample(self.background_size, random_state=self.random_state)
        self.feature_names_in_ = np.asarray(background.columns, dtype=object)
        inner = model.estimator_ if isinstance(model, RiskClassifier) else model
        steps = list(inner.steps) if isinstance(inner, Pipeline) else []  # (a sequence model's steps is an int)
        final = steps[-1][1] if steps else inner
        self.transform_: Any = None
        self.explainer_: Any = _tree_explainer(final) if _is_tree(final) and not steps else None
        if self.explainer_ is not None:
            self.kind_ = "tree"
        elif hasattr(final, "contributions") and not steps:
            # a model that attributes its own score (gradient x input: the sequence model and the hybrid)
            self.kind_ = "gradient"
            self.explainer_ = final
        elif hasattr(final, "coef_") and np.asarray(final.coef_).ravel().size == background.shape[1]:
            # linear model, possibly behind column-preserving steps (the imputer): explain it on their output
            self.kind_ = "linear"
            if steps:
                self.transform_ = Pipeline(steps[:-1])
            self.explainer_ = LinearShap.fit(final, self._transformed(background))
        elif hasattr(inner, "predict_proba"):
            self.kind_ = "permutation"
            names = list(background.columns)

            def bad_probability(rows: np.ndarray) -> np.ndarray:
                return np.asarray(inner.predict_proba(pd.DataFrame(rows, columns=names))[:, 1])

            self.explainer_ = _shap().PermutationExplainer(bad_probability, background.to_numpy(dtype=float))
        else:
            raise CryptoscopeError(f"cannot explain {type(final).__name__}: it is neither a tree model, a linear "
                                   "model nor a classifier with predict_proba")
        return self

    def contributions(self, X: Any) -> pd.DataFrame:
        """Per row and feature, the SHAP contribution to the score (log-odds, or probability for permutation)."""
        check_is_fitted(self, "explainer_")
        return self._contributions(self._prepare(X))

    def _contributions(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``contributions`` of a frame already prepared (``reasons`` prepares it once for both)."""
        if self.kind_ == "permutation":
            values = self.explainer_(frame.to_numpy(dtype=float), silent=True).values
        elif self.kind_ == "gradient":
            values = self.explainer_.contributions(frame)
        elif self.kind_ == "linear":
            values = self.explainer_.values(self._transformed(frame))
        else:
            with warnings.catch_warnings():  # shap's notice about LightGBM's output format: handled below
                warnings.filterwarnings("ignore", message=".*shap values output has changed.*")
                values = self.explainer_.shap_values(self._transformed(frame))
        values = np.asarray(values[1] if isinstance(values, list) else values, dtype=float)
        if values.ndim == 3:  # (rows, features, classes)
            values = values[:, :, -1]
        return pd.DataFrame(values, columns=frame.columns, index=frame.index)

    def importance(self, X: Any) -> pd.Series:
        """Mean |SHAP| per feature over the rows of ``X``, largest first."""
        return self.contributions(X).abs().mean().sort_values(ascending=False)

    def reasons(self, X: Any) -> list[tuple[Reason, ...]]:
        """For each row, up to ``top_k`` features that raised its score most, in words."""
        check_is_fitted(self, "explainer_")
        frame = self._prepare(X)
        contrib = self._contributions(frame).to_numpy()
        catalog = self.catalog or ReasonCatalog()
        names = list(frame.columns)
        values = frame.to_numpy(dtype=float, na_value=np.nan)
        out = []
        for row, pushes in enumerate(contrib):
            top = [j for j in np.argsort(-pushes, kind="stable")[: self.top_k] if pushes[j] > 0]
            out.append(tuple(Reason(feature=names[j], value=float(values[row, j]), contribution=float(pushes[j]),
                                    text=catalog.describe(names[j], float(values[row, j]))) for j in top))
        return out

    def _prepare(self, X: Any) -> pd.DataFrame:
        model = getattr(self, "model_", None)
        if isinstance(model, RiskClassifier):
            return model.prepare(X)
        return X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))

    def _transformed(self, frame: pd.DataFrame) -> Any:
        if self.transform_ is None:
            return frame
        return np.asarray(self.transform_.transform(frame), dtype=float)


def reason_codes(model: Any, X: Any, *, catalog: ReasonCatalog | None = None, top_k: int = 3,
                 background: Any = None) -> list[tuple[Reason, ...]]:
    """One call: reasons for the rows of ``X`` (``X`` is the background unless one is given)."""
    return ReasonExplainer(catalog, top_k=top_k).fit(model, X if background is None else background).reasons(X)


def _shap() -> Any:
    """shap, imported on first use (it is slow to import) without its own deprecation notices."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import shap
    return shap


def _tree_explainer(model: Any) -> Any:
    """shap's TreeExplainer, or None for a tree model it does not support (then permutation it is)."""
    try:
        return _shap().TreeExplainer(model)
    except Exception:  # shap raises several types for models it cannot parse
        return None


def _is_tree(model: Any) -> bool:
    name = type(model).__name__
    module = type(model).__module__
    return (module.startswith(("lightgbm", "xgboost", "catboost")) or "Tree" in name or "Forest" in name
            or "GradientBoosting" in name)


def _is_glob(key: str) -> bool:
    return any(ch in key for ch in "*?[")


def steady(value: float) -> float:
    """``value`` to 9 significant digits before it is put in words.

    Two engines add the same numbers in different orders, so a sum can land a last bit either side of
    a rounding edge ($1,862.4999999 or $1,862.5), and a reason would read "$1,862" on one and "$1,863"
    on the other. No reason prints 9 digits, so this changes no sentence but those."""
    if _missing(value) or not math.isfinite(value):
        return value
    return float(f"{value:.9g}")


def _missing(value: float) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _fields(feature: str, value: float) -> dict[str, Any]:
    window = _WINDOW.search(feature)
    return {"value": value, "value_minutes": value / 60, "value_hours": value / 3600, "value_days": value / 86400,
            "feature": feature, "window": _window_words(window) if window else ""}


def _window_words(window: re.Match[str]) -> str:
    """``24h`` reads "24 hours", ``1h`` reads "hour" (as in "in the last hour")."""
    count, unit = window.group(1), _UNITS[window.group(2)]
    return unit if count == "1" else f"{count} {unit}s"


def _fallback(feature: str, value: float) -> str:
    """``devices_24h`` at 5 reads "devices in the last 24 hours: 5"; ``since_login_30d`` at 5400 reads
    "login 90 minutes earlier" (``since_*`` features count seconds); a missing value says so."""
    window = _WINDOW.search(feature)
    base = feature[: window.start()] if window else feature
    last = f" in the last {_window_words(window)}" if window else ""
    if base.startswith("since_") and len(base) > len("since_"):
        what = base[len("since_"):].replace("_", " ")
        return f"no {what}{last}" if _missing(value) else f"{what} {_duration(value)} earlier"
    words = (base.replace("_", " ").strip() or feature) + last
    if _missing(value):
        return f"{words}: none on record"
    shown = f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"
    return f"{words}: {shown}"


def _duration(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}s"
    return f"{seconds:.0f} seconds"
