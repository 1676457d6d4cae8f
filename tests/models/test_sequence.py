"""``SequenceClassifier``: learns what only the order of events tells, deterministically, as sklearn expects."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.sequence import SequenceClassifier

STEPS, EVENT = 5, 2


def ordered_data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Bad when the events' first feature rises step after step: every step's values alone look alike
    (a shuffled copy of the same numbers), so only the order tells. One tabular column of noise."""
    rng = np.random.default_rng(seed)
    values = rng.normal(size=(n, STEPS))
    bad = rng.random(n) < 0.3
    values[bad] = np.sort(values[bad], axis=1)
    events = np.stack([values, rng.normal(size=(n, STEPS))], axis=2)
    return np.hstack([rng.normal(size=(n, 1)), events.reshape(n, -1)]), bad.astype(int)


def small(**kw: object) -> SequenceClassifier:
    return SequenceClassifier(steps=STEPS, event_features=EVENT, hidden=16, epochs=8, batch_size=128,
                              learning_rate=1e-2, random_state=3, **kw)  # type: ignore[arg-type]


def test_it_learns_what_only_the_order_of_events_tells() -> None:
    X, y = ordered_data(2000, seed=1)
    X_test, y_test = ordered_data(1000, seed=2)
    model = small().fit(X, y)
    assert roc_auc_score(y_test, model.predict_proba(X_test)[:, 1]) > 0.9
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    proba = model.predict_proba(X_test)
    assert proba.shape == (1000, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert set(model.predict(X_test)) <= {0, 1}


def test_a_seed_gives_the_same_model_and_the_callers_torch_settings_come_back() -> None:
    X, y = ordered_data(600, seed=4)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    a, b = small().fit(X, y), clone(small()).fit(X, y)
    np.testing.assert_array_equal(a.decision_function(X), b.decision_function(X))
    other = SequenceClassifier(**{**small().get_params(), "random_state": 4}).fit(X, y)
    assert not np.array_equal(other.decision_function(X), a.decision_function(X))
    assert (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()) == (threads, deterministic)


def test_missing_tabular_values_are_taken_and_bad_inputs_are_one_clear_error() -> None:
    X, y = ordered_data(300, seed=5)
    X[::7, 0] = np.nan
    model = SequenceClassifier(steps=STEPS, event_features=EVENT, hidden=4, epochs=1).fit(X, y)
    assert np.isfinite(model.decision_function(X)).all()
    with pytest.raises(CryptoscopeError, match="at least steps"):
        model.fit(X[:, :3], y)
    with pytest.raises(CryptoscopeError, match="fitted on 11"):
        model.decision_function(X[:, 1:])
    with pytest.raises(CryptoscopeError, match="both 0"):
        model.fit(X, np.zeros(len(X)))


def test_a_fitted_model_pickles_for_the_registry_and_scores_the_same() -> None:
    X, y = ordered_data(300, seed=6)
    model = SequenceClassifier(steps=STEPS, event_features=EVENT, hidden=4, epochs=1).fit(X, y)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.decision_function(X), model.decision_function(X))
