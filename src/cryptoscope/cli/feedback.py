"""`cryptoscope feedback analyze|topics|drivers|report`, and `feedback benchmark airline` (outside tweets)."""

from __future__ import annotations

import json
import os
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cryptoscope.cli._shared import (
    LakeOpt,
    RegistryOpt,
    ReportDirOpt,
    console,
    log_benchmark,
    progress_task,
    table_view,
)

if TYPE_CHECKING:
    from cryptoscope.feedback.drivers import DriverResult
    from cryptoscope.feedback.embeddings import Embedder

SampleOpt = Annotated[int | None, typer.Option("--sample", help="Score at most this many texts (a fixed sample); "
                                                "all when left out.")]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", help="Embedding cache (default "
                                               "$CRYPTOSCOPE_EMBEDDING_CACHE or ~/.cache/cryptoscope/embeddings).")]

app = typer.Typer(help="Customer feedback: sentiment, topics and what drives satisfaction.", no_args_is_help=True)
benchmark_app = typer.Typer(help="Outside benchmarks for the feedback models.", no_args_is_help=True)
app.add_typer(benchmark_app, name="benchmark")


def _embedder(cache_dir: Path | None) -> Embedder:
    from cryptoscope.feedback.embeddings import Embedder

    return Embedder(cache_dir)


@app.command("analyze")
def feedback_analyze(lake: LakeOpt = Path("./demo-lake"), sample: SampleOpt = None, cache_dir: CacheOpt = None) -> None:
    """Score every ticket and comment (sentiment, topic, category) into feedback_scores; print held-out figures."""
    from cryptoscope.feedback.analyze import analyze, write_scores
    from cryptoscope.lake import Lake

    with progress_task("embedding feedback") as show:
        result = analyze(Lake(lake), _embedder(cache_dir), sample=sample, progress=show)
    rows = write_scores(Lake(lake), result)
    view = table_view("held-out figures (latest 20 % by time)", ("task", "model"), ("test", "accuracy", "macro F1"))
    for task, res in result.evaluation.items():
        for name, s in [("ours", res["model"]), ("embeddings only", res["embedding_only"]), *res["baselines"].items()]:
            view.add_row(task, name, f"{s['n']:,}", f"{s['accuracy']:.3f}", f"{s['macro_f1']:.3f}")
    console.print(view)
    counts = result.feedback["sentiment"].value_counts().to_dict()
    console.print(f"scored {rows:,} texts into feedback_scores ({result.model_version}): "
                  + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())), highlight=False)


@app.command("topics")
def feedback_topics(lake: LakeOpt = Path("./demo-lake"), sample: SampleOpt = None, cache_dir: CacheOpt = None) -> None:
    """Topics of the lake's feedback with top terms and a quote each, and which grew this week."""
    import pandas as pd

    from cryptoscope.feedback.analyze import analyze
    from cryptoscope.feedback.trends import topic_growth
    from cryptoscope.lake import Lake

    with progress_task("embedding feedback") as show:
        result = analyze(Lake(lake), _embedder(cache_dir), sample=sample, progress=show, evaluate=False)
    model, frame = result.topics, result.feedback
    view = table_view(f"{len(model.topics)} topics in {len(frame):,} texts", ("id",), ("texts",),
                      ("label", "example"))
    for t in model.topics:
        view.add_row(str(t.topic_id), f"{t.size:,}", t.label, (t.quotes[0] if t.quotes else "")[:90])
    console.print(view)
    names = [model.label_of(int(i)) for i in model.labels_]
    growth = table_view("last 7 days vs the 7 before", ("topic",), ("now", "before", "q"), ("verdict",))
    for g in topic_growth(frame["event_time"], pd.Series(names)):
        growth.add_row(g.topic, str(g.this_week), str(g.last_week), f"{g.q_value:.3f}", g.verdict)
    console.print(growth)


def _print_drivers(result: DriverResult) -> None:
    view = table_view(f"drivers of {result.outcome} ({result.n:,} answers, R² {result.r2:.2f})", ("experience",),
                      ("effect", "95% CI", "bootstrap CI", "exposed"), ("evidence",))
    for e in result.effects:
        view.add_row(e.meaning, f"{e.effect:+.2f}", f"[{e.ci_low:+.2f}, {e.ci_high:+.2f}]",
                     f"[{e.boot_low:+.2f}, {e.boot_high:+.2f}]", f"{e.exposed:,}", e.evidence)
    console.print(view)


@app.command("drivers")
def feedback_drivers(lake: LakeOpt = Path("./demo-lake")) -> None:
    """What drives CSAT and NPS: experiences from the lake, effects with CIs, importance vs performance."""
    from cryptoscope.errors import CryptoscopeError
    from cryptoscope.feedback.drivers import csat_drivers, importance_performance, nps_drivers
    from cryptoscope.feedback.experience import survey_experience, ticket_experience
    from cryptoscope.lake import Lake

    tickets = ticket_experience(Lake(lake))
    _print_drivers(csat_drivers(tickets))
    try:
        _print_drivers(nps_drivers(survey_experience(Lake(lake))))
    except CryptoscopeError as exc:
        console.print(f"[yellow]NPS drivers not estimated[/] — {exc}", highlight=False)
    ip = importance_performance(tickets)
    view = table_view("importance vs performance by category", ("category",),
                      ("tickets", "CSAT", "gap", "gap 95% CI"), ("action",))
    for _, r in ip.iterrows():
        view.add_row(str(r["category"]), f"{r['tickets']:,}", f"{r['csat']:.2f}", f"{r['gap']:+.2f}",
                     f"[{r['gap_low']:+.2f}, {r['gap_high']:+.2f}]", str(r["action"]))
    console.print(view)


@app.command("report")
def feedback_report(lake: LakeOpt = Path("./demo-lake"), out_dir: ReportDirOpt = Path("./reports"),
                    sample: Annotated[int, typer.Option("--sample", help="Score at most this many texts.")] = 6_000,
                    cache_dir: CacheOpt = None) -> None:
    """Write the HTML feedback report (and feedback_scores) for a support lead."""
    from cryptoscope.feedback.report import write_report

    with progress_task("embedding feedback") as show:
        path = write_report(lake, out_dir, sample=sample, embedder=_embedder(cache_dir), progress=show)
    console.print(f"feedback report {path}", highlight=False)


@benchmark_app.command("airline")
def benchmark_airline(
    data: Annotated[Path, typer.Option("--data", help="Tweets.csv of Twitter US Airline Sentiment.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write the figures to.")],
    cache_dir: CacheOpt = None,
    registry: RegistryOpt = Path("./models-registry"),
) -> None:
    """3-class sentiment and complaint reasons on a split by time; ours against TF-IDF+LR and VADER; logged as
    an MLflow run (experiment benchmark_airline) in the registry's tracking store."""
    from cryptoscope.benchmarks.airline import run_benchmark

    with progress_task("embedding tweets") as show:
        result = run_benchmark(data, _embedder(cache_dir), show)
    result["command"] = shlex.join(["cryptoscope", "feedback", "benchmark", "airline", "--data", str(data),
                                    "--out", str(out)])
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n")
    os.replace(tmp, out)
    for name, s in [("ours", result["model"]), ("embeddings only", result["embedding_only"]),
                    *result["baselines"].items()]:
        console.print(f"{name:16s} accuracy {s['accuracy']:.3f}  macro-F1 {s['macro_f1']:.3f}", highlight=False)
    console.print(f"beats both baselines: {result['beats_baselines']}; figures in {out}", highlight=False)
    log_benchmark(registry, "benchmark_airline", {"ours": result["model"], **result["baselines"]}, result["command"],
                  files=(out,))
