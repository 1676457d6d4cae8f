"""The ML harness every product line shares: split, fit, calibrate, decide, explain, report, register.

``train_and_evaluate`` ties the pieces together so that a product line only brings its features,
label, costs and rules baseline; each piece is usable alone. See ``docs/models.md``. The registry is
MLflow's (``registry.py``, ``tracking.py``); ``FolderRegistry`` reads the former folder format to migrate it.
"""

from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.calibration import Calibrator, brier_score, expected_calibration_error, reliability_table
from cryptoscope.models.card import ModelCard
from cryptoscope.models.costs import APPROVE, BLOCK, DECISIONS, REVIEW, Costs, decision_costs
from cryptoscope.models.decisions import (
    DecisionComparison,
    DecisionOutcome,
    ExpectedCost,
    Policy,
    Thresholds,
    at_least,
    choose_thresholds,
    compare_decisions,
    decide,
    decide_one,
    policy_from_dict,
)
from cryptoscope.models.estimator import RiskClassifier
from cryptoscope.models.explain import Reason, ReasonCatalog, ReasonExplainer, reason_codes
from cryptoscope.models.folder_registry import FolderRegistry
from cryptoscope.models.metrics import (
    Metrics,
    evaluate,
    expected_cost,
    metrics_over_time,
    pr_auc,
    precision_at_k,
    precision_recall_at_rate,
    recall_at_k,
    roc_auc,
)
from cryptoscope.models.pipeline import SplitSpec, TrainedModel, train_and_evaluate
from cryptoscope.models.registry import ModelVersion, RegisteredModel, Registry
from cryptoscope.models.report import ReportData, render_report, write_report
from cryptoscope.models.split import Period, Split, rolling_splits, time_split

__all__ = [
    "APPROVE",
    "BLOCK",
    "DECISIONS",
    "REVIEW",
    "Calibrator",
    "Costs",
    "DecisionComparison",
    "DecisionOutcome",
    "ExpectedCost",
    "FolderRegistry",
    "Metrics",
    "ModelBundle",
    "ModelCard",
    "ModelVersion",
    "Period",
    "Policy",
    "Reason",
    "ReasonCatalog",
    "ReasonExplainer",
    "RegisteredModel",
    "Registry",
    "ReportData",
    "RiskClassifier",
    "Split",
    "SplitSpec",
    "Thresholds",
    "TrainedModel",
    "at_least",
    "brier_score",
    "choose_thresholds",
    "compare_decisions",
    "decide",
    "decide_one",
    "decision_costs",
    "evaluate",
    "expected_calibration_error",
    "expected_cost",
    "metrics_over_time",
    "policy_from_dict",
    "pr_auc",
    "precision_at_k",
    "precision_recall_at_rate",
    "reason_codes",
    "recall_at_k",
    "reliability_table",
    "render_report",
    "roc_auc",
    "rolling_splits",
    "time_split",
    "train_and_evaluate",
    "write_report",
]
