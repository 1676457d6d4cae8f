"""The mule models side by side on one test snapshot, in a few lines for a terminal or a ticket.

``evaluate`` fits ``model`` in memory (and the product's own model beside it when another is asked for), or
re-judges a registered version on its own test snapshot with every label the lake holds now: labels keep arriving
weeks after a snapshot, so a model can be judged again later. The line's unsupervised graph score is shown on the
same users for reference.

>>> print(evaluate("demo-lake", "graph").summary())        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptoscope.anomaly import mule_models
from cryptoscope.anomaly.mule_training import MuleFit, Snapshots, fit, line_graph_score
from cryptoscope.anomaly.mules import (
    COSTS,
    MODEL_NAME,
    TOP_K,
    Cut,
    Labelled,
    MulePlan,
    labelled_snapshot,
    ranking_figures,
)
from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.pipeline import lake_end
from cryptoscope.lake import Lake, connect
from cryptoscope.models import Metrics, Registry
from cryptoscope.models import evaluate as metrics_of
from cryptoscope.models.decisions import DecisionOutcome, outcome


@dataclass(frozen=True)
class Judged:
    """One model on the test snapshot: its ranking figures (``test_...``), metrics and decisions."""

    name: str
    figures: dict[str, float]
    metrics: Metrics
    decisions: DecisionOutcome | None


@dataclass(frozen=True)
class MuleEvaluation:
    """Every model judged on the same test snapshot (its users not known bad, the labels learnt until ``until``)."""

    at: dt.datetime
    until: dt.datetime
    users: int
    bad: int
    rows: tuple[Judged, ...]

    def summary(self) -> str:
        rings = self.rows[0].figures["test_rings"]
        lines = [f"{MODEL_NAME}: test snapshot {self.at:%Y-%m-%d}, {self.users:,} users not known bad, {self.bad} "
                 f"labelled mule or ring member by {self.until:%Y-%m-%d} ({rings:.0f} rings of 3+ among them)",
                 f"{'':16}{f'P@{TOP_K}':>8}{f'ringR@{TOP_K}':>11}{'ROC-AUC':>9}{'PR-AUC':>8}{'cost $':>10}"
                 f"{'reviewed':>10}{'blocked':>9}{'bad stopped':>13}"]
        for row in self.rows:
            f, m, d = row.figures, row.metrics, row.decisions
            tail = (f"{d.cost:10,.0f}{d.reviewed:10d}{d.blocked:9d}{d.bad_stopped:13d}" if d is not None else "")
            lines.append(f"{row.name:16}{f['test_precision_at_100']:8.3f}{_num(f['test_ring_recall_at_100']):>11}"
                         f"{m.roc_auc:9.3f}{m.pr_auc:8.3f}{tail}")
        return "\n".join(lines)


def evaluate(lake: Lake | str | os.PathLike[str], model: str = mule_models.DEFAULT_MODEL, *,
             plan: MulePlan | None = None, random_state: int = 0, registry_root: str | os.PathLike[str] | None = None,
             version: int | None = None, backend: Any = None) -> MuleEvaluation:
    """``model`` (with the product's own beside it) fitted in memory, or, with ``registry_root``, the registered
    ``version`` (default: the champion) re-judged on its test snapshot; the line's graph score beside either."""
    root = lake if isinstance(lake, Lake) else Lake(lake)
    con = connect(root) if backend is None else backend
    if registry_root is not None:
        return _registered(root, con, Registry(Path(registry_root)), version)
    data = Snapshots.build(root, plan, backend=con)
    names = [mule_models.check_model(model)]
    if model != mule_models.DEFAULT_MODEL:
        names.append(mule_models.DEFAULT_MODEL)
    fits = [fit(name, data, random_state=random_state) for name in names]
    return _evaluation(data.test, [_judged(f) for f in fits])


def _registered(lake: Lake, con: Any, registry: Registry, version: int | None) -> MuleEvaluation:
    found = registry.load(MODEL_NAME, version)
    test = found.card.periods[-1]
    if test.start is None:
        raise CryptoscopeError(f"{MODEL_NAME} v{found.version} has no test snapshot on its card")
    data = labelled_snapshot(lake, con, Cut("test", test.start, lake_end(con)))
    p = mule_models.scores(found.bundle, data.snap)
    keep = data.keep
    decisions = found.bundle.decide_scored(p[keep], None)
    row = Judged(f"v{found.version}", {f"test_{k}": v for k, v in ranking_figures(p, data).items()},
                 metrics_of(data.y[keep], p[keep], decisions=decisions, costs=COSTS),
                 outcome("model", data.y[keep], decisions, COSTS))
    return _evaluation(data, [row])


def _judged(fitted: MuleFit) -> Judged:
    if fitted.card.metrics_test is None:
        raise CryptoscopeError(f"{fitted.model}: no test metrics")
    return Judged(fitted.model, fitted.figures, fitted.card.metrics_test, fitted.decisions)


def _evaluation(test: Labelled, rows: list[Judged]) -> MuleEvaluation:
    if test.bad == 0:
        raise CryptoscopeError(f"no user of the test snapshot ({test.cut.at:%Y-%m-%d}) was labelled a mule or ring "
                               "member later: nothing to judge a model on yet")
    reference = line_graph_score(test)
    keep = test.keep
    rows.append(Judged("graph signals", {f"test_{k}": v for k, v in ranking_figures(reference, test).items()},
                       metrics_of(test.y[keep], reference[keep]), None))
    return MuleEvaluation(test.cut.at, test.cut.until, test.judged, test.bad, tuple(rows))


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.3f}"
