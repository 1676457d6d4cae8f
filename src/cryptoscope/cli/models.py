"""`cryptoscope models list|show|promote|migrate`: the model registry (MLflow's) and which version scores.

The registry is the MLflow tracking URI of ``$MLFLOW_TRACKING_URI``, else the SQLite store inside ``--registry``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import RegistryOpt, console

app = typer.Typer(help="The model registry (MLflow; $MLFLOW_TRACKING_URI, else a SQLite store in --registry): "
                  "versions, model cards, which version scores.", no_args_is_help=True)


@app.command("list")
def models_list(registry: RegistryOpt = Path("./models-registry")) -> None:
    """Every registered model version; * marks the promoted one."""
    from cryptoscope.models import Registry

    versions = Registry(registry).list()
    if not versions:
        console.print(f"no models in {registry}")
    for v in versions:
        console.print(f"{'*' if v.promoted else ' '} {v.name:<20} v{v.version:<4} {v.created}", highlight=False)


@app.command("show")
def models_show(name: Annotated[str, typer.Argument(help="Model name, e.g. risk_payment.")],
                version: Annotated[int | None, typer.Option(help="Version (default: promoted).")] = None,
                registry: RegistryOpt = Path("./models-registry")) -> None:
    """The model card: data window, features, metrics, thresholds, costs, artifacts."""
    from cryptoscope.models import Registry

    card = Registry(registry).show(name, version)
    console.print_json(json.dumps(card.to_dict(), default=str))


@app.command("promote")
def models_promote(name: Annotated[str, typer.Argument(help="Model name.")],
                   version: Annotated[int, typer.Argument(help="Version that scores from now on.")],
                   force: Annotated[bool, typer.Option(
                       "--force", help="Promote even a version whose evaluation failed (it cost more than "
                                       "the rules on its test period).")] = False,
                   registry: RegistryOpt = Path("./models-registry")) -> None:
    """Make a version the champion: the one `risk score`, `serve`, the stream and the API load."""
    from cryptoscope.models import Registry

    Registry(registry).promote(name, version, force=force)
    console.print(f"{name} v{version} promoted (alias 'champion')")


@app.command("migrate")
def models_migrate(registry: RegistryOpt = Path("./models-registry")) -> None:
    """Copy every version of a registry folder of the former format into MLflow's registry (twice adds nothing)."""
    from cryptoscope.models import FolderRegistry, Registry
    from cryptoscope.models.migrate import migrate

    target = Registry(registry)
    done = migrate(FolderRegistry(registry), target, progress=lambda m: console.print(
        f"{m.name} v{m.old_version} -> v{m.new_version}{' (champion)' if m.champion else ''}", highlight=False))
    console.print(f"{len(done)} versions in {target.tracking_uri}" if done else f"no folder models in {registry}")


@app.command("ui")
def models_ui(registry: RegistryOpt = Path("./models-registry")) -> None:
    """How to open MLflow's UI on this registry: every run (parameters, metrics, plots) and every version."""
    from cryptoscope.models.tracking import ui_command

    console.print(ui_command(registry), highlight=False)
