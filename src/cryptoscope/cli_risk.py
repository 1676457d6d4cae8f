"""`cryptoscope risk train|evaluate|score` and `cryptoscope models list|show|promote`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from cryptoscope.errors import CryptoscopeError

KindArg = Annotated[str, typer.Argument(
    help="kyc, payment, withdrawal, credit, or deposit (after `chain score-transfers`).")]
LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder.")]
RegistryOpt = Annotated[Path, typer.Option("--registry", help="Model registry folder.")]
ReportOpt = Annotated[Path, typer.Option("--report-dir", help="Where the HTML evaluation reports go.")]

models_app = typer.Typer(help="The model registry: versions, model cards, which version scores.",
                         no_args_is_help=True)


def _console() -> Console:
    from cryptoscope.cli import console

    return console


def _kind(kind: str) -> str:
    from cryptoscope.risk.products import ALL_KINDS

    if kind not in ALL_KINDS:
        raise CryptoscopeError(f"unknown risk kind {kind!r}; known: {', '.join(ALL_KINDS)}")
    return kind


def register(risk_app: typer.Typer) -> None:
    """Add the product commands to the `risk` group (which also holds the outside benchmarks)."""
    risk_app.command("train")(risk_train)
    risk_app.command("evaluate")(risk_evaluate)
    risk_app.command("score")(risk_score)


def risk_train(kind: KindArg, lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
               report_dir: ReportOpt = Path("./reports")) -> None:
    """Fit on history, judge on the later test period, register; promote only if it beats the rules on cost."""
    from cryptoscope.risk.training import train

    with _console().status(f"training {kind} risk"):
        result = train(_kind(kind), lake, registry, report_dir=report_dir)
    out = _console()
    out.print(result.evaluation.summary(), highlight=False)
    verdict = "promoted" if result.promoted else "registered, NOT promoted (the rules cost less on the test period)"
    out.print(f"{result.card.name} v{result.version} {verdict}; report {result.report}")


def risk_evaluate(kind: KindArg, lake: LakeOpt = Path("./demo-lake"),
                  registry: Annotated[Path | None, typer.Option("--registry", help="Judge a registered version "
                                                                 "instead of fitting in memory.")] = None,
                  version: Annotated[int | None, typer.Option(help="Registered version (default: promoted).")] = None
                  ) -> None:
    """ML against the rules on the test period: ROC-AUC, PR-AUC, precision/recall at k, cost and saving."""
    from cryptoscope.risk.training import evaluate

    with _console().status(f"evaluating {kind} risk"):
        evaluation = evaluate(_kind(kind), lake, registry_root=registry, version=version)
    _console().print(evaluation.summary(), highlight=False)


def risk_score(kind: KindArg, lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
               since: Annotated[str | None, typer.Option(help="Only decisions from this UTC date on.")] = None) -> None:
    """Batch-score decisions with the promoted model into the lake table risk_scores, with reasons in words."""
    from cryptoscope.risk.scoring import score

    start = None
    if since:
        try:
            start = dt.datetime.fromisoformat(since).replace(tzinfo=dt.UTC)
        except ValueError:
            raise CryptoscopeError(f"--since must look like 2025-03-01 (got {since!r})") from None
    with _console().status(f"scoring {kind} decisions"):
        run = score(_kind(kind), lake, registry, since=start)
    _console().print(f"{run.model_name} v{run.model_version}: scored {run.scored:,} decisions, "
                     f"added {run.added:,} rows to risk_scores ({run.scored - run.added:,} were already there)")


@models_app.command("list")
def models_list(registry: RegistryOpt = Path("./models-registry")) -> None:
    """Every registered model version; * marks the promoted one."""
    from cryptoscope.models import Registry

    versions = Registry(registry).list()
    if not versions:
        _console().print(f"no models in {registry}")
    for v in versions:
        _console().print(f"{'*' if v.promoted else ' '} {v.name:<20} v{v.version:<4} {v.created}", highlight=False)


@models_app.command("show")
def models_show(name: Annotated[str, typer.Argument(help="Model name, e.g. risk_payment.")],
                version: Annotated[int | None, typer.Option(help="Version (default: promoted).")] = None,
                registry: RegistryOpt = Path("./models-registry")) -> None:
    """The model card: data window, features, metrics, thresholds, costs, artifacts."""
    from cryptoscope.models import Registry

    card = Registry(registry).show(name, version)
    _console().print_json(json.dumps(card.to_dict(), default=str))


@models_app.command("promote")
def models_promote(name: Annotated[str, typer.Argument(help="Model name.")],
                   version: Annotated[int, typer.Argument(help="Version that scores from now on.")],
                   registry: RegistryOpt = Path("./models-registry")) -> None:
    """Make a version the one `risk score` and the API load."""
    from cryptoscope.models import Registry

    Registry(registry).promote(name, version)
    _console().print(f"{name} v{version} promoted")
