"""``ModelBundle``: everything needed to score a row and decide on it, saved and loaded as one object.

``GraphBundle`` is the same for a graph network (`graph.GraphClassifier`): it scores the users of a whole graph
snapshot, not rows, and calibrates the network's logit (a probability would round its confident tails to the
calibrator's clip and tie them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.calibration import Calibrator
from cryptoscope.models.decisions import Policy, decide
from cryptoscope.models.estimator import RiskClassifier
from cryptoscope.models.graph import NOT_PER_REQUEST, GraphClassifier, HeteroGraph


@dataclass(frozen=True)
class ModelBundle:
    """The fitted estimator, its calibrator, the decision policy and the features it reads, in order.

    ``guardrail`` names a column of decisions (hard rules) that the model's decision never goes below."""

    estimator: RiskClassifier | GraphClassifier
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


@dataclass(frozen=True)
class GraphBundle(ModelBundle):
    """A `ModelBundle` of a `GraphClassifier`: ``score(graph)`` gives the calibrated probability of every user of
    a `HeteroGraph`; anything else (a table, one request's row) is refused, saying why (`graph.NOT_PER_REQUEST`).
    The calibrator was fitted on the network's logits."""

    def raw(self, graph: Any) -> np.ndarray:
        """The network's logit of every user of ``graph``."""
        if not isinstance(self.estimator, GraphClassifier) or not isinstance(graph, HeteroGraph):
            raise CryptoscopeError(f"{type(graph).__name__} given: {NOT_PER_REQUEST}")
        return self.estimator.decision_function(graph)

    def score(self, frame: Any) -> np.ndarray:
        raw = self.raw(frame)
        return raw if self.calibrator is None else self.calibrator.transform(raw)
