"""The mule product's two model families, fitted, calibrated and given a decision policy the same way.

* ``lightgbm`` (the product's own): LightGBM on the behaviour features and the graph's hand-built features
  (degree, strength, component and ring statistics, known-bad neighbours and their share, propagation), the
  trees of the issue-24 comparison (`cryptoscope.benchmarks.world_graph`).
* ``graph``: the heterogeneous GraphSAGE of `cryptoscope.models.graph` over users and the entities they share.

Both are fitted on the training snapshot's users not known bad then; the calibrator (Platt scaling: a
validation snapshot holds tens of bad users, too few for isotonic steps) and the approve / review / block
thresholds (`mules.COSTS`) come from the validation snapshot. The trees calibrate their probability, the network
its logit (`GraphBundle`). Settings are those the benchmark chose on its development period (400 trees; 100
epochs of three layers), not tuned on the product's own test snapshot.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cryptoscope.anomaly.mules import COSTS, Labelled
from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.hetero import GraphSnapshot
from cryptoscope.models import Calibrator, ModelBundle, RiskClassifier, choose_thresholds
from cryptoscope.models.bundle import GraphBundle
from cryptoscope.models.graph import GraphClassifier

#: The families ``cryptoscope anomaly mules train --model`` takes; the first is the product's own.
MODELS = ("lightgbm", "graph")
DEFAULT_MODEL = MODELS[0]
LGB_TREES = 400
GNN_PARAMS: dict[str, Any] = {"epochs": 100, "layers": 3}


def check_model(model: str) -> str:
    if model not in MODELS:
        raise CryptoscopeError(f"unknown mule model {model!r}; known: {', '.join(MODELS)}")
    return model


def fit_bundle(model: str, train: Labelled, valid: Labelled, *, random_state: int = 0) -> ModelBundle:
    """``model`` fitted on ``train``'s targets, calibrated and given thresholds on ``valid``'s."""
    estimator = _fit(check_model(model), train, random_state)
    features = tuple(train.snap.table.columns) if model == "lightgbm" else train.snap.hetero.feature_names
    bare = (GraphBundle if model == "graph" else ModelBundle)(estimator=estimator, features=features)
    keep, y = valid.keep, valid.y[valid.keep]
    if y.min() == y.max():
        raise CryptoscopeError(f"the validation snapshot of {valid.cut.at:%Y-%m-%d} has no mule or ring label "
                               "learnt after it among its users: nothing to calibrate on; use a longer horizon")
    calibrator = Calibrator("sigmoid").fit(raw_scores(bare, valid.snap)[keep], y)
    fitted = type(bare)(estimator=estimator, features=features, calibrator=calibrator)
    thresholds = choose_thresholds(y, scores(fitted, valid.snap)[keep], COSTS)
    return type(bare)(estimator=estimator, features=features, calibrator=calibrator, thresholds=thresholds)


def raw_scores(bundle: ModelBundle, snap: GraphSnapshot) -> np.ndarray:
    """The model's uncalibrated score of every user of ``snap`` (the trees' probability, the network's logit)."""
    if isinstance(bundle, GraphBundle):
        return bundle.raw(snap.hetero)
    if not isinstance(bundle.estimator, RiskClassifier):
        raise CryptoscopeError(f"a {type(bundle.estimator).__name__} needs a GraphBundle")
    return np.asarray(bundle.estimator.predict_proba(snap.table[list(bundle.features)])[:, 1], dtype=float)


def scores(bundle: ModelBundle, snap: GraphSnapshot) -> np.ndarray:
    """The calibrated probability of every user of ``snap`` (in ``snap.user_ids`` order)."""
    if isinstance(bundle, GraphBundle):
        return bundle.score(snap.hetero)
    return bundle.score(snap.table[list(bundle.features)])


def describe(bundle: ModelBundle) -> str:
    """The estimator in a line, for the card."""
    est = bundle.estimator
    if isinstance(est, GraphClassifier):
        return (f"heterogeneous GraphSAGE (PyG, full batch): {est.layers} layers of {est.hidden}, {est.epochs} epochs, "
                f"over users and shared {', '.join(est.kinds_)}; seed {est.random_state}")
    return (f"LightGBM, {est.n_estimators} trees, learning rate {est.learning_rate}, imbalance {est.imbalance}, "
            f"on behaviour and graph features; seed {est.random_state}")


def _fit(model: str, train: Labelled, random_state: int) -> RiskClassifier | GraphClassifier:
    if train.bad == 0:
        raise CryptoscopeError(f"no mule or ring label was learnt in the training window ({train.cut.at:%Y-%m-%d} "
                               f"to {train.cut.until:%Y-%m-%d}) about a user not known bad: nothing to learn from")
    if model == "graph":
        return GraphClassifier(random_state=random_state, **GNN_PARAMS).fit(train.snap.hetero, train.y,
                                                                          sample_weight=train.keep.astype(float))
    keep = train.keep
    trees = RiskClassifier(n_estimators=LGB_TREES, random_state=random_state, min_child_samples=20)
    return trees.fit(train.snap.table.loc[train.snap.user_ids[keep]], train.y[keep])
