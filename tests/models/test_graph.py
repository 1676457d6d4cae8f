"""GraphClassifier: learns what only the neighbourhood says, scores a later graph, seeded, pickles, checks input;
explains a user exactly on its neighbourhood; a GraphBundle scores graphs, never a request's row."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models.bundle import GraphBundle
from cryptoscope.models.calibration import Calibrator
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


def test_a_users_neighbourhood_gives_it_the_logit_the_whole_graph_gives() -> None:
    graph, y = _world(0, users=300)
    model = GraphClassifier(epochs=10, layers=3, random_state=0).fit(graph, y)
    full = model.decision_function(graph)
    for user in (0, 17, 151, 299):
        hood = graph.around(user, model.layers)
        assert hood.graph.kinds == graph.kinds and len(hood.graph.user_ids) < len(graph.user_ids)
        assert hood.graph.user_ids[hood.center] == graph.user_ids[user]
        assert model.decision_function(hood.graph)[hood.center] == pytest.approx(full[user], abs=1e-4)


def test_explain_finds_the_known_bad_ring_mate_behind_a_hidden_members_score() -> None:
    graph, y = _world(0)
    model = GraphClassifier(epochs=60, random_state=3).fit(graph, y, sample_weight=1.0 - graph.user_features[:, 1])
    known = graph.feature_names.index("known_bad")
    hidden_bad = np.flatnonzero((y == 1) & (graph.user_features[:, known] == 0))[:10]
    found = model.explain(graph, hidden_bad)
    assert [a.user_id for a in found] == graph.user_ids[hidden_bad].tolist()
    for a in found:
        assert a.linked_users == 4 and a.linked_sum[known] == 1, "its four ring mates, one of them known bad"
        assert a.shared == {"device": 1, "ip": 0}
        pushes = {"own noise": a.own[0], "linked known bad": a.linked[known], **a.entities}
        assert max(pushes, key=lambda k: pushes[k]) == "linked known bad", pushes


def test_a_graph_bundle_scores_a_graph_and_refuses_a_row_saying_why() -> None:
    graph, y = _world(0, users=200)
    model = GraphClassifier(epochs=15, random_state=1).fit(graph, y)
    logits = model.decision_function(graph)
    bundle = GraphBundle(model, graph.feature_names, Calibrator("sigmoid").fit(logits, y))
    p = bundle.score(graph)
    assert ((p >= 0) & (p <= 1)).all() and (np.diff(p[np.argsort(logits)]) >= 0).all(), "calibrated on the logit"
    again = pickle.loads(pickle.dumps(bundle))
    np.testing.assert_array_equal(again.score(graph), p)
    row = pd.DataFrame({"noise": [0.3], "known_bad": [0.0]})
    for scorer in (bundle.score, model.predict_proba):
        with pytest.raises(CryptoscopeError, match=r"whole graph snapshot.*batch"):
            scorer(row)
