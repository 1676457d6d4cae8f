"""`cryptoscope behaviour segments|funnel|patterns|churn|evaluate|report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="duckdb or spark.")]
SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed of the fits.")]

behaviour_app = typer.Typer(help="User behaviour: segments, funnel, sequence patterns, churn and lifetime value.",
                            no_args_is_help=True)


def _console() -> Console:
    from cryptoscope.cli import console

    return console


@behaviour_app.command("segments")
def segments(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb", seed: SeedOpt = 0,
             write: Annotated[bool, typer.Option("--write/--no-write", help="Write behaviour_segments.")] = True,
             ) -> None:
    """Fit the segments, print each in words and numbers, write monthly membership to the lake."""
    from cryptoscope.behaviour.analysis import segment_run
    from cryptoscope.behaviour.store import write_outputs
    from cryptoscope.features import engines
    from cryptoscope.lake import Lake

    with _console().status("fitting segments"):
        result = segment_run(engines.connect(lake, engine), seed)
    for _, row in result.profiles.iterrows():
        _console().print(f"[bold]{row['segment']} {row['name']}[/]: {row['users']} users ({row['share']:.1%}); "
                         f"{row['differs']}", highlight=False)
    _console().print(f"re-fit agreement (ARI): {', '.join(f'{v:.3f}' for v in result.stability)}")
    if write:
        _console().print(write_outputs(Lake(lake), result, seed=seed))


@behaviour_app.command("funnel")
def funnel_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb") -> None:
    """Onboarding funnel of the accounts opened in the period, with drop-off per step."""
    from cryptoscope.behaviour.funnel import funnel_table, funnel_users
    from cryptoscope.behaviour.views import world_bounds
    from cryptoscope.features import engines

    con = engines.connect(lake, engine)
    start, end = world_bounds(con)
    _console().print(funnel_table(funnel_users(con, start, end)).to_string(index=False))


@behaviour_app.command("patterns")
def patterns_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb",
                 min_support: Annotated[float, typer.Option("--min-support")] = 0.05) -> None:
    """Frequent sequential patterns with support and lift."""
    from cryptoscope.behaviour.patterns import event_tokens, frequent_patterns, sequences
    from cryptoscope.behaviour.views import world_bounds
    from cryptoscope.features import engines

    con = engines.connect(lake, engine)
    start, end = world_bounds(con)
    _console().print(frequent_patterns(sequences(event_tokens(con, start, end)), min_support).to_string(index=False))


@behaviour_app.command("churn")
def churn_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb", seed: SeedOpt = 0,
              out_dir: Annotated[Path, typer.Option("--out-dir", help="Where the report goes.")] = Path("./reports"),
              ) -> None:
    """Churn and lifetime value: fit, judge on the later cut-off, write churn_scores and the HTML report."""
    from cryptoscope.behaviour.demo import run_demo

    with _console().status("segments, funnel, patterns, churn and value"):
        path = run_demo(lake, out_dir, engine=engine)
    _console().print(f"report {path}")


@behaviour_app.command("evaluate")
def evaluate_cmd(lake: LakeOpt = Path("./demo-lake"),
                 out: Annotated[Path, typer.Option("--out", help="RESULT.json")] = Path("behaviour.json"),
                 engine: EngineOpt = "duckdb", seed: SeedOpt = 0,
                 world_seed: Annotated[int | None, typer.Option("--world-seed", help="Simulation seed (found "
                                                                "from the accounts when left out).")] = None,
                 chunk_users: Annotated[int | None, typer.Option("--chunk-users")] = None) -> None:
    """Segment ARI against the world's latent user kinds; churn on the later period beside recency."""
    from cryptoscope.behaviour.evaluate import evaluate, write_evaluation

    with _console().status("evaluating"):
        figures = evaluate(lake, engine, seed=seed, world_seed=world_seed, chunk_users=chunk_users)
    write_evaluation(figures, out)
    _console().print(f"segments ARI {figures['segments_ari']:.3f}; churn ROC-AUC {figures['churn']['roc_auc']:.3f} "
                     f"PR-AUC {figures['churn']['pr_auc']:.3f}; recency ROC-AUC "
                     f"{figures['baselines']['recency']['roc_auc']:.3f} -> {out}")
