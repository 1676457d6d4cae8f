"""RiskClassifier: LightGBM by default, any scikit-learn classifier on request, gaps in the data welcome."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import RiskClassifier

from .conftest import FEATURES

Data = tuple[pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray]


@pytest.fixture(scope="module")
def data(risk_frame: pd.DataFrame) -> Data:
    train, valid = risk_frame.iloc[:4000], risk_frame.iloc[4000:]
    return train[FEATURES], train["label"].to_numpy(), valid[FEATURES], valid["label"].to_numpy()


def test_the_model_ranks_better_than_the_rule_it_replaces(data: Data, risk_frame: pd.DataFrame) -> None:
    X, y, X_valid, y_valid = data
    model = RiskClassifier().fit(X, y, eval_set=(X_valid, y_valid))
    rule = risk_frame.iloc[4000:]["rule_decision"].map({"approve": 0, "review": 1, "block": 2})
    assert roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]) > roc_auc_score(y_valid, rule) + 0.03
    assert list(model.feature_names_in_) == FEATURES and model.n_features_in_ == len(FEATURES)
    assert model.predict_proba(X_valid).shape == (len(X_valid), 2)
    assert 1 <= model.best_iteration_ < model.n_estimators  # early stopping on the validation set


def test_the_same_seed_gives_the_same_model(data: Data) -> None:
    X, y, X_valid, _ = data
    first = RiskClassifier(random_state=3, n_estimators=60).fit(X, y).predict_proba(X_valid)
    again = RiskClassifier(random_state=3, n_estimators=60).fit(X, y).predict_proba(X_valid)
    np.testing.assert_array_equal(first, again)


def test_missing_values_go_straight_to_lightgbm(data: Data) -> None:
    X, y, X_valid, _ = data
    assert X["since_security_change_7d"].isna().mean() > 0.5  # most users changed nothing
    proba = RiskClassifier(n_estimators=30).fit(X, y).predict_proba(X_valid)
    assert np.isfinite(proba).all()


def test_imbalance_is_handled_by_weighting_the_bad_rows(data: Data) -> None:
    X, y, _, _ = data
    model = RiskClassifier(n_estimators=10).fit(X, y)
    assert model.estimator_.get_params()["scale_pos_weight"] == pytest.approx((y == 0).sum() / (y == 1).sum())
    assert RiskClassifier(n_estimators=10, imbalance="is_unbalance").fit(X, y).estimator_.get_params()["is_unbalance"]
    assert "scale_pos_weight" not in RiskClassifier(n_estimators=10, imbalance=None).fit(X, y).estimator_.get_params()


def test_any_sklearn_classifier_can_stand_in_and_gets_an_imputer_when_it_needs_one(data: Data) -> None:
    X, y, X_valid, y_valid = data
    model = RiskClassifier(estimator=LogisticRegression(max_iter=1000)).fit(X, y)
    assert type(model.estimator_).__name__ == "Pipeline"  # SimpleImputer -> LogisticRegression
    assert roc_auc_score(y_valid, model.predict_proba(X_valid)[:, 1]) > 0.75
    weighted = RiskClassifier(estimator=LogisticRegression(max_iter=1000)).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_allclose(weighted.predict_proba(X_valid), model.predict_proba(X_valid))


def test_it_is_a_proper_sklearn_estimator(data: Data) -> None:
    X, y, X_valid, _ = data
    model = RiskClassifier(num_leaves=7)
    copy = clone(model).set_params(n_estimators=20)
    assert copy.get_params()["num_leaves"] == 7 and copy.get_params()["n_estimators"] == 20
    fitted = copy.fit(X, y)
    shuffled = X_valid[FEATURES[::-1]]  # columns are matched by name, not position
    np.testing.assert_array_equal(fitted.predict_proba(shuffled), fitted.predict_proba(X_valid))
    assert set(np.unique(fitted.predict(X_valid))) <= {0, 1}


def test_bad_input_is_refused_with_a_reason(data: Data) -> None:
    X, y, X_valid, _ = data
    with pytest.raises(CryptoscopeError, match="only class 0"):
        RiskClassifier().fit(X, np.zeros(len(y)))
    with pytest.raises(CryptoscopeError, match=r"0 \(good\) or 1 \(bad\)"):
        RiskClassifier().fit(X, np.full(len(y), 2))
    with pytest.raises(CryptoscopeError, match=r"holds .* values; encode it"):
        RiskClassifier().fit(X.assign(country="FR"), y)
    model = RiskClassifier(n_estimators=5).fit(X, y)
    with pytest.raises(CryptoscopeError, match="missing feature columns: amount_usd"):
        model.predict_proba(X_valid.drop(columns="amount_usd"))
