"""``ModelBundle``: everything needed to score a row and decide on it, saved and loaded as one object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.calibration import Calibrator
from cryptoscope.models.decisions import Policy, decide
from cryptoscope.models.estimator import RiskClassifier


@dataclass(frozen=True)
class ModelBundle:
    """The fitted estimator, its calibrator, the decision policy and the features it reads, in order.

    ``guardrail`` names a column of decisions (hard rules) that the model's decision never goes below."""

    estimator: RiskClassifier
    features: tuple[str, ...]
    calibrator: Calibrator | None = None
    thresholds: Policy | None = None
    guardrail: str = ""

    def score(self, frame: Any) -> np.ndarray:
        """Calibrated probability of bad for each row (the raw score when there is no calibrator)."""
        raw = self.estimator.predict_proba(frame)[:, 1]  # picks and orders the feature columns itself
        return raw if self.calibrator is None else self.calibrator.transform(raw)

    def decide(self, frame: Any) -> np.ndarray:
        """``approve`` / ``review`` / ``block`` for each row (``frame`` also holds cost and guardrail columns)."""
        return self.decide_scored(self.score(frame), frame)

    def decide_scored(self, p: np.ndarray, frame: Any) -> np.ndarray:
        """The decisions for probabilities already scored on ``frame``'s rows."""
        if self.thresholds is None:
            raise CryptoscopeError("this model has no decision policy; train it with costs to get decisions")
        guard = frame[self.guardrail].to_numpy() if self.guardrail else None
        return decide(p, self.thresholds, frame, guardrail=guard)
