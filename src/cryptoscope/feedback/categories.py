"""Supervised categories where they exist: tickets' categories, tweets' complaint reasons.

The same classifier as sentiment (`classify.TextClassifier`), judged on the latest 20 % by time with
per-class precision and recall beside a TF-IDF + logistic-regression baseline. Classes with fewer than
``min_rows`` examples are left out (too few to learn or to judge); the report says which.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cryptoscope.feedback.classify import ArrayLike, compare_on_split

MIN_ROWS = 30


def category_report(texts: Sequence[str], vectors: np.ndarray, labels: ArrayLike, times: ArrayLike,
                    *, min_rows: int = MIN_ROWS) -> dict[str, Any]:
    """Ours vs TF-IDF + LR on a split by time, per-class precision/recall; rare classes dropped and named."""
    y = np.asarray(labels, dtype=object)
    names, counts = np.unique(y.astype(str), return_counts=True)
    keep = set(names[counts >= min_rows].tolist()) - {"", "None", "nan"}
    rows = np.flatnonzero(np.isin(y.astype(str), list(keep)))
    res = compare_on_split([texts[int(i)] for i in rows], vectors[rows], y[rows], np.asarray(times)[rows], vader=False)
    res["dropped_classes"] = {str(n): int(c) for n, c in zip(names, counts, strict=True) if n not in keep}
    return res
