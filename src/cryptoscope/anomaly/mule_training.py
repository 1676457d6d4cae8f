"""Train, judge and register the mule model on the harness: time split, calibration, card, report, registry, gate.

``Snapshots.build`` takes the three labelled snapshots of `mules.MulePlan` once; ``fit`` fits one family of
`mule_models` on them and judges it on the test snapshot, nothing written. ``train`` registers a new version of
``abnormal_mule`` (MLflow run with the card, report and plots) and promotes it only if

* its decisions on the test snapshot cost less than reviewing nobody (the model pays for its reviews), and
* for a model other than the product's own (``--model graph``), it beats the own model, fitted in the same run on
  the same snapshots, on the figures the product is judged by: a higher precision at the top 100, a ring recall
  at 100 no lower, and decisions that cost no more. Otherwise it is registered as a challenger, its card saying
  by how much it lost.

Each family is fitted with ``seeds`` seeds (3 by default) and the gate reads the means: on the graph benchmark's
world one network's precision@100 swings from 0.05 to 0.19 with the seed, so one fit would promote a lucky draw
(or refuse an unlucky one). The version registered is the first seed's fit; its card gives its own figures, the
means and the spread.

Neither family is scored per request (``notes`` of every card): both read the whole graph (the trees its
communities and propagation, the network its neighbourhoods), so scores are batch-computed per snapshot
(`mule_scoring`) and read from ``risk_scores``; the serving-cost gate of the risk products does not apply.

>>> result = train("demo-lake", "models-registry", report_dir="reports", model="graph")   # doctest: +SKIP
>>> result.promoted, result.refused                                                    # doctest: +SKIP
>>> print(result.fit.card.notes)                                                       # doctest: +SKIP
"""

from __future__ import annotations

import base64
import dataclasses
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cryptoscope.anomaly import mule_models, mule_reasons
from cryptoscope.anomaly.mules import (
    COSTS,
    MODEL_NAME,
    TARGET_LABELS,
    TOP_K,
    Labelled,
    MulePlan,
    labelled_snapshot,
    ranking_figures,
)
from cryptoscope.anomaly.pipeline import GRAPH_SIGNALS, directional_score
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import (
    APPROVE,
    BLOCK,
    DecisionComparison,
    DecisionOutcome,
    ModelBundle,
    ModelCard,
    Period,
    Registry,
    evaluate,
    plots,
    write_report,
)
from cryptoscope.models.decisions import outcome
from cryptoscope.models.report import ReportData

LakeLike = Lake | str | os.PathLike[str]
#: Users explained for the report's importance (the highest test scores): the network explains one at a time.
IMPORTANCE_USERS = 100
NOT_PER_REQUEST = ("Scored in batch per snapshot, never per request: it reads the whole entity graph (communities "
                   "and propagation for the trees, each user's neighbourhood for the network), which one "
                   "request does not hold; the API shows these scores from risk_scores.")


@dataclass(frozen=True)
class Snapshots:
    """The three labelled snapshots of one split, built once and shared by every model fitted on it."""

    train: Labelled
    valid: Labelled
    test: Labelled

    @classmethod
    def build(cls, lake: LakeLike, plan: MulePlan | None = None, *, backend: Any = None) -> Snapshots:
        root = lake if isinstance(lake, Lake) else Lake(lake)
        con = connect(root) if backend is None else backend
        return cls(*(labelled_snapshot(root, con, cut) for cut in (plan or MulePlan()).cuts(con)))


@dataclass(frozen=True, eq=False)
class MuleFit:
    """One model fitted and judged: its bundle and card, its test scores, figures and decisions, its fit's time."""

    model: str
    bundle: ModelBundle
    card: ModelCard
    data: Snapshots
    p_test: np.ndarray
    figures: dict[str, float]
    decisions: DecisionOutcome
    seconds: float
    cpu_seconds: float


@dataclass(frozen=True, eq=False)
class Draws:
    """One family fitted with several seeds on the same snapshots; ``fits[0]`` is the one registered."""

    model: str
    fits: tuple[MuleFit, ...]

    @classmethod
    def fit(cls, model: str, data: Snapshots, *, seeds: int = 1, random_state: int = 0) -> Draws:
        if seeds < 1:
            raise CryptoscopeError(f"seeds must be at least 1, got {seeds}")
        return cls(model, tuple(fit(model, data, random_state=random_state + s) for s in range(seeds)))

    @property
    def first(self) -> MuleFit:
        return self.fits[0]

    def mean(self, key: str) -> float:
        """The mean of a figure (``test_precision_at_100`` ...) or, for ``cost``, of the test decisions' cost."""
        return float(np.mean([f.decisions.cost if key == "cost" else f.figures[key] for f in self.fits]))

    def span(self, key: str) -> str:
        """The mean of a figure and, over several seeds, its range, for the card."""
        values = [f.figures[key] for f in self.fits]
        mean = self.mean(key)
        return f"{mean:.3f}" if len(values) == 1 else f"{mean:.3f} ({min(values):.3f}-{max(values):.3f})"


@dataclass(frozen=True, eq=False)
class MuleTrainResult:
    """What ``train`` did: the fit registered, every seed's fit of it and of the own model when another was
    trained, the version and the verdict."""

    fit: MuleFit
    draws: Draws
    own: Draws | None
    version: int
    promoted: bool
    refused: str
    report: Path


def fit(model: str, data: Snapshots, *, random_state: int = 0) -> MuleFit:
    """``model`` fitted on ``data`` and judged on its test snapshot (in memory: nothing written)."""
    clock, cpu = time.perf_counter(), time.process_time()
    bundle = mule_models.fit_bundle(mule_models.check_model(model), data.train, data.valid,
                                    random_state=random_state)
    seconds, cpu_seconds = time.perf_counter() - clock, time.process_time() - cpu
    p_valid, p_test = (mule_models.scores(bundle, d.snap) for d in (data.valid, data.test))
    test = data.test
    keep = test.keep
    decisions = bundle.decide_scored(p_test[keep], None)
    own = outcome("model", test.y[keep], decisions, COSTS)
    figures = {f"{part}_{k}": v for part, d, p in (("valid", data.valid, p_valid), ("test", test, p_test))
               for k, v in ranking_figures(p, d).items()}
    figures |= {f"graph_signals_test_{k}": v for k, v in ranking_figures(line_graph_score(test), test).items()}
    card = ModelCard(
        name=MODEL_NAME, label="mule_or_ring_label_within_horizon", time_col="snapshot", features=bundle.features,
        periods=tuple(Period(d.cut.name, d.cut.at, d.cut.until, d.judged) for d in (data.train, data.valid, test)),
        metrics_valid=_metrics(bundle, data.valid, p_valid), metrics_test=_metrics(bundle, test, p_test),
        thresholds=bundle.thresholds, costs=COSTS, decisions_test=_outcomes(own, test),
        estimator=mule_models.describe(bundle), calibration="sigmoid", figures=figures)
    return MuleFit(model, bundle, card, data, p_test, figures, own, seconds, cpu_seconds)


def train(lake: LakeLike, registry_root: str | os.PathLike[str], *, report_dir: str | os.PathLike[str],
          model: str = mule_models.DEFAULT_MODEL, plan: MulePlan | None = None, random_state: int = 0,
          seeds: int = 3, backend: Any = None, data: Snapshots | None = None) -> MuleTrainResult:
    """Fit (``seeds`` seeds from ``random_state``), report, register a version of ``abnormal_mule`` and promote it
    if it passes the gate (module doc). ``data``: the snapshots, when already built (then ``lake``, ``plan`` and
    ``backend`` are not read)."""
    data = data if data is not None else Snapshots.build(lake, plan, backend=backend)
    mine = Draws.fit(mule_models.check_model(model), data, seeds=seeds, random_state=random_state)
    own = None if model == mule_models.DEFAULT_MODEL else Draws.fit(mule_models.DEFAULT_MODEL, data, seeds=seeds,
                                                                   random_state=random_state)
    fitted = mine.first
    if fitted.card.metrics_test is None or fitted.card.metrics_test.positives == 0:
        raise CryptoscopeError(f"no user of the test snapshot ({data.test.cut.at:%Y-%m-%d}) was labelled a mule or "
                               "ring member later: the model cannot be judged, so nothing was registered")
    refused = refusal(mine, own)
    card = dataclasses.replace(fitted.card, notes=notes(mine, own, refused), figures=_card_figures(mine, own),
                               decisions_test=_outcomes(fitted.decisions, data.test, own))
    fitted = dataclasses.replace(fitted, card=card)
    report = write_mule_report(fitted, Path(report_dir) / f"{MODEL_NAME}_{model}.html")
    registry = Registry(Path(registry_root))
    version = registry.register(MODEL_NAME, fitted.bundle, card, files={"report": report}, figures=_figures(fitted),
                                evaluation="failed" if refused else "passed", reason=refused)
    if not refused:
        registry.promote(MODEL_NAME, version)
    return MuleTrainResult(fitted, mine, own, version, not refused, refused, report)


def refusal(mine: Draws, own: Draws | None) -> str:
    """Why ``mine`` is not promoted, in words ("" when it is): the gate of the module doc, on the seeds' means."""
    reasons = []
    test = mine.first.data.test
    approve_all = outcome("approve all", test.y[test.keep], np.full(test.judged, APPROVE), COSTS).cost
    cost = mine.mean("cost")
    if not cost < approve_all:
        reasons.append(f"its decisions cost ${cost:,.0f}{_over(mine)} on the test snapshot, no less than reviewing "
                       f"nobody (${approve_all:,.0f})")
    if own is not None:
        lost = _losses(mine, own)
        if lost:
            reasons.append(f"it does not beat the product's own {own.model} model on the test snapshot"
                           f"{_over(mine)}: " + "; ".join(lost))
    return "; ".join(reasons)


def notes(mine: Draws, own: Draws | None, refused: str) -> str:
    """The card's notes: the product, the split, the figures beside the own model's and the verdict."""
    fitted = mine.first
    test = fitted.data.test
    f = fitted.figures
    text = (f"Mules and ring members: users not known bad at a snapshot, bad when a {', '.join(TARGET_LABELS)} "
            f"label about them is learnt within {(test.cut.until - test.cut.at).days} days. Fitted on the "
            f"{fitted.data.train.cut.at:%Y-%m-%d} snapshot, calibrated and thresholds chosen on the "
            f"{fitted.data.valid.cut.at:%Y-%m-%d} one, judged on the {test.cut.at:%Y-%m-%d} one "
            f"({test.judged:,} users, {test.bad} labelled later). Test{_over(mine)}: {_ranking(mine)}. "
            f"The line's unsupervised graph score on the same users: precision@{TOP_K} "
            f"{f['graph_signals_test_precision_at_100']:.3f}, ring recall "
            f"{f['graph_signals_test_ring_recall_at_100']:.3f}. ")
    if own is not None:
        text += f"The product's own {own.model} model on the same snapshots{_over(own)}: {_ranking(own)}. "
    verdict = f"Not promoted: {refused}." if refused else "Promoted: it passed the gate."
    return f"{text}{verdict} This version is the seed {fitted.bundle.estimator.random_state} fit. {NOT_PER_REQUEST}"


def write_mule_report(fitted: MuleFit, path: Path) -> Path:
    """The harness's HTML report of the test snapshot (metrics, curves, importance, decisions)."""
    test = fitted.data.test
    keep = test.keep
    top = np.flatnonzero(keep)[np.argsort(-fitted.p_test[keep], kind="stable")[:IMPORTANCE_USERS]]
    importance, kind = mule_reasons.importance(fitted.bundle, test.snap, top)
    y = test.y[keep]
    comparison = DecisionComparison(fitted.decisions, None, *_trivial(y))
    return write_report(ReportData(title=f"{MODEL_NAME} ({fitted.model}): evaluation", y=y, p=fitted.p_test[keep],
                                   metrics={"valid": fitted.card.metrics_valid,
                                            **({"test": fitted.card.metrics_test} if fitted.card.metrics_test else {})},
                                   importance=importance, importance_kind=kind, comparison=comparison,
                                   card=fitted.card), path)


def line_graph_score(data: Labelled) -> np.ndarray:
    """The abnormal line's unsupervised graph score of every user of the snapshot (mean percentile rank of its
    graph signals, `pipeline.directional_score`): what ranks these users today, for reference."""
    users = data.snap.result.features.users.set_index("user_id").reindex(data.snap.user_ids)
    return directional_score(users[list(GRAPH_SIGNALS)].fillna(0.0))


def _losses(mine: Draws, own: Draws) -> list[str]:
    """Where ``mine`` falls short of ``own`` on the test snapshot (the seeds' means), each with both figures."""
    out = []
    p, q = mine.mean("test_precision_at_100"), own.mean("test_precision_at_100")
    if not p > q:
        out.append(f"precision@{TOP_K} {p:.3f} against {q:.3f} ({p - q:+.3f})")
    r, s = mine.mean("test_ring_recall_at_100"), own.mean("test_ring_recall_at_100")
    if not (r >= s or (math.isnan(r) and math.isnan(s))):
        out.append(f"ring recall@{TOP_K} {r:.3f} against {s:.3f} ({r - s:+.3f})")
    c, d = mine.mean("cost"), own.mean("cost")
    if c > d:
        out.append(f"decisions ${c:,.0f} against ${d:,.0f}")
    return out


def _over(draws: Draws) -> str:
    return "" if len(draws.fits) == 1 else f" (mean of seeds {draws.fits[0].bundle.estimator.random_state}-" \
        f"{draws.fits[-1].bundle.estimator.random_state})"


def _ranking(draws: Draws) -> str:
    f = draws.first.figures
    return (f"precision@{TOP_K} {draws.span('test_precision_at_100')}, ring recall@{TOP_K} "
            f"{draws.span('test_ring_recall_at_100')} of {f['test_rings']:.0f} rings; decisions "
            f"${draws.mean('cost'):,.0f}")


def _card_figures(mine: Draws, own: Draws | None) -> dict[str, float]:
    """The registered fit's figures, the seeds' means, and the own model's means when compared."""
    keys = ("test_precision_at_100", "test_ring_recall_at_100", "cost")
    out = dict(mine.first.figures) | {"seeds": float(len(mine.fits))}
    out |= {f"mean_{'test_decision_cost' if k == 'cost' else k}": mine.mean(k) for k in keys}
    if own is not None:
        out |= {f"own_mean_{'test_decision_cost' if k == 'cost' else k}": own.mean(k) for k in keys}
    return out


def _metrics(bundle: ModelBundle, data: Labelled, p: np.ndarray) -> Any:
    keep = data.keep
    return evaluate(data.y[keep], p[keep], decisions=bundle.decide_scored(p[keep], None), costs=COSTS)


def _trivial(y: np.ndarray) -> tuple[DecisionOutcome, DecisionOutcome]:
    return (outcome("approve all", y, np.full(len(y), APPROVE), COSTS),
            outcome("block all", y, np.full(len(y), BLOCK), COSTS))


def _outcomes(model: DecisionOutcome, test: Labelled, own: Draws | None = None) -> tuple[DecisionOutcome, ...]:
    """The card's test decisions: the model's, the own model's (same seed) when compared, reviewing nobody,
    blocking all."""
    mine = [dataclasses.replace(own.first.decisions, name=f"own {own.model} model")] if own is not None else []
    return (model, *mine, *_trivial(test.y[test.keep]))


def _figures(fitted: MuleFit) -> dict[str, bytes]:
    test = fitted.data.test
    y, p = test.y[test.keep], fitted.p_test[test.keep]
    return {"calibration": base64.b64decode(plots.reliability(y, p)),
            "costs": base64.b64decode(plots.decision_costs(fitted.card.decisions_test))}
