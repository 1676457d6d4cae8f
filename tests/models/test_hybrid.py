"""``HybridClassifier`` and the sequence model on the harness: trees + an out-of-fold GRU logit, reasons from
gradient x input, calibrated and pickled like any other model."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from lightgbm import LGBMClassifier
from sklearn.metrics import roc_auc_score

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ReasonExplainer, RiskClassifier, SplitSpec, train_and_evaluate
from cryptoscope.models.hybrid import HybridClassifier
from cryptoscope.models.sequence import SequenceClassifier

STEPS, EVENT = 5, 2
START = pd.Timestamp("2025-01-06", tz="UTC")


def data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Bad when the events' first feature rises step after step (only the order tells), or when the tabular
    column ``amount`` is large (only the trees need it); ``noise`` tells nothing."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, STEPS))
    ordered = rng.random(n) < 0.15
    values[ordered] = np.sort(values[ordered], axis=1)
    amount = rng.exponential(size=n)
    bad = ordered | (amount > 3.0)
    events = np.stack([values, rng.normal(size=(n, STEPS))], axis=2).reshape(n, -1)
    names = [f"seq_{s:02d}_{f}" for s in range(STEPS) for f in ("rise", "other")]
    frame = pd.DataFrame(events, columns=names)
    frame.insert(0, "noise", rng.normal(size=n))
    frame.insert(0, "amount", amount)
    return frame, bad.astype(int)


def gru(seed: int = 3) -> SequenceClassifier:
    return SequenceClassifier(steps=STEPS, event_features=EVENT, hidden=16, epochs=8, batch_size=128,
                              learning_rate=1e-2, random_state=seed)


def hybrid() -> HybridClassifier:
    trees = LGBMClassifier(n_estimators=60, num_leaves=7, min_child_samples=10, random_state=0, n_jobs=1,
                           deterministic=True, force_col_wise=True, verbosity=-1)
    return HybridClassifier(trees, gru(), sequence_columns=STEPS * EVENT)


def test_the_hybrid_learns_from_both_the_aggregates_and_the_order() -> None:
    X, y = data(2000, seed=1)
    X_test, y_test = data(1000, seed=2)
    both = hybrid().fit(X, y)
    tabular = ["amount", "noise"]
    trees_alone = LGBMClassifier(n_estimators=60, num_leaves=7, random_state=0, verbosity=-1).fit(X[tabular], y)
    auc_both = roc_auc_score(y_test, both.predict_proba(X_test)[:, 1])
    auc_trees = roc_auc_score(y_test, trees_alone.predict_proba(X_test[tabular])[:, 1])
    assert auc_both > auc_trees + 0.05  # the sequence logit carries the order the tabular columns cannot
    assert both.predict_proba(X_test).shape == (1000, 2)


def test_contributions_name_the_columns_that_raised_a_score() -> None:
    X, y = data(2000, seed=1)
    model = hybrid().fit(X, y)
    contrib = model.contributions(X.iloc[:400])
    assert contrib.shape == (400, X.shape[1])
    importance = np.abs(contrib).mean(axis=0)
    assert importance[0] > importance[1]  # amount matters, noise does not
    seq_importance = np.abs(model.sequence_.contributions(X.iloc[:400, 2:])).mean(axis=0)
    rise, other = seq_importance[0::EVENT].sum(), seq_importance[1::EVENT].sum()
    assert rise > other  # the rising feature, not the other event feature


def test_on_the_harness_it_is_calibrated_explained_and_pickled() -> None:
    X, y = data(3000, seed=4)
    frame = X.assign(label=y, decision_time=START + pd.to_timedelta(np.arange(len(X)) * 30, unit="min"))
    features = list(X.columns)
    trained = train_and_evaluate(frame, features, "label", "decision_time",
                                 SplitSpec(train_end=START + pd.Timedelta(days=35),
                                           valid_end=START + pd.Timedelta(days=50)),
                                 estimator=RiskClassifier(estimator=hybrid()), calibration="sigmoid")
    assert trained.card.metrics_test is not None and trained.card.metrics_test.roc_auc > 0.8
    assert trained.importance_kind == "mean |gradient x input| on test rows"
    explainer = ReasonExplainer(top_k=2).fit(trained.bundle.estimator, trained.split.train[features])
    assert explainer.kind_ == "gradient"
    reasons = explainer.reasons(trained.split.test[features].iloc[:50])
    assert any(r for r in reasons) and all(len(r) <= 2 for r in reasons)
    again = pickle.loads(pickle.dumps(trained.bundle))
    np.testing.assert_allclose(again.score(trained.split.test[features]), trained.p_test)


def test_the_sequence_model_alone_is_explained_by_gradient_x_input() -> None:
    X, y = data(2000, seed=5)
    model = RiskClassifier(estimator=gru()).fit(X, y)
    explainer = ReasonExplainer().fit(model, X)
    assert explainer.kind_ == "gradient"
    assert explainer.contributions(X.iloc[:10]).shape == (10, X.shape[1])


def test_a_hybrid_needs_tabular_columns_before_the_sequence() -> None:
    X, y = data(500, seed=6)
    with pytest.raises(CryptoscopeError, match="sequence_columns"):
        HybridClassifier(LGBMClassifier(), gru(), sequence_columns=X.shape[1]).fit(X, y)
