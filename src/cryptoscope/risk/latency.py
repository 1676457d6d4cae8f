"""The serving-cost gate: a risk model is promoted only if scoring one request fits the serving budget.

The server answers one withdrawal (or payment, login ...) at a time with a p99 < 10 ms target at 1,000
requests/s (``docs/serve.md``), and the model's own work (score, decide, explain) is only part of a request:
reading the online features, building the row, the journal and the HTTP round trip take the rest. A model whose
own work already takes most of that cannot meet the target whatever it saves, so ``train`` measures every model
it registers (a product's own as much as the sequence and hybrid models) on the registered bundle before
promoting: a sample of held-out decision rows scored and explained one at a time in this process, through
``RiskScorer.score_one`` (the path the server takes), after a warm-up, timed in CPU seconds of the process (so a
loaded machine does not fail a model, and a model's extra threads count). The p50 and p99 go on the card
(``serving_p50_ms``, ``serving_p99_ms``: MLflow metrics of the run); over the budget the version is registered
as failed, with a message saying the measured cost and the budget, and is promoted only with
``cryptoscope models promote NAME VERSION --force``.

>>> cost = ServingCost(p50_ms=1.1, p99_ms=1.4, rows=200, budget_ms=5.0)
>>> cost.fits, cost.to_card()["serving_p99_ms"]
(True, 1.4)
>>> ServingCost(p50_ms=20.0, p99_ms=31.5, rows=200, budget_ms=5.0).refusal()
'scoring and explaining one row costs 31.5 ms at p99 (CPU, 200 rows one at a time), over the serving budget of 5.0 ms'
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ModelCard
from cryptoscope.models.bundle import ModelBundle
from cryptoscope.models.registry import RegisteredModel
from cryptoscope.risk.products import Product
from cryptoscope.risk.scorer import RiskScorer

#: The model's share of one request, in milliseconds of CPU at p99: half of the 10 ms p99 serving target, the
#: other half left to the online features, the row, the journal and HTTP. On their row paths (``fastscore.py``)
#: the LightGBM products measure 0.2-0.5 ms and the KYC and deposit logistic regressions 0.1-0.2 ms (8-12 ms on
#: the frame path before ``FastLinear``), so they pass with room; the sequence and hybrid models measured 26 and
#: 47 ms (``serve_sequence.json``) and are refused.
SERVING_BUDGET_MS = 5.0
#: overrides ``SERVING_BUDGET_MS`` (a faster serving machine, a looser target)
BUDGET_ENV = "CRYPTOSCOPE_SERVING_BUDGET_MS"
#: rows timed (their p99 is the 3rd slowest) and rows scored first to warm caches and lazy initialisation
SAMPLE_ROWS, WARMUP_ROWS = 200, 20
#: rows the reason explainer is fitted on before timing, as the server fits it on its reference rows
REFERENCE_ROWS = 100


@dataclass(frozen=True)
class ServingCost:
    """What one row cost to score and explain (CPU milliseconds) and the budget it was judged against."""

    p50_ms: float
    p99_ms: float
    rows: int
    budget_ms: float

    @property
    def fits(self) -> bool:
        return self.p99_ms <= self.budget_ms

    def refusal(self) -> str:
        """Why the model is not promoted, in words (empty when it fits)."""
        if self.fits:
            return ""
        return (f"scoring and explaining one row costs {self.p99_ms:.1f} ms at p99 (CPU, {self.rows} rows one at a "
                f"time), over the serving budget of {self.budget_ms:.1f} ms")

    def to_card(self) -> dict[str, float]:
        """The card's ``serving`` entry (each one an MLflow metric of the run)."""
        return {"serving_p50_ms": self.p50_ms, "serving_p99_ms": self.p99_ms, "serving_rows": float(self.rows),
                "serving_budget_ms": self.budget_ms}


def serving_budget_ms(override: float | None = None) -> float:
    """The budget: ``override``, else ``$CRYPTOSCOPE_SERVING_BUDGET_MS``, else ``SERVING_BUDGET_MS``."""
    raw: Any = override if override is not None else os.environ.get(BUDGET_ENV, "").strip() or SERVING_BUDGET_MS
    try:
        budget = float(raw)
    except ValueError:
        raise CryptoscopeError(f"${BUDGET_ENV} must be a number of milliseconds, not {raw!r}") from None
    if not budget > 0:
        raise CryptoscopeError(f"the serving budget must be a positive number of milliseconds, not {raw!r}")
    return budget


def measure(product: Product, bundle: ModelBundle, card: ModelCard, rows: pd.DataFrame, reference: pd.DataFrame, *,
            budget_ms: float, sample: int = SAMPLE_ROWS, warmup: int = WARMUP_ROWS,
            row_path: bool = True) -> ServingCost:
    """Score and explain ``sample`` of ``rows`` (held-out decision rows, with the columns the model reads) one at a
    time as the server does, after its reasons are fitted on ``reference`` rows; the CPU cost per row.

    ``row_path=False`` times the frame path instead (a one-row frame, ``bundle.score``, the explainer), which the
    server takes for a model without a checked row path (``fastscore.py``): for comparisons only."""
    if rows.empty:
        raise CryptoscopeError(f"{card.name}: no held-out row to measure the serving cost on")
    scorer = RiskScorer(product.kind)
    scorer.model_ = RegisteredModel(card.name, card.version, bundle, card, Path())
    scorer.fit_reasons(_records(reference.head(REFERENCE_ROWS)))
    if not row_path:
        scorer.fast_, scorer.fast_note_ = None, "switched off to time the frame path"
    records = _records(_spread(rows, sample + warmup))
    for row in records[:warmup]:
        scorer.score_one(row)
    timed = records[warmup:] or records  # a tiny frame: time the warm-up rows again rather than nothing
    costs = np.empty(len(timed))
    for i, row in enumerate(timed):
        start = time.process_time()
        scorer.score_one(row)
        costs[i] = time.process_time() - start
    ms = costs * 1000.0
    return ServingCost(float(np.percentile(ms, 50)), float(np.percentile(ms, 99)), len(timed), budget_ms)


def _spread(rows: pd.DataFrame, n: int) -> pd.DataFrame:
    """``n`` rows evenly spread over ``rows`` (all of them when fewer): a fixed, repeatable sample."""
    if len(rows) <= n:
        return rows
    return rows.iloc[np.linspace(0, len(rows) - 1, n).round().astype(int)]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
    return out
