"""One text classifier for sentiment and categories: logistic regression on sentence embeddings + TF-IDF.

The sentence vector carries meaning across paraphrases, typos and (partly) languages; TF-IDF of word
n-grams and character n-grams carries the exact words that matter (a flight number, "refund", "!!!").
Both go into one L2-regularised logistic regression, the embedding block scaled so that neither block
drowns the other. The regularisation is chosen on the last part of the training data by time (never on
the test period), then the model is refit on all training data.

>>> clf = TextClassifier.fit(texts, vectors, labels)        # doctest: +SKIP
>>> clf.predict(new_texts, new_vectors)                      # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.pipeline import FeatureUnion
from threadpoolctl import threadpool_limits

from cryptoscope.errors import CryptoscopeError

#: labels or times as a list, a numpy array or a pandas Series
ArrayLike = Sequence[Any] | np.ndarray | pd.Series

C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0)
EMBEDDING_WEIGHT = 2.0  # unit vectors of 384 dims against ~unit TF-IDF rows of many thousand dims
VALIDATION_SHARE = 0.15
_SEED = 0


def single_blas() -> Any:
    """One BLAS thread while fitting: these matrices are small, and on a busy 2-core machine OpenBLAS threads
    spinning for a core made logistic regression 10-15x slower (measured: 48 s vs 3 s for one fit)."""
    return threadpool_limits(limits=1, user_api="blas")


def _tfidf() -> FeatureUnion:
    return FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50_000)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3, sublinear_tf=True,
                                  max_features=80_000)),
    ])


def _lr(c: float) -> LogisticRegression:
    return LogisticRegression(C=c, max_iter=3_000, class_weight="balanced", random_state=_SEED)


@dataclass
class TextClassifier:
    """A fitted classifier; ``use_text`` False means embeddings alone (the ablation the benchmark reports)."""

    model: LogisticRegression
    vectorizer: FeatureUnion | None
    c: float
    validation: dict[str, float] = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return [str(c) for c in self.model.classes_]

    @classmethod
    def fit(cls, texts: Sequence[str], vectors: np.ndarray, labels: ArrayLike, *, use_text: bool = True,
            c: float | None = None) -> TextClassifier:
        """Fit; with ``c`` None the regularisation is picked by macro-F1 on the last 15 % of the (time-ordered)
        training rows, so pass rows oldest first."""
        y = np.asarray(labels, dtype=object)
        if len(set(y.tolist())) < 2:
            raise CryptoscopeError("a classifier needs at least two classes in its training data")
        scores = cls._validate(texts, vectors, y, use_text) if c is None else {}
        chosen = c if c is not None else float(max(scores, key=scores.__getitem__))
        fitted = cls._fit(texts, vectors, y, use_text, chosen)
        fitted.validation = scores
        return fitted

    @classmethod
    def _validate(cls, texts: Sequence[str], vectors: np.ndarray, y: np.ndarray, use_text: bool) -> dict[str, float]:
        """Macro-F1 of each C on the last 15 % of the rows, features built once from the first 85 %."""
        cut = int(len(y) * (1 - VALIDATION_SHARE))
        with single_blas():
            probe = cls(_lr(1.0), _tfidf().fit(list(texts[:cut])) if use_text else None, 1.0)
            train, valid = probe._features(texts[:cut], vectors[:cut]), probe._features(texts[cut:], vectors[cut:])
            return {str(cand): float(f1_score(y[cut:], _lr(cand).fit(train, y[:cut]).predict(valid), average="macro",
                                              zero_division=0)) for cand in C_GRID}

    @classmethod
    def _fit(cls, texts: Sequence[str], vectors: np.ndarray, y: np.ndarray, use_text: bool, c: float
             ) -> TextClassifier:
        with single_blas():
            vectorizer = _tfidf().fit(list(texts)) if use_text else None
            out = cls(_lr(c), vectorizer, c)
            out.model.fit(out._features(texts, vectors), y)
        return out

    def _features(self, texts: Sequence[str], vectors: np.ndarray) -> Any:
        dense = sp.csr_matrix(np.asarray(vectors, dtype=np.float64) * EMBEDDING_WEIGHT)
        if self.vectorizer is None:
            return dense
        return sp.hstack([dense, self.vectorizer.transform(list(texts))], format="csr")

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.classes)))
        with single_blas():
            return np.asarray(self.model.predict_proba(self._features(texts, vectors)))

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> np.ndarray:
        proba = self.predict_proba(texts, vectors)
        return np.asarray(self.classes, dtype=object)[proba.argmax(axis=1)] if len(proba) else np.zeros(0, object)


def tfidf_baseline(texts: Sequence[str], labels: ArrayLike) -> Any:
    """The standard baseline: word 1-2-gram TF-IDF and logistic regression, default C."""
    from sklearn.pipeline import make_pipeline

    pipe = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
                         LogisticRegression(max_iter=3_000, random_state=_SEED))
    with single_blas():
        return pipe.fit(list(texts), list(labels))


def classification_scores(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, Any]:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support, rounded for JSON and reports."""
    truth, pred = np.asarray(y_true, dtype=object), np.asarray(y_pred, dtype=object)
    classes = sorted(set(truth.tolist()))
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=classes, zero_division=0)
    return {
        "n": len(truth),
        "accuracy": round(float(accuracy_score(truth, pred)), 4),
        "macro_f1": round(float(f1_score(truth, pred, labels=classes, average="macro", zero_division=0)), 4),
        "per_class": {c: {"precision": round(float(p[i]), 4), "recall": round(float(r[i]), 4),
                          "f1": round(float(f[i]), 4), "support": int(s[i])} for i, c in enumerate(classes)},
    }


def time_split(times: ArrayLike, test_share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test), each oldest first: the test set is the latest ``test_share`` of rows, so a
    model is judged on feedback written after everything it learned from."""
    order = np.argsort(np.asarray(times), kind="stable")
    cut = round(len(order) * (1 - test_share))
    if cut < 10 or cut >= len(order):
        raise CryptoscopeError(f"too few rows ({len(order)}) for a train/test split by time")
    return order[:cut], order[cut:]


def compare_on_split(texts: Sequence[str], vectors: np.ndarray, labels: ArrayLike, times: ArrayLike,
                     *, vader: bool, test_share: float = 0.2) -> dict[str, Any]:
    """Ours (embeddings + TF-IDF), embeddings alone, and the baselines, fitted and judged on one split by time."""
    from cryptoscope.feedback.sentiment import vader_labels

    text = np.asarray(texts, dtype=object)
    y = np.asarray(labels, dtype=object)
    train, test = time_split(times, test_share)
    ours = TextClassifier.fit(text[train].tolist(), vectors[train], y[train])
    alone = TextClassifier.fit(text[train].tolist(), vectors[train], y[train], use_text=False)
    base = tfidf_baseline(text[train].tolist(), y[train].tolist())
    test_text = text[test].tolist()
    out: dict[str, Any] = {
        "split": {"train": len(train), "test": len(test), "by": "time, latest share as test", "test_share": test_share,
                  "train_until": str(np.asarray(times)[train[-1]]), "test_from": str(np.asarray(times)[test[0]])},
        "model": {**classification_scores(y[test], ours.predict(test_text, vectors[test])),
                  "features": "sentence embeddings (all-MiniLM-L6-v2) + word and char TF-IDF, logistic regression",
                  "C": ours.c},
        "embedding_only": {**classification_scores(y[test], alone.predict(test_text, vectors[test])), "C": alone.c},
        "baselines": {"tfidf_lr": classification_scores(y[test], base.predict(test_text))},
    }
    if vader:
        out["baselines"]["vader"] = classification_scores(y[test], vader_labels(test_text))
    return out
