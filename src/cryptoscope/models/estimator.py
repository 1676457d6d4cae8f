"""``RiskClassifier``: LightGBM with settings that suit risk data, or any scikit-learn classifier.

Risk data is tabular, small to medium (thousands to a few million rows), imbalanced (fraud is rare)
and full of honest gaps (no login yet means no ``since_login``). LightGBM takes missing values as
they are; a classifier that cannot gets a median imputer in front of it. The scores are ranking
scores: class reweighting distorts them as probabilities, which is why the pipeline calibrates
them on the validation period afterwards (``calibration.py``).

Example::

    model = RiskClassifier(random_state=7).fit(X_train, y_train, eval_set=(X_valid, y_valid))
    scores = model.predict_proba(X_test)[:, 1]
    RiskClassifier(estimator=LogisticRegression(max_iter=1000)).fit(X_train, y_train)
"""

from __future__ import annotations

import inspect
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from cryptoscope.errors import CryptoscopeError

Imbalance = Literal["scale_pos_weight", "is_unbalance"] | None


class RiskClassifier(ClassifierMixin, BaseEstimator):
    """A binary risk classifier: LightGBM by default, or the scikit-learn ``estimator`` given.

    Parameters other than ``estimator`` tune the default LightGBM model and are ignored otherwise.
    The defaults lean towards small, shallow trees (15 leaves, 50 rows a leaf): bad rows are few,
    and a leaf fitted to a handful of them is noise.
    ``imbalance="scale_pos_weight"`` weighs bad rows by (good weight / bad weight) of the training
    data, ``"is_unbalance"`` lets LightGBM do the same, ``None`` leaves the classes as they are.
    With ``eval_set`` given to ``fit``, training stops when average precision on it has not improved
    for ``early_stopping_rounds`` rounds. Single-threaded by default so that a seed gives the same
    model on every machine.
    """

    def __init__(self, estimator: Any = None, *, n_estimators: int = 500, learning_rate: float = 0.05,
                 num_leaves: int = 15, min_child_samples: int = 50, subsample: float = 0.8,
                 colsample_bytree: float = 0.8, reg_lambda: float = 1.0, imbalance: Imbalance = "scale_pos_weight",
                 early_stopping_rounds: int = 50, random_state: int = 0, n_jobs: int = 1) -> None:
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.imbalance = imbalance
        self.early_stopping_rounds = early_stopping_rounds
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X: Any, y: Any, sample_weight: Any = None, *, eval_set: tuple[Any, Any] | None = None) -> Self:
        """Fit on ``X``, ``y`` (0 = good, 1 = bad).

        ``eval_set=(X_valid, y_valid)`` enables early stopping (LightGBM only: other estimators ignore it).
        """
        frame = _features(X, None)
        self.feature_names_in_ = np.asarray(frame.columns, dtype=object)
        self.n_features_in_ = frame.shape[1]
        target = _binary(y, len(frame))
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if weights is not None and weights.shape != target.shape:
            raise CryptoscopeError(f"sample_weight has {weights.size} values for {target.size} rows")
        self.classes_ = np.array([0, 1])
        self.best_iteration_: int | None = None
        if self.estimator is None:
            self.estimator_ = self._fit_lightgbm(frame, target, weights, eval_set)
        else:
            self.estimator_ = self._fit_other(frame, target, weights)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: probability of good, probability of bad (uncalibrated)."""
        check_is_fitted(self, "estimator_")
        proba = np.asarray(self.estimator_.predict_proba(self.prepare(X)), dtype=float)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def prepare(self, X: Any) -> pd.DataFrame:
        """``X`` as the wrapped estimator sees it: the training columns, in order, as numbers."""
        check_is_fitted(self, "feature_names_in_")
        return _features(X, [str(c) for c in self.feature_names_in_])

    @property
    def feature_importances_(self) -> np.ndarray:
        """Total gain per feature for LightGBM; |coefficient| or the estimator's own importances otherwise."""
        check_is_fitted(self, "estimator_")
        model = self.estimator_.steps[-1][1] if hasattr(self.estimator_, "steps") else self.estimator_
        if self.estimator is None:
            return np.asarray(model.booster_.feature_importance(importance_type="gain"), dtype=float)
        if hasattr(model, "feature_importances_"):
            return np.asarray(model.feature_importances_, dtype=float)
        if hasattr(model, "coef_"):
            return np.abs(np.asarray(model.coef_, dtype=float)).ravel()[: self.n_features_in_]
        raise CryptoscopeError(f"{type(model).__name__} reports no feature importances")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _fit_lightgbm(self, frame: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None,
                      eval_set: tuple[Any, Any] | None) -> Any:
        import lightgbm as lgb

        params: dict[str, Any] = dict(
            n_estimators=self.n_estimators, learning_rate=self.learning_rate, num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples, subsample=self.subsample, subsample_freq=1,
            colsample_bytree=self.colsample_bytree, reg_lambda=self.reg_lambda, random_state=self.random_state,
            n_jobs=self.n_jobs, deterministic=True, force_col_wise=True, verbosity=-1,
            # ranking quality decides when to stop: the scores are calibrated afterwards anyway
            metric="average_precision")
        if self.imbalance == "scale_pos_weight":
            w = np.ones_like(y, dtype=float) if weights is None else weights
            params["scale_pos_weight"] = float(w[y == 0].sum() / w[y == 1].sum())
        elif self.imbalance == "is_unbalance":
            params["is_unbalance"] = True
        elif self.imbalance is not None:
            raise CryptoscopeError(f"imbalance must be 'scale_pos_weight', 'is_unbalance' or None, "
                                   f"not {self.imbalance!r}")
        model = lgb.LGBMClassifier(**params)
        fit_kw: dict[str, Any] = {}
        if eval_set is not None:
            X_valid, y_valid = eval_set
            valid = self.prepare(X_valid)
            y_eval = _binary(y_valid, len(valid))
            fit_kw = {"callbacks": [lgb.early_stopping(self.early_stopping_rounds, verbose=False)]}
            # LightGBM 4.7 renamed eval_set to eval_X / eval_y; older releases only know eval_set
            if "eval_X" in inspect.signature(model.fit).parameters:
                fit_kw |= {"eval_X": (valid,), "eval_y": (y_eval,)}
            else:
                fit_kw["eval_set"] = [(valid, y_eval)]
        model.fit(frame, y, sample_weight=weights, **fit_kw)
        if eval_set is not None:
            self.best_iteration_ = int(model.best_iteration_)
        return model

    def _fit_other(self, frame: pd.DataFrame, y: np.ndarray, weights: np.ndarray | None) -> Any:
        if not hasattr(self.estimator, "fit") or not hasattr(self.estimator, "predict_proba"):
            raise CryptoscopeError(f"{type(self.estimator).__name__} is not a classifier with fit and "
                                   "predict_proba; pass a scikit-learn-compatible classifier")
        model = clone(self.estimator)
        if not _allows_nan(model):
            # no add_indicator: the inputs keep their names one to one, which the explainers rely on
            model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), model)
        if weights is None:
            return model.fit(frame, y)
        last = model.steps[-1][1] if hasattr(model, "steps") else model
        if not has_fit_parameter(last, "sample_weight"):
            raise CryptoscopeError(f"{type(last).__name__}.fit takes no sample_weight; fit without weights")
        if hasattr(model, "steps"):
            return model.fit(frame, y, **{f"{model.steps[-1][0]}__sample_weight": weights})
        return model.fit(frame, y, sample_weight=weights)


def _features(X: Any, names: list[str] | None) -> pd.DataFrame:
    """A float frame (category columns kept) in the order of ``names``; strings are refused."""
    if isinstance(X, pd.DataFrame):
        frame = X
    else:
        array = np.asarray(X)
        if array.ndim != 2:
            raise CryptoscopeError(f"expected a 2-D table of features, got shape {array.shape}")
        frame = pd.DataFrame(array, columns=names or [f"x{i}" for i in range(array.shape[1])])
    frame = frame.rename(columns=str)
    if names is not None:
        missing = [n for n in names if n not in frame.columns]
        if missing:
            raise CryptoscopeError(f"missing feature columns: {', '.join(missing)}")
        frame = frame[names]
    categories = []
    for col, dtype in frame.dtypes.items():  # the dtypes, not the columns: a column lookup costs a wide row dearly
        if isinstance(dtype, pd.CategoricalDtype):
            categories.append(col)
        elif not (pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype)):
            raise CryptoscopeError(f"feature {col!r} holds {dtype} values; encode it as numbers or "
                                   "a pandas category first")
    if not categories:  # one conversion for the whole table (a sequence model's rows have hundreds of columns)
        return frame.astype("float64")
    return pd.DataFrame({col: frame[col] if col in categories else frame[col].astype("float64")
                         for col in frame.columns}, index=frame.index)


def _allows_nan(model: Any) -> bool:
    try:
        return bool(get_tags(model).input_tags.allow_nan)
    except Exception:  # an estimator from outside scikit-learn without tags: assume it needs complete rows
        return False


def _binary(y: Any, rows: int) -> np.ndarray:
    values = np.asarray(y)
    if values.shape != (rows,):
        raise CryptoscopeError(f"the label has shape {values.shape}; expected one value per row ({rows})")
    if pd.isna(values).any():
        raise CryptoscopeError("the label has missing values; drop unlabelled rows first")
    try:
        labels = values.astype(float)
    except (TypeError, ValueError):
        labels = np.full(rows, np.nan)
    if not np.isin(labels, (0.0, 1.0)).all():
        raise CryptoscopeError(f"the label must be 0 (good) or 1 (bad); found {sorted(set(values.tolist()))[:5]}")
    if labels.min() == labels.max():
        raise CryptoscopeError(f"the label has only class {labels[0]:.0f}; a risk model needs good and bad rows")
    return labels.astype(int)
