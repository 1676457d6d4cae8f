"""GraphClassifier: learns what only the neighbourhood says, scores a later graph, seeded, pickles, checks input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.graph import GraphClassifier, HeteroGraph
from cryptoscope.models.metrics import roc_auc


def _world(seed: int, users: int = 600) -> tuple[HeteroGraph, np.ndarray]:
    """Rings of 5 users on one device; half the rings are bad; a bad ring's members look like anyone else,
    but one member of every bad ring is already known bad: only the neighbourhood tells the others apart."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(users)
    bad = np.zeros(users)
    known = np.zeros(users)
    pairs = []
    for ring in range(users // 10):
        members = order[ring * 5:(ring + 1) * 5]
        pairs += [(int(u), ring) for u in members]
        if ring % 2 == 0:
            bad[members] = 1
            known[members[0]] = 1
    x = np.column_stack([rng.normal(size=users), known])
    rings = users // 10
    graph = HeteroGraph(np.arange(users), x, ("noise", "known_bad"),
                        {"device": np.array(pairs).T, "ip": np.zeros((2, 0), dtype=np.int64)},
                        {"device": np.ones((rings, 1)), "ip": np.zeros((0, 1))})
    return graph, bad


def test_it_learns_from_the_neighbourhood_and_scores_a_later_graph() -> None:
    train, y = _world(0)
    weight = 1.0 - train.user_features[:, 1]  # the known bad are inputs, not targets
    model = GraphClassifier(epochs=60, random_state=3).fit(train, y, sample_weight=weight)
    assert model.loss_curve_[-1] < model.loss_curve_[0]
    later, y_later = _world(1)
    p = model.predict_proba(later)[:, 1]
    hidden = later.user_features[:, 1] == 0
    assert roc_auc(y_later[hidden], p[hidden]) > 0.9, "unknown members of a ring with a known-bad member rank high"


def test_a_seed_gives_the_same_model_and_a_pickle_scores_alike() -> None:
    graph, y = _world(0, users=200)
    a = GraphClassifier(epochs=15, random_state=1).fit(graph, y)
    b = GraphClassifier(epochs=15, random_state=1).fit(graph, y)
    np.testing.assert_array_equal(a.decision_function(graph), b.decision_function(graph))
    c = GraphClassifier(epochs=15, random_state=2).fit(graph, y)
    assert not np.array_equal(a.decision_function(graph), c.decision_function(graph))
    again = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(again.decision_function(graph), a.decision_function(graph))


def test_bad_input_is_refused_with_a_message() -> None:
    graph, y = _world(0, users=200)
    with pytest.raises(CryptoscopeError, match="both present"):
        GraphClassifier(epochs=1).fit(graph, np.zeros_like(y))
    with pytest.raises(CryptoscopeError, match="one value per user"):
        GraphClassifier(epochs=1).fit(graph, y[:-1])
    with pytest.raises(CryptoscopeError, match="one row per user"):
        HeteroGraph(graph.user_ids, graph.user_features[:, :1], graph.feature_names, graph.edges,
                    graph.entity_features)
    model = GraphClassifier(epochs=1).fit(graph, y)
    other = HeteroGraph(graph.user_ids, graph.user_features, ("a", "b"), graph.edges, graph.entity_features)
    with pytest.raises(CryptoscopeError, match="differ from those the model was fitted on"):
        model.predict_proba(other)
