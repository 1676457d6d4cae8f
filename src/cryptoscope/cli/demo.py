"""`cryptoscope demo`: simulate a world, `run` every product line of the registry on it, the console logins."""

from __future__ import annotations

from pathlib import Path

import typer

from cryptoscope.cli._shared import NewLakeOpt, RegistryOpt, ReportDirOpt, console, print_status, run_simulation
from cryptoscope.cli._stages import run_lines, summary_table

app = typer.Typer()


@app.command()
def demo(lake: NewLakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
         report_dir: ReportDirOpt = Path("./reports")) -> None:
    """The end-to-end demo: simulate a 50,000-user, 120-day world, then run every product line on it.

    The size is what the slowest labels need: KYC findings and loan outcomes take weeks, and a smaller
    world leaves each model only a handful of bad rows to learn from and be judged on."""
    from cryptoscope.lake import Lake
    from cryptoscope.models.tracking import ui_command

    run_simulation(Path(lake), 50_000, 120, 7, "2025-01-01", 1.0)
    print_status(Lake(lake))
    console.print(summary_table(run_lines(Lake(lake), Path(registry), Path(report_dir))))
    console.print(
        "\n[bold]Next:[/]\n"
        f"  cryptoscope products list                          # the product lines, what each reads and writes\n"
        f"  cryptoscope features build --label card_fraud --cutoff 2025-03-01 --out train.parquet --lake {lake}\n"
        f"  cryptoscope models list --registry {registry}      # registered risk models (MLflow's registry)\n"
        f"  {ui_command(registry)}  # every run: params, metrics, plots\n"
        f"  cryptoscope cases list --lake {lake}               # the case queue (abnormal users, market abuse)\n"
        f"  cryptoscope reco recommend USER --lake {lake} --model {report_dir}/recommender.pkl  # with reasons\n"
        f"  open {report_dir}/*.html                            # every report: risk models, chain, feedback, ...\n"
        "  docs/notebooks/ and docs/api.md                     # the same from Python: `import cryptoscope as cs`\n"
        "  README.md and docs/                                 # what is simulated, computed and decided")
    console_logins(Path(lake), Path(registry), Path(report_dir))


def console_logins(lake: Path, registry: Path, reports: Path) -> None:
    """Printed last, after what to run next: the logins to use now."""
    from cryptoscope.serve.demo import prepare

    model = reports / "recommender.pkl"  # where the recommendations line saved it
    logins = prepare(lake, registry, reco_model=model if model.exists() else None)
    console.print(f"[bold]console[/]: logins for the API and the analyst console:\n{logins}", highlight=False)
