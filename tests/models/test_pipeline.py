"""train_and_evaluate: a product line's whole training run in one call, each period used for one job."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import Calibrator, TrainedModel, train_and_evaluate

from .conftest import COSTS, FEATURES, SPLIT


def test_each_period_does_its_own_job(trained: TrainedModel) -> None:
    split, card = trained.split, trained.card
    assert split.train["decision_time"].max() < split.valid["decision_time"].min()
    assert split.valid["decision_time"].max() < split.test["decision_time"].min()
    # the calibrator was fitted on valid: refitting it there reproduces the valid probabilities
    raw_valid = trained.bundle.estimator.predict_proba(split.valid)[:, 1]
    again = Calibrator("isotonic").fit(raw_valid, split.valid["label"]).transform(raw_valid)
    np.testing.assert_allclose(again, trained.p_valid)
    assert card.metrics_valid.rows == len(split.valid) and card.metrics_test is not None
    assert card.metrics_test.rows == len(split.test)
    assert card.thresholds == trained.bundle.thresholds and card.costs == COSTS
    assert [o.name for o in card.decisions_test] == ["model", "rules baseline", "approve all", "block all"]


def test_the_model_is_useful_on_the_later_test_period(trained: TrainedModel) -> None:
    test = trained.card.metrics_test
    assert test is not None
    assert test.roc_auc > 0.75 and test.pr_auc > 2 * test.base_rate
    assert test.ece < 0.05  # calibrated on valid, still honest on test
    assert trained.importance.index[0] == "devices_24h"
    assert set(trained.importance.index) == set(FEATURES)
    assert len(trained.over_time) >= 2 and trained.over_time["rows"].sum() == len(trained.split.test)


def test_reason_codes_come_with_the_trained_model(trained: TrainedModel) -> None:
    riskiest = trained.split.test.iloc[np.argsort(-trained.p_test)[:5]]
    reasons = trained.explainer(top_k=2).reasons(riskiest)
    assert len(reasons) == 5 and all(1 <= len(r) <= 2 for r in reasons)
    assert any(r[0].feature == "devices_24h" for r in reasons)


def test_a_baseline_array_an_arrow_table_and_another_estimator_work_too(risk_frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(risk_frame.drop(columns="rule_decision"), preserve_index=False)
    model = train_and_evaluate(table, FEATURES, "label", "decision_time", SPLIT, COSTS,
                               rules_baseline=risk_frame["rule_decision"].to_numpy(),
                               estimator=LogisticRegression(max_iter=1000), calibration="sigmoid")
    assert model.comparison is not None and model.comparison.baseline is not None
    assert model.comparison.model.cost < model.comparison.baseline.cost
    assert model.card.estimator.startswith("LogisticRegression")
    assert model.importance_kind.startswith("mean |SHAP|")


def test_without_costs_there_are_metrics_but_no_decisions(risk_frame: pd.DataFrame) -> None:
    model = train_and_evaluate(risk_frame, FEATURES, "label", "decision_time", SPLIT)
    assert model.bundle.thresholds is None and model.comparison is None and model.card.metrics_valid.cost is None
    with pytest.raises(CryptoscopeError, match="no decision policy"):
        model.bundle.decide(risk_frame)


@pytest.mark.parametrize(("features", "label", "message"), [
    ([*FEATURES, "label"], "label", "label cannot be a feature"),
    ([*FEATURES, "missing"], "label", "no column 'missing'"),
    ([], "label", "no features"),
])
def test_mistakes_in_the_set_up_are_caught_before_training(risk_frame: pd.DataFrame, features: list[str],
                                                           label: str, message: str) -> None:
    with pytest.raises(CryptoscopeError, match=message):
        train_and_evaluate(risk_frame, features, label, "decision_time", SPLIT, COSTS)
