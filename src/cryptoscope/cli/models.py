"""`cryptoscope models list|show|promote`: the model registry and which version scores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import RegistryOpt, console

app = typer.Typer(help="The model registry: versions, model cards, which version scores.", no_args_is_help=True)


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
                   registry: RegistryOpt = Path("./models-registry")) -> None:
    """Make a version the one `risk score` and the API load."""
    from cryptoscope.models import Registry

    Registry(registry).promote(name, version)
    console.print(f"{name} v{version} promoted")
