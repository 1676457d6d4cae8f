"""`cryptoscope demo`: simulate a world, then run every product line on it and say what came out."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cryptoscope.cli._shared import NewLakeOpt, RegistryOpt, ReportDirOpt, console, print_status, run_simulation
from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.demo import Stage

app = typer.Typer()


@app.command()
def demo(lake: NewLakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
         report_dir: ReportDirOpt = Path("./reports")) -> None:
    """The end-to-end demo: simulate a 50,000-user, 120-day world, then run every product line on it.

    The size is what the slowest labels need: KYC findings and loan outcomes take weeks, and a smaller
    world leaves each model only a handful of bad rows to learn from and be judged on."""
    from cryptoscope.demo import CONSOLE, STAGES
    from cryptoscope.lake import Lake

    run_simulation(Path(lake), 50_000, 120, 7, "2025-01-01", 1.0)
    print_status(Lake(lake))
    demo_risk(lake, registry, report_dir)
    demo_stages(lake, registry, report_dir, STAGES)
    console.print(
        "\n[bold]Next:[/]\n"
        f"  cryptoscope features list                          # the feature views\n"
        f"  cryptoscope features build --label card_fraud --cutoff 2025-03-01 --out train.parquet --lake {lake}\n"
        f"  cryptoscope models list --registry {registry}      # registered risk models\n"
        f"  cryptoscope cases list --lake {lake}               # the case queue (abnormal users, market abuse)\n"
        f"  cryptoscope reco recommend USER --lake {lake} --model {report_dir}/recommender.pkl  # with reasons\n"
        f"  open {report_dir}/*.html                            # every report: risk models, chain, feedback, ...\n"
        "  README.md and docs/                                 # what is simulated, computed and decided")
    demo_stages(lake, registry, report_dir, (CONSOLE,))


def demo_risk(lake: Path, registry: Path, report_dir: Path) -> None:
    """Train every risk product; a product without labelled test data yet is reported, not faked."""
    from cryptoscope.risk.products import KINDS
    from cryptoscope.risk.scoring import score
    from cryptoscope.risk.training import train

    for kind in KINDS:
        try:
            with console.status(f"training {kind} risk"):
                result = train(kind, lake, registry, report_dir=report_dir)
        except CryptoscopeError as exc:
            console.print(f"[yellow]{kind}: not trained[/] — {exc}", highlight=False)
            continue
        ev = result.evaluation
        console.print(f"[bold]{kind}[/] v{result.version}: test PR-AUC {ev.model.pr_auc:.3f} (rules "
                      f"{ev.rules.pr_auc:.3f}); cost ${ev.model.cost:,.0f} vs rules ${ev.rules.cost:,.0f} -> "
                      f"{'promoted' if result.promoted else 'not promoted'}; report {result.report}", highlight=False)
        if result.promoted:
            run = score(kind, lake, registry)
            console.print(f"  scored {run.scored:,} decisions into risk_scores", highlight=False)


def demo_stages(lake: Path, registry: Path, report_dir: Path, stages: tuple[Stage, ...]) -> None:
    """The product lines after risk (``cryptoscope.demo``): a stage that cannot run on this lake says why."""
    for stage in stages:
        try:
            with console.status(stage.name):
                line = stage.run(Path(lake), Path(registry), Path(report_dir))
        except CryptoscopeError as exc:
            console.print(f"[yellow]{stage.name}: not run[/] — {exc}", highlight=False)
            continue
        console.print(f"[bold]{stage.name}[/]: {line}", highlight=False)
