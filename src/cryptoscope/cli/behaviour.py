"""`cryptoscope behaviour segments|funnel|patterns|churn|evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import EngineOpt, LakeOpt, console

SeedOpt = Annotated[int, typer.Option("--seed", help="Random seed of the fits.")]

app = typer.Typer(help="User behaviour: segments, funnel, sequence patterns, churn and lifetime value.",
                  no_args_is_help=True)


@app.command("segments")
def segments(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb", seed: SeedOpt = 0,
             write: Annotated[bool, typer.Option("--write/--no-write", help="Write behaviour_segments.")] = True,
             ) -> None:
    """Fit the segments, print each in words and numbers, write monthly membership to the lake."""
    from cryptoscope.behaviour.analysis import segment_run
    from cryptoscope.behaviour.store import write_outputs
    from cryptoscope.features import engines
    from cryptoscope.lake import Lake

    with console.status("fitting segments"):
        result = segment_run(engines.connect(lake, engine), seed)
    for _, row in result.profiles.iterrows():
        console.print(f"[bold]{row['segment']} {row['name']}[/]: {row['users']} users ({row['share']:.1%}); "
                      f"{row['differs']}", highlight=False)
    console.print(f"re-fit agreement (ARI): {', '.join(f'{v:.3f}' for v in result.stability)}")
    if write:
        console.print(write_outputs(Lake(lake), result, seed=seed))


@app.command("funnel")
def funnel_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb") -> None:
    """Onboarding funnel of the accounts opened in the period, with drop-off per step."""
    from cryptoscope.behaviour.funnel import funnel_table, funnel_users
    from cryptoscope.behaviour.views import world_bounds
    from cryptoscope.features import engines

    con = engines.connect(lake, engine)
    start, end = world_bounds(con)
    console.print(funnel_table(funnel_users(con, start, end)).to_string(index=False))


@app.command("patterns")
def patterns_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb",
                 min_support: Annotated[float, typer.Option("--min-support")] = 0.05) -> None:
    """Frequent sequential patterns with support and lift."""
    from cryptoscope.behaviour.patterns import event_tokens, frequent_patterns, sequences
    from cryptoscope.behaviour.views import world_bounds
    from cryptoscope.features import engines

    con = engines.connect(lake, engine)
    start, end = world_bounds(con)
    console.print(frequent_patterns(sequences(event_tokens(con, start, end)), min_support).to_string(index=False))


@app.command("churn")
def churn_cmd(lake: LakeOpt = Path("./demo-lake"), engine: EngineOpt = "duckdb", seed: SeedOpt = 0,
              out_dir: Annotated[Path, typer.Option("--out-dir", help="Where the report goes.")] = Path("./reports"),
              ) -> None:
    """Churn and lifetime value: fit, judge on the later cut-off, write churn_scores and the HTML report."""
    from cryptoscope.behaviour.line import BehaviourLine
    from cryptoscope.features.engines import engine_name
    from cryptoscope.lake import Lake
    from cryptoscope.productline import RunContext

    with console.status("segments, funnel, patterns, churn and value"):
        result = BehaviourLine().run(RunContext(Lake(lake), reports=out_dir, engine=engine_name(engine)))
    console.print(f"report {result.report}")


@app.command("evaluate")
def evaluate_cmd(lake: LakeOpt = Path("./demo-lake"),
                 out: Annotated[Path, typer.Option("--out", help="RESULT.json")] = Path("behaviour.json"),
                 engine: EngineOpt = "duckdb", seed: SeedOpt = 0) -> None:
    """Segment ARI against the world's latent user kinds (lake table user_kinds); churn beside recency."""
    from cryptoscope.behaviour.evaluate import evaluate, write_evaluation

    with console.status("evaluating"):
        figures = evaluate(lake, engine, seed=seed)
    write_evaluation(figures, out)
    console.print(f"segments ARI {figures['segments_ari']:.3f}; churn ROC-AUC {figures['churn']['roc_auc']:.3f} "
                  f"PR-AUC {figures['churn']['pr_auc']:.3f}; recency ROC-AUC "
                  f"{figures['baselines']['recency']['roc_auc']:.3f} -> {out}")
