"""`cryptoscope reco train|batch|evaluate|recommend`, and `reco benchmark movielens` (Recommenders' protocol)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from cryptoscope.cli._shared import LakeOpt, RegistryOpt, console, log_benchmark

ModelOpt = Annotated[Path, typer.Option("--model", help="Where the trained recommender is saved.")]
DEFAULT_MODEL = Path("reco-model/recommender.pkl")

app = typer.Typer(help="Personalised, suitable product recommendations: train, evaluate, recommend, batch.",
                  no_args_is_help=True)
benchmark_app = typer.Typer(help="Outside benchmarks for the recommender.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")


@app.command("train")
def reco_train(lake: LakeOpt = Path("./demo-lake"), model: ModelOpt = DEFAULT_MODEL,
               batch: Annotated[bool, typer.Option(help="Also write every user's top-k to the lake.")] = True,
               k: Annotated[int, typer.Option(help="List length of the batch.")] = 10) -> None:
    """Fit ALS, BPR, EASE and the LightGBM re-ranker on the whole lake, save the model, write the batch."""
    from cryptoscope.reco.serve import train, write_batch

    with console.status("training the recommender"):
        recommender, _ = train(lake, model)
    console.print(f"trained at {recommender.as_of} (days since 1970); saved {model}", highlight=False)
    if batch:
        run = write_batch(recommender, lake, k=k)
        console.print(f"{run.users:,} users: {run.rows:,} recommendations as of {run.as_of}, {run.added:,} new "
                      f"rows in the lake table recommendations (model {run.model_version})", highlight=False)


@app.command("batch")
def reco_batch(lake: LakeOpt = Path("./demo-lake"), model: ModelOpt = DEFAULT_MODEL,
               k: Annotated[int, typer.Option(help="List length.")] = 10) -> None:
    """Write every user's top-k from the saved model into the lake table recommendations (idempotent per day)."""
    from cryptoscope.reco.model import Recommender
    from cryptoscope.reco.serve import write_batch

    run = write_batch(Recommender.load(model), lake, k=k)
    console.print(f"{run.users:,} users: {run.rows:,} recommendations as of {run.as_of}, {run.added:,} new rows "
                  f"(model {run.model_version})", highlight=False)


@app.command("evaluate")
def reco_evaluate(lake: LakeOpt = Path("./demo-lake"),
                  horizon: Annotated[int, typer.Option(help="Days in the test period (and the ranker's "
                                                           "label window).")] = 14,
                  out: Annotated[Path | None, typer.Option("--out", help="Also write the figures as JSON.")] = None
                  ) -> None:
    """Train on the past, judge on the last HORIZON days: recall/nDCG/MAP@10, coverage, novelty, violations."""
    from cryptoscope.reco.data import load
    from cryptoscope.reco.evaluate import evaluate

    with console.status("evaluating on a time split") as status:
        result = evaluate(load(lake), horizon=horizon, progress=lambda msg: status.update(msg))
    table = RichTable(title=f"test: last {horizon} days, {result.users:,} users ({result.new_users:,} new)")
    columns = ("recall_at_10", "ndcg_at_10", "map_at_10", "coverage", "novelty", "suitability_violation_share",
               "ndcg_at_10_new_users")
    table.add_column("model")
    for c in columns:
        table.add_column(c.replace("_at_10", "@10").replace("_", " "), justify="right")
    for name, figures in result.models.items():
        table.add_row(name, *(f"{figures[c]:.3f}" for c in columns))
    console.print(table)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=2) + "\n")


@app.command("recommend")
def reco_recommend(user: Annotated[int, typer.Argument(help="user_id.")], lake: LakeOpt = Path("./demo-lake"),
                   model: ModelOpt = DEFAULT_MODEL, k: Annotated[int, typer.Option(help="How many.")] = 10) -> None:
    """One user's top-k with reasons, from the saved model (trained on LAKE if none is saved yet)."""
    from cryptoscope.reco.model import Recommender
    from cryptoscope.reco.serve import train

    if model.exists():
        recommender = Recommender.load(model)
    else:
        with console.status(f"no model at {model}: training on {lake}"):
            recommender, _ = train(lake, model)
    recs = recommender.recommend(user, k)
    level = recs[0].level if recs else int(recommender.snap.state.level[int(recommender.user_ids.searchsorted(user))])
    table = RichTable(title=f"user {user}: suitability level {level}")
    for c in ("#", "product", "type", "risk", "reason"):
        table.add_column(c)
    for r in recs:
        table.add_row(str(r.rank), r.item_id, r.item_type, str(r.item_risk), r.reason)
    console.print(table)


@benchmark_app.command("movielens")
def reco_benchmark_movielens(
        data: Annotated[Path, typer.Option("--data", help="Folder with MovieLens-100k's u.data.")] = Path(
            "../shared/data/movielens-100k"),
        out: Annotated[Path, typer.Option("--out", help="Result JSON.")] = Path("movielens.json"),
        seed: Annotated[int, typer.Option(help="Split seed (Recommenders uses 42).")] = 42,
        registry: RegistryOpt = Path("./models-registry")) -> None:
    """Microsoft Recommenders' protocol (stratified 75/25 per user, top-10, seen items excluded); logged as an
    MLflow run (experiment benchmark_movielens) in the registry's tracking store."""
    from cryptoscope.benchmarks.movielens import PUBLISHED, benchmark

    with console.status("MovieLens-100k benchmark"):
        measured = benchmark(data, seed=seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"protocol": "stratified 75/25 per user, seed 42, top-10, implicit, seen excluded",
                               "models": measured, "published": PUBLISHED}, indent=2) + "\n")
    table = RichTable(title="MovieLens-100k (measured; published: Recommenders' README)")
    for c in ("model", "nDCG@10", "MAP", "P@10", "R@10"):
        table.add_column(c)
    for name, f in [*((f"{n} (measured)", v) for n, v in measured.items()),
                    *((f"{n} (published)", v) for n, v in PUBLISHED.items())]:
        table.add_row(name, *(f"{f[c]:.3f}" for c in ("ndcg_at_10", "map_at_10", "precision_at_10", "recall_at_10")))
    console.print(table)
    command = shlex.join(["cryptoscope", "reco", "benchmark", "movielens", "--data", str(data), "--out", str(out),
                          "--seed", str(seed)])
    log_benchmark(registry, "benchmark_movielens", measured, command, files=(out,))
