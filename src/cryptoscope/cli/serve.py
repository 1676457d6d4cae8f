"""`cryptoscope serve`: the API and console with uvicorn; `serve create-user|create-key|revoke-key|demo` for
access."""

from __future__ import annotations

import dataclasses
import getpass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cryptoscope.cli._shared import LakeOpt, RegistryOpt, progress_task
from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.serve.auth import AuthStore

StateOpt = Annotated[Path | None, typer.Option("--work", help="Serving state folder (default <lake>/_serve).")]

app = typer.Typer(help="Serve the scoring API and the analyst console; manage who may use them.",
                  invoke_without_command=True)


@app.callback()
def serve(ctx: typer.Context, lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port.")] = 8000, work: StateOpt = None,
          reco_model: Annotated[Path | None, typer.Option(help="Trained recommender file.")] = None,
          secure_cookies: Annotated[bool, typer.Option(help="Mark session cookies Secure (behind TLS).")] = False,
          from_snapshot: Annotated[Path | None, typer.Option(
              "--from-snapshot", help="A first start restores this snapshot folder (a `stream run` consumer's "
                                      "work folder) instead of replaying the lake.")] = None,
          workers: Annotated[int, typer.Option(
              help="Server processes on the port, each with the whole online state, sharing the journal "
                   "(more cores' worth of requests; memory per process).")] = 1,
          batch_wait_ms: Annotated[float | None, typer.Option(
              help="Under load a scoring batch waits this long for company (one journal commit, one pass of the "
                   "model's set-up for several requests); 0: answer each at once. Default: "
                   "CRYPTOSCOPE_BATCH_WAIT_MS, else 2.")] = None,
          ) -> None:
    """Start the API (/v1, docs at /docs) and the console (/console) on the lake, the online state in memory."""
    if ctx.invoked_subcommand is not None:
        return
    from cryptoscope.serve.app import run
    from cryptoscope.serve.service import ServeConfig, Service

    if not lake.is_dir():
        raise CryptoscopeError(f"no lake at {lake}: run `cryptoscope demo` or `cryptoscope simulate` first")
    config = ServeConfig(lake=lake, registry=registry, work=work, reco_model=reco_model, secure_cookies=secure_cookies,
                         from_snapshot=from_snapshot)
    if batch_wait_ms is not None:
        if batch_wait_ms < 0:
            raise CryptoscopeError(f"--batch-wait-ms must be 0 or more, not {batch_wait_ms}")
        config = dataclasses.replace(config, batch_wait_ms=batch_wait_ms)
    title = "replaying the lake into the online state (a restart restores a snapshot)"
    if workers != 1:
        from cryptoscope.serve.workers import prepare, serve_workers

        with progress_task(title) as show:
            prepare(config, workers, show)
        typer.echo(f"console: http://{host}:{port}/console/   API docs: http://{host}:{port}/docs   "
                   f"({workers} processes, each restoring the snapshot first)")
        serve_workers(config, host, port, workers)
        return
    with progress_task(title) as show:
        service = Service(config, show)
    typer.echo(f"console: http://{host}:{port}/console/   API docs: http://{host}:{port}/docs")
    run(config, host, port, service=service)


def _auth(lake: Path, work: Path | None) -> AuthStore:
    from cryptoscope.serve.auth import AuthStore

    return AuthStore(work or lake / "_serve")


@app.command("create-user")
def create_user(name: Annotated[str, typer.Argument(help="Login name.")],
                role: Annotated[str, typer.Option(help="analyst or admin.")] = "analyst",
                pii: Annotated[bool, typer.Option(help="May see personal data (admins always may).")] = False,
                lake: LakeOpt = Path("./demo-lake"), work: StateOpt = None) -> None:
    """Create (or reset) a console user; the password is asked for, twice."""
    password = getpass.getpass("password: ")
    if password != getpass.getpass("again: "):
        raise CryptoscopeError("the two passwords differ")
    _auth(lake, work).add_user(name, role, password, pii=pii)
    typer.echo(f"user {name} ({role}{', personal data' if pii or role == 'admin' else ''}) saved")


@app.command("create-key")
def create_key(name: Annotated[str, typer.Argument(help="Service name.")],
               role: Annotated[str, typer.Option(help="service or admin.")] = "service",
               lake: LakeOpt = Path("./demo-lake"), work: StateOpt = None) -> None:
    """Create an API key (shown once; only its scrypt hash is stored)."""
    typer.echo(_auth(lake, work).create_key(name, role))


@app.command("revoke-key")
def revoke_key(key: Annotated[str, typer.Argument(help="The key's id (the 12 characters after cs_) or the key.")],
               lake: LakeOpt = Path("./demo-lake"), work: StateOpt = None) -> None:
    """Revoke an API key; running servers refuse it within a second."""
    from cryptoscope.serve.auth import RECHECK_S

    key_id = key.removeprefix("cs_").split(".", 1)[0]
    if not _auth(lake, work).revoke_key(key_id):
        raise CryptoscopeError(f"no API key with id {key_id!r} in {work or lake / '_serve'}")
    typer.echo(f"key cs_{key_id} revoked; servers refuse it within {RECHECK_S:g} s")


@app.command("demo")
def demo(lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
         host: Annotated[str, typer.Option(help="Address the server will listen on.")] = "127.0.0.1",
         port: Annotated[int, typer.Option(help="Port.")] = 8000) -> None:
    """Create a demo admin and analyst with fresh passwords and print the console URL and logins."""
    from cryptoscope.serve.demo import prepare

    typer.echo(prepare(lake, registry, host=host, port=port))
