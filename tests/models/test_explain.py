"""Reason codes name what really drove a score, in the words the catalog gives."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ReasonCatalog, ReasonExplainer, RiskClassifier, reason_codes
from cryptoscope.models.explain import LinearShap

CATALOG = ReasonCatalog({
    "devices_24h": "used {value:.0f} devices in the last 24 hours",
    "since_security_change_*": "security settings changed {value_hours:.0f} hours earlier",
    re.compile(r"logins_(?P<window>\d+[hd])"): "logged in {value:.0f} times in {window}",
})


@pytest.fixture(scope="module")
def one_driver() -> tuple[pd.DataFrame, np.ndarray]:
    """Only ``devices_24h`` matters; the other columns are noise (one of them often missing)."""
    rng = np.random.default_rng(3)
    n = 3000
    X = pd.DataFrame({"devices_24h": rng.poisson(1.5, n).astype(float), "noise": rng.normal(size=n),
                      "since_security_change_7d": np.where(rng.random(n) < 0.3, rng.uniform(0, 604800, n), np.nan)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(2.0 * X["devices_24h"] - 7)))).astype(int)
    return X, y


def riskiest(X: pd.DataFrame, model: RiskClassifier, rows: int = 20) -> pd.DataFrame:
    return X.iloc[np.argsort(-model.predict_proba(X)[:, 1])[:rows]]


@pytest.mark.parametrize("estimator", [None, LogisticRegression(max_iter=1000)], ids=["lightgbm", "linear"])
def test_the_driving_feature_comes_first_in_the_catalogs_words(one_driver: tuple[pd.DataFrame, np.ndarray],
                                                               estimator: object) -> None:
    X, y = one_driver
    model = RiskClassifier(estimator=estimator, n_estimators=80).fit(X, y)
    explainer = ReasonExplainer(CATALOG, top_k=2).fit(model, X)
    assert explainer.kind_ == ("tree" if estimator is None else "linear")
    top = riskiest(X, model)
    for row, reasons in zip(top.itertuples(), explainer.reasons(top), strict=True):
        first = reasons[0]
        assert first.feature == "devices_24h" and first.contribution > 0
        assert first.text == f"used {row.devices_24h:.0f} devices in the last 24 hours"
        assert len(reasons) <= 2 and all(r.contribution > 0 for r in reasons)
    assert explainer.importance(X).index[0] == "devices_24h"


@pytest.mark.parametrize("estimator", [None, LogisticRegression(max_iter=1000)], ids=["lightgbm", "linear"])
def test_contributions_add_up_to_the_score(one_driver: tuple[pd.DataFrame, np.ndarray], estimator: object) -> None:
    X, y = one_driver
    model = RiskClassifier(estimator=estimator, n_estimators=40).fit(X, y)
    explainer = ReasonExplainer().fit(model, X)
    head = X.head(50)
    log_odds = np.log(model.predict_proba(head)[:, 1] / model.predict_proba(head)[:, 0])
    total = explainer.contributions(head).sum(axis=1) + float(np.ravel(explainer.explainer_.expected_value)[-1])
    np.testing.assert_allclose(total, log_odds, atol=1e-6)


def test_the_catalog_matches_exact_names_globs_and_regexes() -> None:
    assert CATALOG.describe("since_security_change_7d", 7200.0) == "security settings changed 2 hours earlier"
    assert CATALOG.describe("logins_24h", 12.0) == "logged in 12 times in 24h"
    catalog = ReasonCatalog({"since_*": "something happened {value_days:.1f} days ago",
                             "since_login_*": "last login {value_minutes:.0f} minutes ago ({window})"})
    assert catalog.describe("since_login_1h", 600.0) == "last login 10 minutes ago (hour)"  # the longer glob wins
    assert catalog.describe("since_deposit_30d", 86400 * 1.5) == "something happened 1.5 days ago"


def test_unknown_features_and_missing_values_still_read_well() -> None:
    assert CATALOG.describe("failed_logins_1h", 4.0) == "failed logins in the last hour: 4"
    assert CATALOG.describe("decline_share_7d", 0.4567) == "decline share in the last 7 days: 0.457"
    assert CATALOG.describe("amount_vs_history", 3.0) == "amount vs history: 3"
    assert CATALOG.describe("since_security_change_7d", math.nan) == "no security change in the last 7 days"
    assert CATALOG.describe("since_login_30d", 5400.0) == "login 90 minutes earlier"
    assert CATALOG.describe("since_deposit", 3 * 86400.0) == "deposit 3 days earlier"
    assert CATALOG.describe("logins_24h", math.nan) == "logins in the last 24 hours: none on record"


def test_a_template_with_a_wrong_field_says_which_fields_exist() -> None:
    with pytest.raises(CryptoscopeError, match="available fields: value, value_minutes"):
        ReasonCatalog({"devices_24h": "{count} devices"}).describe("devices_24h", 3.0)


def test_one_call_reason_codes(one_driver: tuple[pd.DataFrame, np.ndarray]) -> None:
    X, y = one_driver
    model = RiskClassifier(n_estimators=40).fit(X, y)
    reasons = reason_codes(model, riskiest(X, model, 3), catalog=CATALOG, top_k=1, background=X)
    assert [r[0].feature for r in reasons] == ["devices_24h"] * 3


def test_a_model_that_cannot_be_explained_is_named() -> None:
    class Opaque:
        pass

    with pytest.raises(CryptoscopeError, match="cannot explain Opaque"):
        ReasonExplainer().fit(Opaque(), pd.DataFrame({"a": [1.0, 2.0]}))


def test_a_linear_model_gets_shaps_linear_explainer_values_from_numpy(one_driver: tuple[pd.DataFrame, np.ndarray]
                                                                       ) -> None:
    """``LinearShap`` is shap's LinearExplainer (independent masker, the same background after the imputer),
    without shap's per-call checks: equal values, one row or many, and the same expected value."""
    import shap  # slow to import: only this test needs it itself

    X, y = one_driver
    model = RiskClassifier(estimator=LogisticRegression(max_iter=1000)).fit(X, y)
    explainer = ReasonExplainer(background_size=100).fit(model, X)
    assert isinstance(explainer.explainer_, LinearShap)
    background = X.sample(100, random_state=0)  # the rows the explainer drew
    imputer, final = model.estimator_.steps[0][1], model.estimator_.steps[-1][1]
    reference = shap.LinearExplainer(final, imputer.transform(background))
    rows = X.head(300)  # a third miss since_security_change_7d: the imputer's median is explained too
    expected = reference.shap_values(imputer.transform(rows))
    assert np.abs(explainer.contributions(rows).to_numpy() - expected).max() <= 1e-9
    one = np.vstack([explainer.contributions(rows.iloc[[i]]).to_numpy() for i in range(20)])
    assert np.abs(one - expected[:20]).max() <= 1e-9
    assert explainer.explainer_.expected_value == pytest.approx(float(reference.expected_value), abs=1e-12)
