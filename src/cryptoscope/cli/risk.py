"""`cryptoscope risk train|evaluate|score`, and `risk benchmark fdh` (the Fraud Detection Handbook)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import LakeOpt, RegistryOpt, ReportDirOpt, console, log_benchmark, table_view, utc_time
from cryptoscope.errors import CryptoscopeError

KindArg = Annotated[str, typer.Argument(
    help="kyc, payment, withdrawal, credit, or deposit (after `chain score-transfers`).")]

app = typer.Typer(help="Risk scoring: fraud models, and how they hold up against outside benchmarks.",
                  no_args_is_help=True)
benchmark_app = typer.Typer(help="Run a published benchmark's protocol on data that went through the lake.",
                            no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")


def _kind(kind: str) -> str:
    from cryptoscope.risk.products import ALL_KINDS

    if kind not in ALL_KINDS:
        raise CryptoscopeError(f"unknown risk kind {kind!r}; known: {', '.join(ALL_KINDS)}")
    return kind


ModelOpt = Annotated[str, typer.Option(
    "--model", help="lightgbm (the product's own model, the default); for withdrawal also sequence (a GRU over the "
                    "account's events before the withdrawal) or hybrid (LightGBM + that GRU's logit)")]


@app.command("train")
def risk_train(kind: KindArg, lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
               report_dir: ReportDirOpt = Path("./reports"), model: ModelOpt = "lightgbm",
               serving_budget_ms: Annotated[float | None, typer.Option(
                   "--serving-budget-ms", help="Promote only if scoring and explaining one row costs at most this "
                   "(CPU ms at p99; default $CRYPTOSCOPE_SERVING_BUDGET_MS, else 5: half the 10 ms p99 target)")
               ] = None) -> None:
    """Fit on history, judge on the later test period, register; promote only if it beats the rules on cost
    (and, for --model sequence|hybrid, the product's own model on the same test period) and one row's scoring
    fits the serving budget. `models promote NAME VERSION --force` promotes a version that failed."""
    from cryptoscope.risk.training import train

    with console.status(f"training {kind} risk"):
        result = train(_kind(kind), lake, registry, report_dir=report_dir, model=model,
                       serving_budget_ms=serving_budget_ms)
    console.print(result.evaluation.summary(), highlight=False)
    verdict = "promoted" if result.promoted else f"registered, NOT promoted ({result.refused})"
    console.print(f"{result.card.name} v{result.version} {verdict}; report {result.report}")


@app.command("evaluate")
def risk_evaluate(kind: KindArg, lake: LakeOpt = Path("./demo-lake"),
                  registry: Annotated[Path | None, typer.Option("--registry", help="Judge a registered version "
                                                                 "instead of fitting in memory.")] = None,
                  version: Annotated[int | None, typer.Option(help="Registered version (default: promoted).")] = None,
                  model: ModelOpt = "lightgbm") -> None:
    """ML against the rules on the test period: ROC-AUC, PR-AUC, precision/recall at k, cost and saving."""
    from cryptoscope.risk.training import evaluate

    with console.status(f"evaluating {kind} risk"):
        evaluation = evaluate(_kind(kind), lake, registry_root=registry, version=version, model=model)
    console.print(evaluation.summary(), highlight=False)


@app.command("score")
def risk_score(kind: KindArg, lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
               since: Annotated[str | None, typer.Option(help="Only decisions from this UTC date on.")] = None) -> None:
    """Batch-score decisions with the promoted model into the lake table risk_scores, with reasons in words."""
    from cryptoscope.risk.scoring import score

    start = utc_time(since, "--since", "2025-03-01") if since else None
    with console.status(f"scoring {kind} decisions"):
        run = score(_kind(kind), lake, registry, since=start)
    console.print(f"{run.model_name} v{run.model_version}: scored {run.scored:,} decisions, "
                  f"added {run.added:,} rows to risk_scores ({run.scored - run.added:,} were already there)")


@benchmark_app.command("fdh")
def risk_benchmark_fdh(
    data: Annotated[Path, typer.Option("--data", help="The handbook's transactions (fdh/transactions.parquet).")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write the figures to.")],
    train_start: Annotated[str, typer.Option("--train-start", help="First training day, YYYY-MM-DD (the book's: "
                                             "2018-07-25).")] = "2018-07-25",
    lake: Annotated[Path | None, typer.Option("--lake", help="Lake to ingest into and read from (default: one per "
                                              "data file in ~/.cache/cryptoscope).")] = None,
    model: Annotated[str, typer.Option("--model", help="lightgbm (trees on aggregates), sequence (a GRU over the "
                                       "card's last payments) or hybrid (trees + the sequence model's logit).")
                     ] = "lightgbm",
    registry: RegistryOpt = Path("./models-registry"),
) -> None:
    """The Fraud Detection Handbook's protocol: 7 training days, 7 delay days, 7 test days, figures vs the book's;
    logged as an MLflow run (experiment benchmark_fdh) in the registry's tracking store."""
    import datetime as dt
    import json
    import os
    import shlex

    from cryptoscope.benchmarks.fdh import BOOK_BEST, BOOK_FIGURES, MODELS, run_fdh

    if model not in MODELS:
        raise CryptoscopeError(f"--model must be one of {', '.join(MODELS)} (got {model!r})")
    try:
        start = dt.date.fromisoformat(train_start)
    except ValueError:
        raise CryptoscopeError(f"--train-start must be a date like 2018-07-25 (got {train_start!r})") from None
    command = shlex.join(["cryptoscope", "risk", "benchmark", "fdh", "--data", str(data), "--train-start",
                          train_start, "--out", str(out), *(["--lake", str(lake)] if lake else []),
                          *(["--model", model] if model != "lightgbm" else [])])
    with console.status(f"FDH benchmark from {start}, {model}"):
        result = run_fdh(data, start, lake, model=model)
    payload = result.as_json(command)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    periods = result.periods.as_dict()
    view = table_view(f"FDH: train {' .. '.join(periods['train'])}, test {' .. '.join(periods['test'])}",
                      ("model",), ("AUC-ROC", "avg precision", "card P@100"))
    rows = [(result.model_name, result.model), (result.baseline_name, result.baseline),
            (f"book: {BOOK_BEST} (its dates)", BOOK_FIGURES[BOOK_BEST])]
    for name, s in rows:
        view.add_row(name, f"{s.auc_roc:.3f}", f"{s.average_precision:.3f}", f"{s.card_precision_at_100:.3f}")
    console.print(view)
    log_benchmark(registry, "benchmark_fdh", {k: payload[k] for k in ("auc_roc", "average_precision",
                                                                      "card_precision_at_100", "baseline", "rows")},
                  command, files=(out,), params={"train_start": train_start, "model": result.model_name})
    console.print(f"{result.rows.train:,} training and {result.rows.test:,} test payments "
                  f"({result.rows.test_removed_known_compromised:,} of known-compromised customers removed); "
                  f"wrote {out}")
