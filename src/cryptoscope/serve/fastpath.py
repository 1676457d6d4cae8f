"""One-row scoring without pandas per column: the same numbers as ``bundle.score`` and the reason explainer.

``ModelBundle.score`` and ``ReasonExplainer`` go through pandas column by column (type checks, casts,
re-ordering), which costs milliseconds on a one-row frame: most of a request's time. For LightGBM
bundles this module reads the booster once and scores a float matrix directly:

* probability: ``booster.predict(X)`` (the same trees and iteration as the scikit-learn wrapper's
  ``predict_proba``), then the bundle's own calibrator;
* reasons: LightGBM's built-in TreeSHAP (``pred_contrib=True``), the exact SHAP values on the
  log-odds that ``shap.TreeExplainer`` computes, worded by the product's reason catalog.

``FastModel.check`` compares both against the bundle and the explainer on reference rows at start-up
and the server falls back to the general path for a model where they disagree; tests assert it too.
Other estimators (the KYC logistic regression) always take the general path.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.models import ReasonCatalog
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.explain import Reason, ReasonExplainer
from cryptoscope.risk.reasons import distinct_reasons


class FastModel:
    """A LightGBM bundle's booster, calibrator and reason catalog; see the module doc."""

    def __init__(self, bundle: ModelBundle, catalog: ReasonCatalog, top_k: int = 3) -> None:
        inner = getattr(bundle.estimator, "estimator_", None)
        booster = getattr(inner, "booster_", None)
        if booster is None or hasattr(inner, "steps"):
            raise TypeError("not a plain LightGBM model")
        self.booster: Any = booster
        self.calibrator = bundle.calibrator
        self.names = [str(n) for n in bundle.estimator.feature_names_in_]
        self.catalog = catalog
        self.top_k = top_k

    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame[self.names].to_numpy(dtype=float, na_value=np.nan), dtype=np.float64)

    def score(self, x: np.ndarray) -> np.ndarray:
        raw = np.asarray(self.booster.predict(x, num_threads=1), dtype=float)  # OpenMP start-up dwarfs one row
        return raw if self.calibrator is None else self.calibrator.transform(raw)

    def reasons(self, x: np.ndarray) -> list[tuple[str, ...]]:
        contrib = np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=1), dtype=float)[:, :-1]  # -1: bias
        out = []
        for row, pushes in enumerate(contrib):
            top = [j for j in np.argsort(-pushes, kind="stable")[: 3 * self.top_k] if pushes[j] > 0]
            found = [Reason(self.names[j], float(x[row, j]), float(pushes[j]), "") for j in top]
            chosen = distinct_reasons(found, self.top_k)  # word only the chosen few: the catalog is regex work
            out.append(tuple(dict.fromkeys(self.catalog.describe(r.feature, r.value) for r in chosen)))
        return out

    def check(self, bundle: ModelBundle, explainer: ReasonExplainer, frame: pd.DataFrame) -> str:
        """'' when this path matches the bundle and the explainer on ``frame``; else what differs."""
        x = self.matrix(frame)
        slow = bundle.score(frame[self.names])
        if not np.allclose(self.score(x), slow, rtol=1e-6, atol=1e-9):
            return "probabilities differ from bundle.score"
        general = [unique_texts(distinct_reasons(r, self.top_k)) for r in explainer.reasons(frame[self.names])]
        if general != self.reasons(x):
            return "reasons differ from the SHAP explainer"
        return ""


def unique_texts(reasons: list[Reason]) -> tuple[str, ...]:
    """Reason sentences without repeats (two windows of one signal can read the same)."""
    return tuple(dict.fromkeys(r.text for r in reasons))
