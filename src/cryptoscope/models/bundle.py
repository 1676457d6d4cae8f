"""``ModelBundle``: everything needed to score a row and decide on it, saved and loaded as one object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.calibration import Calibrator
from cryptoscope.models.decisions import Thresholds, decide
from cryptoscope.models.estimator import RiskClassifier


@dataclass(frozen=True)
class ModelBundle:
    """The fitted estimator, its calibrator, the decision thresholds and the features it reads, in order."""

    estimator: RiskClassifier
    features: tuple[str, ...]
    calibrator: Calibrator | None = None
    thresholds: Thresholds | None = None

    def score(self, frame: Any) -> np.ndarray:
        """Calibrated probability of bad for each row (the raw score when there is no calibrator)."""
        raw = self.estimator.predict_proba(frame)[:, 1]  # picks and orders the feature columns itself
        return raw if self.calibrator is None else self.calibrator.transform(raw)

    def decide(self, frame: Any) -> np.ndarray:
        """``approve`` / ``review`` / ``block`` for each row."""
        if self.thresholds is None:
            raise CryptoscopeError("this model has no thresholds; train it with costs to get decisions")
        return decide(self.score(frame), self.thresholds)
