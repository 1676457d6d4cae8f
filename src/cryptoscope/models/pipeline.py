"""``train_and_evaluate``: the one path from a labelled feature frame to a model ready to register.

Each period has one job, so that the test numbers are honest:

* train: fit the estimator;
* valid: stop boosting early, fit the calibrator, choose the approve / review / block thresholds;
* test (later in time, untouched until now): every metric, the decisions' cost, the report.

Example (a product line is this, plus its features and costs)::

    trained = train_and_evaluate(frame, FEATURES, "label", "decision_time",
                                 SplitSpec("2025-02-01", "2025-02-15", gap=dt.timedelta(days=7)),
                                 Costs(missed_fraud="amount_usd", review=4, friction=1, block_good=15),
                                 rules_baseline="rule_decision")
    trained.write_report("report.html")
    Registry().register("card_fraud", trained.bundle, trained.card, files={"report": "report.html"})
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.base import clone

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import plots
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.calibration import Calibrator
from cryptoscope.models.card import ModelCard
from cryptoscope.models.costs import BLOCK, Costs, check_decisions
from cryptoscope.models.decisions import (
    DecisionComparison,
    ExpectedCost,
    Policy,
    choose_thresholds,
    compare_decisions,
    decide,
)
from cryptoscope.models.estimator import RiskClassifier
from cryptoscope.models.explain import ReasonCatalog, ReasonExplainer
from cryptoscope.models.metrics import Metrics, evaluate, metrics_over_time
from cryptoscope.models.report import ReportData, write_report
from cryptoscope.models.split import Split, TimeLike, time_split

if TYPE_CHECKING:
    from cryptoscope.models.registry import Registry

_BASELINE = "__rules_baseline__"
_IMPORTANCE_ROWS = {"tree": 2000, "linear": 2000, "gradient": 2000, "permutation": 200}


@dataclass(frozen=True)
class SplitSpec:
    """The boundaries ``time_split`` takes; see ``split.py`` for their meaning."""

    train_end: TimeLike
    valid_end: TimeLike
    test_end: TimeLike | None = None
    gap: dt.timedelta = dt.timedelta(0)
    train_start: TimeLike | None = None


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted bundle, its card, and the evidence behind it (test scores, costs, importance, drift)."""

    bundle: ModelBundle
    card: ModelCard
    split: Split
    p_valid: np.ndarray
    p_test: np.ndarray
    comparison: DecisionComparison | None
    importance: pd.Series
    importance_kind: str
    over_time: pd.DataFrame

    def report_data(self) -> ReportData:
        return ReportData(title=f"{self.card.name}: evaluation", y=self.split.test[self.card.label].to_numpy(),
                          p=self.p_test, metrics=_named_metrics(self.card), importance=self.importance,
                          importance_kind=self.importance_kind, over_time=self.over_time,
                          comparison=self.comparison, card=self.card)

    def write_report(self, path: str | Path) -> Path:
        """The HTML evaluation report (see ``report.py``)."""
        return write_report(self.report_data(), path)

    def explainer(self, catalog: ReasonCatalog | None = None, *, top_k: int = 3) -> ReasonExplainer:
        """Reason codes for this model, with training rows as the background."""
        background = self.split.train[list(self.card.features)]
        return ReasonExplainer(catalog, top_k=top_k).fit(self.bundle.estimator, background)

    def figures(self) -> dict[str, bytes]:
        """The calibration and cost plots as PNG bytes, logged with the model's run (the report embeds them too)."""
        y = self.split.test[self.card.label].to_numpy()
        out = {"calibration": base64.b64decode(plots.reliability(y, self.p_test))}
        if self.card.decisions_test:
            out["costs"] = base64.b64decode(plots.decision_costs(self.card.decisions_test))
        return out

    def register(self, registry: Registry, *, report: str | Path | None = None) -> int:
        """Register the bundle and card (and the report, when given) with the plots; returns the version."""
        files = {"report": report} if report is not None else None
        return registry.register(self.card.name, self.bundle, self.card, files=files, figures=self.figures())


def train_and_evaluate(frame: pd.DataFrame | pa.Table, features: Sequence[str], label: str, time_col: str,
                       split: SplitSpec, costs: Costs | None = None, rules_baseline: str | Any = None,
                       estimator: Any = None, *, name: str | None = None,
                       calibration: Literal["isotonic", "sigmoid"] = "isotonic", alert_rate: float = 0.01,
                       freq: str = "W", random_state: int = 0,
                       decision: Literal["thresholds", "expected_cost"] = "thresholds",
                       guardrail: str | None = None, weight: str | None = None) -> TrainedModel:
    """Fit on train, early-stop, calibrate and choose thresholds on valid, evaluate on test.

    ``rules_baseline`` is the rules' decision per row (approve / review / block): a column name, or
    an array aligned with ``frame``. ``estimator`` is None (LightGBM), a ``RiskClassifier``, or any
    scikit-learn classifier. Without ``costs`` there are no thresholds and no decision costs.

    ``decision`` picks the policy (``decisions.py``): two thresholds on the probability chosen on valid,
    or each row's lowest expected cost under its own costs. ``guardrail`` names a column of decisions
    (hard rules) the model's decisions never go below, on valid, test and in the bundle alike.
    ``weight`` names a column of row weights for the fit only (a training period whose good rows were
    down-sampled weighs them back); calibration, thresholds and metrics read valid and test unweighted.
    """
    df = frame.to_pandas() if isinstance(frame, pa.Table) else frame
    feats = _check_columns(df, list(features), label, time_col, costs)
    if weight is not None and (weight not in df.columns or weight in feats):
        raise CryptoscopeError(f"the weight column {weight!r} must be in the frame and not a feature")
    if rules_baseline is not None:
        df = df.assign(**{_BASELINE: _baseline(df, rules_baseline)})
    parts = time_split(df, time_col, split.train_end, split.valid_end, split.test_end, gap=split.gap,
                       train_start=split.train_start)
    train, valid, test = parts.train, parts.valid, parts.test
    y_valid, y_test = valid[label].to_numpy(), test[label].to_numpy()

    model = _estimator(estimator, random_state)
    model.fit(train[feats], train[label].to_numpy(), None if weight is None else train[weight].to_numpy(),
              eval_set=(valid[feats], y_valid))
    raw_valid = model.predict_proba(valid[feats])[:, 1]
    calibrator = Calibrator(calibration).fit(raw_valid, y_valid)
    p_valid = calibrator.transform(raw_valid)
    p_test = calibrator.transform(model.predict_proba(test[feats])[:, 1])

    thresholds: Policy | None = None
    comparison = decisions_valid = decisions_test = None
    if guardrail is not None:
        check_decisions(df[guardrail].to_numpy(), len(df))
    if costs is not None:
        # rows a guardrail blocks anyway do not sway the thresholds
        free = np.ones(len(valid), bool) if guardrail is None else (valid[guardrail] != BLOCK).to_numpy()
        thresholds = ExpectedCost(costs) if decision == "expected_cost" else choose_thresholds(
            y_valid[free], p_valid[free], costs, frame=valid[free])
        decisions_valid, decisions_test = (
            decide(p, thresholds, part, guardrail=None if guardrail is None else part[guardrail].to_numpy())
            for p, part in ((p_valid, valid), (p_test, test)))
        comparison = compare_decisions(y_test, decisions_test, costs,
                                       baseline=test[_BASELINE].to_numpy() if rules_baseline is not None else None,
                                       frame=test)
    metrics_valid = evaluate(y_valid, p_valid, alert_rate=alert_rate, decisions=decisions_valid, costs=costs,
                             frame=valid)
    metrics_test = evaluate(y_test, p_test, alert_rate=alert_rate, decisions=decisions_test, costs=costs, frame=test)
    importance, kind = _importance(model, train[feats], test[feats], random_state)
    bundle = ModelBundle(estimator=model, features=tuple(feats), calibrator=calibrator, thresholds=thresholds,
                         guardrail=guardrail or "")
    card = ModelCard(name=name or label, label=label, time_col=time_col, features=tuple(feats),
                     periods=parts.periods, metrics_valid=metrics_valid, metrics_test=metrics_test,
                     thresholds=thresholds, costs=costs, guardrail=guardrail or "",
                     decisions_test=comparison.outcomes if comparison is not None else (),
                     estimator=_describe(model), calibration=calibration)
    return TrainedModel(bundle=bundle, card=card, split=parts, p_valid=p_valid, p_test=p_test, comparison=comparison,
                        importance=importance, importance_kind=kind,
                        over_time=metrics_over_time(test[time_col], y_test, p_test, freq=freq, alert_rate=alert_rate))


def _check_columns(df: pd.DataFrame, features: list[str], label: str, time_col: str, costs: Costs | None) -> list[str]:
    if not features:
        raise CryptoscopeError("no features given")
    needed = [*features, label, time_col, *(costs.columns if costs else ())]
    missing = [c for c in dict.fromkeys(needed) if c not in df.columns]
    if missing:
        raise CryptoscopeError(f"the frame has no column {', '.join(map(repr, missing))}")
    leaking = [c for c in (label, time_col) if c in features]
    if leaking:
        raise CryptoscopeError(f"{', '.join(leaking)} cannot be a feature: it would leak the answer or the split")
    return features


def _baseline(df: pd.DataFrame, rules: Any) -> np.ndarray:
    if isinstance(rules, str):
        if rules not in df.columns:
            raise CryptoscopeError(f"no rules baseline column {rules!r}")
        return check_decisions(df[rules].to_numpy(), len(df))
    return check_decisions(np.asarray(rules), len(df))


def _estimator(estimator: Any, random_state: int) -> RiskClassifier:
    if estimator is None:
        return RiskClassifier(random_state=random_state)
    if isinstance(estimator, RiskClassifier):
        return clone(estimator)
    return RiskClassifier(estimator=estimator, random_state=random_state)


def _importance(model: RiskClassifier, train: pd.DataFrame, test: pd.DataFrame,
                random_state: int) -> tuple[pd.Series, str]:
    """Mean |SHAP| on test rows; the estimator's own importances if it cannot be explained."""
    try:
        explainer = ReasonExplainer(random_state=random_state).fit(model, train)
        rows = test.sample(min(len(test), _IMPORTANCE_ROWS[explainer.kind_]), random_state=random_state)
        what = "mean |gradient x input|" if explainer.kind_ == "gradient" else "mean |SHAP|"
        return explainer.importance(rows), f"{what} on test rows"
    except CryptoscopeError:
        gains = pd.Series(model.feature_importances_, index=list(model.feature_names_in_))
        return gains.sort_values(ascending=False), "the estimator's own importance"


def _describe(model: RiskClassifier) -> str:
    if model.estimator is None:
        trees = model.best_iteration_ or model.n_estimators
        return f"LightGBM, {trees} trees, learning rate {model.learning_rate}, imbalance {model.imbalance}"
    return repr(model.estimator)


def _named_metrics(card: ModelCard) -> dict[str, Metrics]:
    named = {"valid": card.metrics_valid}
    if card.metrics_test is not None:
        named["test"] = card.metrics_test
    return named
