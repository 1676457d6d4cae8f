"""The withdrawal product's deep models against its boosted trees on the simulated world, in one run.

On one labelled frame (the product's decisions, labels as known at the build date, `risk.frames`), the
shipped model (``lightgbm``), the sequence model and the hybrid (`risk.estimators`) are each fitted on the
train period, calibrated and given thresholds on the validation period, and judged on the later test period
against the rules, as ``cryptoscope risk train withdrawal --model NAME`` does: ROC-AUC, average precision,
precision at k (k = the decisions the rules flag), and the cost of the decisions. Each with its wall and CPU
seconds (`time.process_time`, this process: the frame is built once and counted apart).

>>> runs = compare_models("demo-lake", seeds=(7,))                  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptoscope.lake import connect
from cryptoscope.models.metrics import precision_at_k
from cryptoscope.risk.frames import labelled_frame
from cryptoscope.risk.plan import TimePlan
from cryptoscope.risk.products import get_product
from cryptoscope.risk.sequences import SEQUENCE_PRODUCTS, AccountHistory
from cryptoscope.risk.training import fit_frame

MODELS = ("lightgbm", "sequence", "hybrid")


@dataclass(frozen=True)
class ModelRun:
    """One model at one seed: its validation and test figures and what it cost to fit and judge."""

    model: str
    seed: int
    steps: int | None
    valid: dict[str, Any]
    test: dict[str, Any]
    rules: dict[str, Any]
    seconds: float
    cpu_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "seed": self.seed, "steps": self.steps, "valid": self.valid,
                "test": self.test, "rules_test": self.rules, "seconds": round(self.seconds, 1),
                "cpu_seconds": round(self.cpu_seconds, 1)}


def compare_models(lake: Any, *, kind: str = "withdrawal", models: Sequence[str] = MODELS, seeds: Sequence[int] = (7,),
                   steps: Sequence[int | None] = (None,)) -> tuple[dict[str, Any], list[ModelRun]]:
    """Every model x seed x sequence length (None: the product's) on one frame; the frame's facts and the runs."""
    con = connect(lake)
    product = get_product(kind)
    wall, cpu = time.perf_counter(), time.process_time()
    frame, bounds, sampling = labelled_frame(con, product, TimePlan())
    history = AccountHistory.load(con)
    default_steps = SEQUENCE_PRODUCTS.get(kind, {})
    setup: dict[str, Any] = {"frame_rows": len(frame), "seconds": round(time.perf_counter() - wall, 1),
             "cpu_seconds": round(time.process_time() - cpu, 1), "build_date": str(bounds.build_date),
             "train_end": str(bounds.train_end), "valid_end": str(bounds.valid_end),
             "default_steps": default_steps}
    runs = []
    for seed in seeds:
        for model in models:
            for length in (None,) if model == "lightgbm" else steps:
                wall, cpu = time.perf_counter(), time.process_time()
                trained, ev, _ = fit_frame(product, frame, bounds, sampling, model=model, random_state=seed,
                                           history=lambda: history, steps=length)
                valid = trained.card.metrics_valid
                runs.append(ModelRun(
                    model=model, seed=seed, steps=None if model == "lightgbm" else length or default_steps[model],
                    valid={"rows": valid.rows, "positives": valid.positives, "roc_auc": _r(valid.roc_auc),
                           "average_precision": _r(valid.pr_auc), "cost": _r(valid.cost, 0)},
                    test={"rows": ev.rows, "positives": ev.positives, "k": ev.k, **_figures(ev.model),
                          "precision_at_100": _r(precision_at_k(trained.split.test["label"], trained.p_test, 100))},
                    rules=_figures(ev.rules), seconds=time.perf_counter() - wall,
                    cpu_seconds=time.process_time() - cpu))
    return setup, runs


def _figures(side: Any) -> dict[str, Any]:
    return {"roc_auc": _r(side.roc_auc), "average_precision": _r(side.pr_auc),
            "precision_at_k": _r(side.precision_at_k), "recall_at_k": _r(side.recall_at_k), "cost": _r(side.cost, 0),
            "reviewed": side.reviewed, "blocked": side.blocked, "bad_stopped": side.bad_stopped}


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(float(value), digits)
