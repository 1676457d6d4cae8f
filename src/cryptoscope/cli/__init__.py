"""The `cryptoscope` command: one Typer group per module, errors as one clear line.

Every module here exports ``app``; this one only puts them together. The root commands (`schema`,
`ingest`, `simulate`, `demo`) join without a name, the groups under theirs, in the order of the README.
"""

from __future__ import annotations

import typer

from cryptoscope.cli import (
    anomaly,
    behaviour,
    cases,
    chain,
    data,
    demo,
    features,
    feedback,
    graph,
    lake,
    models,
    products,
    reco,
    risk,
    run,
    serve,
    stream,
    surveillance,
)
from cryptoscope.cli._shared import err_console
from cryptoscope.errors import CryptoscopeError

app = typer.Typer(
    help="cryptoscope: risk, abnormal users, on-chain analytics, personalization and feedback for an exchange.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
GROUPS: tuple[tuple[typer.Typer, str | None], ...] = (
    (data.app, None), (demo.app, None), (run.app, None), (products.app, "products"), (lake.app, "lake"),
    (features.app, "features"), (risk.app, "risk"),
    (models.app, "models"), (graph.app, "graph"), (anomaly.app, "anomaly"), (cases.app, "cases"),
    (chain.app, "chain"), (reco.app, "reco"), (feedback.app, "feedback"), (surveillance.app, "surveillance"),
    (behaviour.app, "behaviour"), (serve.app, "serve"), (stream.app, "stream"),
)
for group, name in GROUPS:
    app.add_typer(group, name=name)


def main() -> None:
    """Entry point: user errors become exit code 2 and one line on stderr, never a traceback."""
    try:
        app()
    except CryptoscopeError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise SystemExit(2) from None
