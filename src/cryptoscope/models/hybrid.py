"""``HybridClassifier``: boosted trees on the tabular features plus one learned feature, a sequence model's logit.

The trees keep what the hand-built aggregates hold; the sequence model (`SequenceClassifier` over the
last ``sequence_columns`` columns of ``X`` alone) adds what only the order of events holds, as one
number. On training rows that number comes from sequence models fitted on the other rows (out of fold,
in ``folds`` contiguous blocks of rows in the order given: the risk frames are in time order), so the
trees never learn to trust a score that saw the row's own label; on new rows it comes from the sequence
model fitted on every training row.

>>> model = HybridClassifier(tree, SequenceClassifier(steps=16, event_features=17),   # doctest: +SKIP
...                          sequence_columns=16 * 17).fit(X, y)
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from cryptoscope.errors import CryptoscopeError

LOGIT = "sequence_logit"


class HybridClassifier(ClassifierMixin, BaseEstimator):
    """``tree`` (a classifier that takes missing values, e.g. LightGBM) on the tabular columns and the out-of-fold
    logit of ``sequence`` (a `SequenceClassifier`) on the last ``sequence_columns`` columns."""

    def __init__(self, tree: Any = None, sequence: Any = None, *, sequence_columns: int = 0, folds: int = 3) -> None:
        self.tree = tree
        self.sequence = sequence
        self.sequence_columns = sequence_columns
        self.folds = folds

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Self:
        """Out-of-fold logits on the training rows, the sequence model on all of them, then the trees."""
        tab, seq = self._split(X)
        target = np.asarray(y, dtype=int)
        self.classes_ = np.array([0, 1])
        self.feature_names_in_ = np.asarray([*tab.columns, *seq.columns], dtype=object)
        logit = np.zeros(len(target))
        for held in np.array_split(np.arange(len(target)), self.folds):
            rest = np.setdiff1d(np.arange(len(target)), held)
            if target[rest].min() == target[rest].max():
                raise CryptoscopeError("a fold of the training rows holds no bad row: use fewer folds")
            logit[held] = clone(self.sequence).fit(seq.iloc[rest], target[rest]).decision_function(seq.iloc[held])
        self.sequence_ = clone(self.sequence).fit(seq, target)
        self.tree_ = clone(self.tree).fit(tab.assign(**{LOGIT: logit}), target, sample_weight=sample_weight)
        return self

    def tree_input(self, X: Any) -> pd.DataFrame:
        """What the trees read for ``X``: its tabular columns and the sequence model's logit."""
        check_is_fitted(self, "tree_")
        tab, seq = self._split(X)
        return tab.assign(**{LOGIT: self.sequence_.decision_function(seq)})

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.tree_.predict_proba(self.tree_input(X)), dtype=float)

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)

    def contributions(self, X: Any) -> np.ndarray:
        """Per row and column of ``X``, its push on the trees' log-odds: TreeSHAP for the tabular columns; the
        logit's share spread over the sequence columns in proportion to their gradient x input."""
        inputs = self.tree_input(X)
        if not hasattr(self.tree_, "booster_"):
            raise CryptoscopeError("contributions need LightGBM trees (their TreeSHAP, pred_contrib)")
        shap = np.asarray(self.tree_.predict(inputs, pred_contrib=True))[:, : inputs.shape[1]]  # less the base
        gxi = self.sequence_.contributions(self._split(X)[1])
        total = gxi.sum(axis=1, keepdims=True)
        share = np.divide(gxi, total, out=np.zeros_like(gxi), where=np.abs(total) > 1e-9)
        return np.hstack([shap[:, :-1], share * shap[:, -1:]])

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # the trees take missing values; the sequence model fills them
        return tags

    def _split(self, X: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(np.asarray(X, dtype=float))
        if not 0 < self.sequence_columns < frame.shape[1]:
            raise CryptoscopeError(f"sequence_columns ({self.sequence_columns}) must leave tabular columns before "
                                   f"the sequence; X has {frame.shape[1]} columns")
        cut = frame.shape[1] - self.sequence_columns
        return frame.iloc[:, :cut], frame.iloc[:, cut:]

