"""Train a risk product's model on the harness, judge it against the rules, register and promote it.

``train`` builds the product's labelled decisions (``frames.py``, labels as the ``TimePlan``
allows), fits and evaluates with ``models.train_and_evaluate``, writes the HTML report, registers
a new version, and promotes it only when its decisions cost less than the rules' on the test period and scoring
one request with it fits the serving budget (``latency.py``).
``evaluate`` gives the same comparison without touching a registry, or for a registered version on
the lake as it is now (labels keep arriving, so a model can be re-judged later).

Each reads the lake through ``backend``, the Ibis connection of the run's engine (the lake's DuckDB by
default, or Spark from ``connect_spark``): the training set is built and, past the row budget, sampled there
(``sampling.py``); only the result comes to the driver. The fit itself is the same whatever built the frame:
its rows in canonical order (``finish_frame``), single-threaded estimators with fixed seeds.

>>> result = train("payment", "demo-lake", "models-registry", report_dir="reports")   # doctest: +SKIP
>>> print(result.evaluation.summary())                                                 # doctest: +SKIP
>>> print(evaluate("payment", "demo-lake").summary())                                  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import ModelCard, Period, Registry, RiskClassifier, TrainedModel, train_and_evaluate
from cryptoscope.risk import estimators, latency
from cryptoscope.risk.evaluation import Evaluation, compare
from cryptoscope.risk.frames import decision_frame, labelled_frame
from cryptoscope.risk.labels import attach_labels, label_events
from cryptoscope.risk.plan import Boundaries, TimePlan
from cryptoscope.risk.products import GUARD_COLUMN, RULE_COLUMN, Product, get_product
from cryptoscope.risk.sampling import WEIGHT_COLUMN, Sampling
from cryptoscope.risk.sequences import (
    EVENT_FEATURES,
    SEQUENCE_PRODUCTS,
    AccountHistory,
    sequence_columns,
    with_model_sequences,
)

LakeLike = Lake | str | os.PathLike[str]
DEFAULT_MODEL = "lightgbm"  # the product's own family (estimators.py): what every product trains unless told


@dataclass(frozen=True, eq=False)
class TrainResult:
    """What ``train`` did: the fitted model, its registered card and version, and the test comparison."""

    kind: str
    trained: TrainedModel
    card: ModelCard
    version: int
    promoted: bool
    report: Path
    evaluation: Evaluation
    boundaries: Boundaries
    #: why the version was not promoted, in words ("" when it was)
    refused: str = ""
    #: the test cost of the product's own model fitted on the same frame, when another model was trained
    own_cost: float | None = None


def fit(kind: str, lake: LakeLike, *, backend: Any = None, plan: TimePlan | None = None, random_state: int = 0,
        row_budget: int | None = None, model: str = "lightgbm") -> tuple[TrainedModel, Evaluation, Boundaries]:
    """Fit and evaluate ``kind`` on ``lake`` in memory: nothing is written.

    ``backend`` is the Ibis connection to read with (None: the lake's DuckDB). ``row_budget`` caps the
    training-period rows (None: ``$CRYPTOSCOPE_RISK_ROW_BUDGET`` or 2,000,000); the card's ``sampling``
    says whether and how they were sampled. ``model`` is ``lightgbm`` (the product's own family, the default)
    or, for the products with an event sequence (``sequences.SEQUENCE_PRODUCTS``), ``sequence`` or ``hybrid``."""
    product = get_product(kind)
    con = connect(lake) if backend is None else backend
    frame, bounds, sampling = labelled_frame(con, product, plan or TimePlan(), budget=row_budget)
    return fit_frame(product, frame, bounds, sampling, model=model, random_state=random_state,
                     history=lambda: AccountHistory.load(con))


def fit_frame(product: Product, frame: pd.DataFrame, bounds: Boundaries, sampling: Sampling, *, model: str,
              random_state: int, history: Callable[[], AccountHistory],
              steps: int | None = None) -> tuple[TrainedModel, Evaluation, Boundaries]:
    """``fit`` on a labelled frame already built (``frames.labelled_frame``): several models can share one.
    ``history`` gives the account events when the model reads sequences (loaded only then); ``steps`` overrides
    the product's sequence length (to choose it on the validation period)."""
    frame, features, estimator = model_inputs(product, frame, model, random_state, history, steps)
    trained = train_and_evaluate(
        frame, features, "label", "decision_time", bounds.split_spec(), product.costs,
        rules_baseline=RULE_COLUMN, estimator=estimator, name=product.model_name,
        calibration=product.calibration, random_state=random_state, decision=product.decision,
        guardrail=GUARD_COLUMN if product.guardrail is not None else None,
        weight=WEIGHT_COLUMN if sampling.sampled else None)
    trained = _test_from_build_date(trained, bounds)
    trained = dataclasses.replace(trained, card=dataclasses.replace(trained.card, sampling=sampling.to_dict()))
    test = trained.split.test
    evaluation = compare(test, trained.p_test, trained.bundle.decide_scored(trained.p_test, test), product)
    return trained, evaluation, bounds


def train(kind: str, lake: LakeLike, registry_root: str | os.PathLike[str], *, report_dir: str | os.PathLike[str],
          backend: Any = None, plan: TimePlan | None = None, random_state: int = 0,
          row_budget: int | None = None, model: str = "lightgbm",
          serving_budget_ms: float | None = None) -> TrainResult:
    """Fit, report, register a new version of ``risk_<kind>``, and promote it if it beats the rules on cost (and,
    for a model other than the product's own, that model) and one request's scoring fits the serving budget.

    ``backend``, ``row_budget`` and ``model`` as in ``fit``. ``serving_budget_ms`` is the gate's budget
    (``latency.serving_budget_ms``: None reads ``$CRYPTOSCOPE_SERVING_BUDGET_MS``, else 5 ms).

    Refuses (``CryptoscopeError``, nothing written) when no test decision is known to be bad yet: a
    model that was never judged on a bad row is not registered.
    """
    product = get_product(kind)
    con = connect(lake) if backend is None else backend
    frame, bounds, sampling = labelled_frame(con, product, plan or TimePlan(), budget=row_budget)
    history = _once(lambda: AccountHistory.load(con))
    trained, evaluation, bounds = fit_frame(product, frame, bounds, sampling, model=model, random_state=random_state,
                                            history=history)
    # a model other than the product's own is adopted only if it also beats that model on the same test period
    own_cost = None if model == DEFAULT_MODEL else fit_frame(
        product, frame, bounds, sampling, model=DEFAULT_MODEL, random_state=random_state, history=history)[1].model.cost
    if evaluation.positives == 0:
        raise CryptoscopeError(
            f"{kind}: no decision of the test period ({evaluation.test_start:%Y-%m-%d} to "
            f"{evaluation.test_end:%Y-%m-%d}) is known to be bad yet ({', '.join(product.label_types)} labels arrive "
            "weeks late), so the model cannot be judged against the rules and nothing was registered; train on "
            "a longer history, or later when the labels have arrived (evaluate() shows the costs meanwhile)")
    report = trained.write_report(Path(report_dir) / f"{product.model_name}.html")
    registry = Registry(Path(registry_root))
    cost = latency.measure(product, trained.bundle, trained.card, trained.split.test, trained.split.valid,
                           budget_ms=latency.serving_budget_ms(serving_budget_ms))
    card = dataclasses.replace(trained.card, serving=cost.to_card(), notes=_notes(
        product, bounds, evaluation, Sampling(**trained.card.sampling), own_cost))
    refused = refusal(evaluation, own_cost, cost)
    version = registry.register(product.model_name, trained.bundle, card, files={"report": report},
                                figures=trained.figures(), evaluation="failed" if refused else "passed",
                                reason=refused)
    if not refused:
        registry.promote(product.model_name, version)
    return TrainResult(kind=kind, trained=trained, card=registry.show(product.model_name, version), version=version,
                       promoted=not refused, report=report, refused=refused, own_cost=own_cost,
                       evaluation=dataclasses.replace(evaluation, model_version=version), boundaries=bounds)


def refusal(evaluation: Evaluation, own_cost: float | None, serving: latency.ServingCost | None) -> str:
    """The promotion gate: why the model is not promoted, in words, or "" when it is. It must cost less than the
    rules on the test period, and than the product's own model (``own_cost``, when another was trained), and
    its scoring of one request must fit the serving budget (``serving``, when judged).

    ``train`` judges the serving cost of every model it registers, the products' own included: the p99 < 10 ms
    serving target holds for whatever is promoted, and a product's own model could grow slow as well (more
    features, another family). The LightGBM products measure ~0.2-0.5 ms p99 and the logistic regressions of KYC
    and deposits ~0.1-0.2 ms on their row paths (``fastscore.py``); the sequence and hybrid models, on the frame
    path, 17-24 ms, so they are refused (docs/risk.md)."""
    reasons = []
    if evaluation.saving <= 0:
        reasons.append(f"its decisions cost ${evaluation.model.cost:,.0f} on the test period, no less than the "
                       f"rules' ${evaluation.rules.cost:,.0f}")
    if own_cost is not None and not evaluation.model.cost < own_cost:
        reasons.append(f"its decisions cost ${evaluation.model.cost:,.0f} on the test period, no less than the "
                       f"product's own model's ${own_cost:,.0f}")
    if serving is not None and not serving.fits:
        reasons.append(serving.refusal())
    return "; ".join(reasons)


def evaluate(kind: str, lake: LakeLike, *, registry_root: str | os.PathLike[str] | None = None,
             version: int | None = None, backend: Any = None, plan: TimePlan | None = None, random_state: int = 0,
             row_budget: int | None = None, model: str = "lightgbm") -> Evaluation:
    """ML against rules on the test period, read through ``backend`` (None: the lake's DuckDB).

    Without ``registry_root`` a model is fitted in memory (as ``train`` would, nothing written).
    With it, the registered ``version`` (default: the promoted one) is scored on the decisions of its
    own test period, labelled with every label the lake holds now.
    """
    if registry_root is None:
        return fit(kind, lake, backend=backend, plan=plan, random_state=random_state, row_budget=row_budget,
                   model=model)[1]
    product = get_product(kind)
    registered = Registry(Path(registry_root)).load(product.model_name, version)
    test_start, test_end = registered.card.periods[-1].start, registered.card.periods[-1].end
    if test_start is None:
        raise CryptoscopeError(f"{product.model_name} v{registered.version} has no test period on its card")
    con = connect(lake) if backend is None else backend
    test = attach_labels(decision_frame(con, product, since=test_start),
                         label_events(con, product.entity_type, product.label_types), test_start,
                         outcome_required=product.outcome_required)
    if test_end is not None and product.horizon:  # its outcome horizon: later decisions cannot be judged yet
        test = test[test["decision_time"] <= pd.Timestamp(test_end)]
    test = test.reset_index(drop=True)
    if test.empty:
        raise CryptoscopeError(f"no labelled {kind} decisions from {test_start:%Y-%m-%d} on in {lake}")
    test = with_model_sequences(test, registered.bundle.features, lambda: AccountHistory.load(con))
    p = registered.bundle.score(test[list(registered.bundle.features)])
    return compare(test, p, registered.bundle.decide_scored(p, test), product, model_version=registered.version)


def _once(load: Callable[[], AccountHistory]) -> Callable[[], AccountHistory]:
    """``load`` called at most once, on first use (the account events take seconds to read)."""
    cache: list[AccountHistory] = []

    def get() -> AccountHistory:
        if not cache:
            cache.append(load())
        return cache[0]

    return get


def model_inputs(product: Product, frame: pd.DataFrame, model: str, random_state: int,
                 history: Callable[[], AccountHistory],
                 steps: int | None = None) -> tuple[pd.DataFrame, list[str], RiskClassifier]:
    """The frame, feature columns and estimator of ``model`` for ``product``: its own features and family for
    ``lightgbm``; for ``sequence`` and ``hybrid`` the event sequence appended to both (``sequences.py``)."""
    if model not in estimators.MODELS:
        raise CryptoscopeError(f"unknown model {model!r}; known: {', '.join(estimators.MODELS)}")
    if model == DEFAULT_MODEL:
        return frame, list(product.features), product.estimator(random_state)
    if product.kind not in SEQUENCE_PRODUCTS:
        raise CryptoscopeError(f"{product.kind} has no event sequence; --model {model} is for "
                               f"{', '.join(SEQUENCE_PRODUCTS)} (others: lightgbm)")
    steps = steps or SEQUENCE_PRODUCTS[product.kind][model]
    frame = history().with_sequences(frame, steps)
    estimator = estimators.MODELS[model](random_state, steps=steps, event_features=len(EVENT_FEATURES))
    return frame, [*product.features, *sequence_columns(steps)], estimator


def _notes(product: Product, bounds: Boundaries, evaluation: Evaluation, sampling: Sampling,
           own_cost: float | None) -> str:
    rules = " ".join((product.rules.__doc__ or product.rules.__name__).split())
    horizon = (f", up to {product.horizon.days} days before that end so that its outcomes are known"
               if product.horizon else "")
    own = "" if own_cost is None else f" vs ${own_cost:,.0f} (the product's own {DEFAULT_MODEL} model)"
    return (f"{product.doc} Built on {bounds.build_date:%Y-%m-%d %H:%M} UTC: training and validation used the "
            f"labels known by then; the test period (from the build date) was judged with every label known at "
            f"the end of the data{horizon}. Rules baseline: {rules} "
            f"Test cost ${evaluation.model.cost:,.0f} (model) vs ${evaluation.rules.cost:,.0f} (rules){own}. "
            f"{sampling.note()}")


def _test_from_build_date(trained: TrainedModel, bounds: Boundaries) -> TrainedModel:
    """The card's test period starts at the build date (the decisions before it were left out of the frame)
    and ends at the product's horizon before the end of the data, when it has one."""
    train, valid, test = trained.card.periods
    periods = (train, valid, Period("test", bounds.build_date, bounds.test_end or test.end, test.rows))
    return dataclasses.replace(trained, card=dataclasses.replace(trained.card, periods=periods))
