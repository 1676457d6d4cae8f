"""The serving-cost gate's measurement (``risk/latency.py``) for every risk product's own model on a lake, on the
row path the server takes and on the frame path it falls back to, side by side.

Each product is fitted in memory as ``risk train`` fits it (nothing registered), then ``latency.measure`` scores
and explains 200 held-out test rows one at a time through ``RiskScorer.score_one`` after 20 warm-up rows, in CPU
time of the process, ``--repeats`` times per path: the row path (``fastscore.FastModel`` for LightGBM,
``FastLinear`` for the logistic regressions) is what ``train`` judges against the 5 ms budget; the frame path (a
one-row frame, ``bundle.score``, the reason explainer) is what a model without a checked row path costs, and what
KYC's and deposits' logistic regressions cost before ``FastLinear``. The deposit product needs the chain stage's
``chain_exposure`` (the demo lake has it); without it the product is reported as skipped.

    python benchmarks/risk_serving.py --lake demo-lake          # -> benchmarks/results/risk_serving.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from cryptoscope.errors import CryptoscopeError
from cryptoscope.fsio import atomic_write
from cryptoscope.models import TrainedModel
from cryptoscope.models.registry import RegisteredModel
from cryptoscope.risk import latency
from cryptoscope.risk.products import ALL_KINDS, get_product
from cryptoscope.risk.scorer import RiskScorer
from cryptoscope.risk.training import fit

RESULTS = Path(__file__).parent / "results" / "risk_serving.json"


def row_path(kind: str, trained: TrainedModel) -> str:
    """The row path the server would take for this model (or why none), as ``fit_reasons`` decides it."""
    scorer = RiskScorer(kind)
    scorer.model_ = RegisteredModel(trained.card.name, trained.card.version, trained.bundle, trained.card, Path())
    scorer.fit_reasons(trained.split.valid.head(latency.REFERENCE_ROWS).to_dict("records"))
    return type(scorer.fast_).__name__ if scorer.fast_ is not None else f"none ({scorer.fast_note_})"


def timings(kind: str, trained: TrainedModel, repeats: int, *, on_row_path: bool) -> dict[str, Any]:
    """p50 and p99 (CPU ms per row) of ``repeats`` measurements on one path, each as the gate takes it."""
    costs = [latency.measure(get_product(kind), trained.bundle, trained.card, trained.split.test, trained.split.valid,
                             budget_ms=latency.SERVING_BUDGET_MS, row_path=on_row_path) for _ in range(repeats)]
    return {"p50_ms": [round(c.p50_ms, 3) for c in costs], "p99_ms": [round(c.p99_ms, 3) for c in costs],
            "rows": costs[0].rows, "fits_budget": all(c.fits for c in costs)}


def product(kind: str, lake: Path, repeats: int) -> dict[str, Any]:
    """One product: its model family, the row path, and both paths' timings."""
    started = time.perf_counter()
    try:
        trained = fit(kind, lake)[0]
    except CryptoscopeError as exc:  # e.g. deposit without the chain stage
        return {"skipped": str(exc)}
    return {"estimator": trained.card.estimator.split("(")[0], "features": len(trained.card.features),
            "row_path": row_path(kind, trained), "row": timings(kind, trained, repeats, on_row_path=True),
            "frame": timings(kind, trained, repeats, on_row_path=False),
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lake", type=Path, required=True)
    parser.add_argument("--kinds", nargs="+", default=list(ALL_KINDS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="The 'future.infer_string' option is deprecated")
    out = {}
    for kind in args.kinds:
        out[kind] = product(kind, args.lake, args.repeats)
        print(kind, json.dumps(out[kind]), flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    results = {"benchmark": "CPU cost of scoring and explaining one risk decision, as the serving-cost gate times it",
               "lake": str(args.lake), "budget_ms": latency.SERVING_BUDGET_MS, "products": out,
               "command": shlex.join(["python", "benchmarks/risk_serving.py", *sys.argv[1:]]),
               "machine": f"{os.cpu_count()} cores (load {load:.1f} at the end), {platform.python_implementation()} "
                          f"{platform.python_version()}; CPU times of this process, so others' load counts less"}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.results, (json.dumps(results, indent=2) + "\n").encode())
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
