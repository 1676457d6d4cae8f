"""`cryptoscope stream broker|publish|run`: a real event stream (NATS JetStream) in, scores and alerts out."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from cryptoscope.cli._shared import LakeOpt, RegistryOpt, console, err_console, progress_task, utc_time
from cryptoscope.errors import CryptoscopeError

app = typer.Typer(help="Event streams: a NATS broker, the lake published as a live feed, and the stream consumer.")

UrlOpt = Annotated[str, typer.Option("--url", envvar="CRYPTOSCOPE_NATS_URL",
                                     help="Broker URL: nats://HOST:PORT, nats://USER:PASSWORD@HOST:PORT or "
                                          "nats://TOKEN@HOST:PORT.")]
CredsOpt = Annotated[Path | None, typer.Option("--creds", help="A NATS credentials file (user JWT and key).")]
SinceOpt = Annotated[str | None, typer.Option("--since", help="First event time the stream carries, e.g. 2025-03-01.")]


@app.command("broker")
def broker(data: Annotated[Path, typer.Option("--data", help="Folder for the streams' files.")] = Path("./nats-data"),
           host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
           port: Annotated[int, typer.Option(help="Port.")] = 4222) -> None:
    """Run a NATS server with JetStream in the foreground (Ctrl-C stops it)."""
    from cryptoscope.stream import broker as nats_broker

    process = nats_broker.start(data, host, port)
    console.print(f"NATS with JetStream on nats://{host}:{port}, streams in {data}; Ctrl-C stops it")
    try:
        process.wait()
    except KeyboardInterrupt:
        nats_broker.stop(process)


@app.command("publish")
def publish(lake: LakeOpt = Path("./demo-lake"), url: UrlOpt = "nats://127.0.0.1:4222", since: SinceOpt = None,
            until: Annotated[str | None, typer.Option("--until", help="Stop before this event time.")] = None,
            rate: Annotated[float | None, typer.Option("--rate", help="Events per second (default: as fast as "
                                                                     "the broker stores them).")] = None,
            creds: CredsOpt = None) -> None:
    """Publish the lake's events from --since on to events.<table>, in event-time order, as a live feed."""
    from cryptoscope.lake import Lake
    from cryptoscope.stream.publish import publish as run_publish

    if not lake.is_dir():
        raise CryptoscopeError(f"no lake at {lake}")
    if rate is not None and rate <= 0:
        raise CryptoscopeError("--rate must be positive")
    start = utc_time(since, "--since") if since else None
    end = utc_time(until, "--until") if until else None
    with progress_task("publishing events") as show:
        done = asyncio.run(run_publish(Lake(lake), url, since=start, until=end, rate=rate, credentials=creds,
                                       progress=show))
    parts = ", ".join(f"{t} {n}" for t, n in sorted(done.by_table.items()))
    console.print(f"published {done.events} events in {done.seconds:.1f} s "
                  f"({done.events / max(done.seconds, 1e-9):,.0f}/s): {parts}")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@app.command("run")
def run(lake: LakeOpt = Path("./demo-lake"), url: UrlOpt = "nats://127.0.0.1:4222",
        registry: RegistryOpt = Path("./models-registry"), since: SinceOpt = None,
        until_idle: Annotated[float | None, typer.Option("--until-idle", help="Exit after this many seconds with "
                                                         "nothing pending (default: run until stopped).")] = None,
        partition: Annotated[str, typer.Option("--partition", help="I/N: this process's share of N.")] = "0/1",
        batch: Annotated[int, typer.Option(help="Most messages per fetch (their decisions go out together).")] = 500,
        commit_every: Annotated[float, typer.Option("--commit-every", help="Seconds between lake commits (and "
                                                    "acknowledgements) while busy.")] = 2.0,
        metrics_port: Annotated[int | None, typer.Option("--metrics-port", help="Serve Prometheus metrics "
                                                         "on this port.")] = None,
        report: Annotated[Path | None, typer.Option("--report", help="Write what the run did as JSON here.")] = None,
        creds: CredsOpt = None) -> None:
    """Consume events.<table>: online features, risk scores to scores.<kind> and risk_scores, surveillance alerts
    to alerts.<typology>, surveillance_alerts and the case queue; raw events into the lake. Exactly once in effect."""
    from cryptoscope.stream.consumer import Consumer, RunConfig
    from cryptoscope.stream.partition import Partition

    config = RunConfig(lake=lake, url=url, registry=registry, since=utc_time(since, "--since") if since else None,
                       until_idle=until_idle, partition=Partition.parse(partition), credentials=creds, batch=batch,
                       commit_every_s=commit_every)
    columns = (SpinnerColumn(), TextColumn("[bold]{task.description}"), TextColumn("{task.completed:,} events"),
               TimeElapsedColumn())
    with Progress(*columns, console=err_console) as bar:
        task = bar.add_task("starting", total=None)
        consumer = Consumer(config, lambda what, done, total: bar.update(task, description=what, completed=done))
        if metrics_port is not None:
            consumer.metrics.serve(metrics_port)
        signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as Ctrl-C does: nothing committed is lost
        begun = time.perf_counter()
        try:
            stats = consumer.run()
        except KeyboardInterrupt:
            console.print("stopped; the next start resumes from the committed position")
            return
    if report is not None:
        report.write_text(json.dumps(dataclasses.asdict(stats), indent=1) + "\n")
    rate = stats.processed / max(stats.busy_s or time.perf_counter() - begun, 1e-9)
    start = "restored a snapshot" if stats.restored_at is not None else f"warmed from {stats.warmed:,} lake events"
    console.print(f"{start}; {stats.processed:,} events ({rate:,.0f}/s), {stats.decisions:,} decisions, "
                  f"{stats.alerts} alerts, {stats.dead} dead letters, {stats.caught_up:,} re-fed after a restart; "
                  f"committed up to message {stats.cursor}")
