"""`cryptoscope anomaly run|score-table`: the unsupervised detectors, on the lake or on any feature table; and
`cryptoscope anomaly mules train|evaluate|score`: the supervised model of mules and ring members on the harness."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import (
    DbOpt,
    LakeOpt,
    RegistryOpt,
    ReportDirOpt,
    WorkOpt,
    case_store,
    console,
    utc_time,
    work_dir,
)

app = typer.Typer(help="Unsupervised detectors and their alerts, grouped into cases; a supervised mule model.",
                  no_args_is_help=True)
mules_app = typer.Typer(help="Mules and ring members, supervised: trees on graph features (the product's own) or a "
                             "graph network, fitted on a time split of graph snapshots, registered, batch-scored.",
                        no_args_is_help=True)
app.add_typer(mules_app, name="mules")

MuleModelOpt = Annotated[str, typer.Option(
    "--model", help="lightgbm (the product's own: trees on behaviour and graph features, the default) or graph (a "
                    "heterogeneous GraphSAGE over users and the devices, IPs, cards, addresses they share)")]
HorizonOpt = Annotated[int, typer.Option(
    "--horizon-days", min=1, help="Days between the train, validation and test snapshots (the last one this many "
                                  "days before the end of the lake): a user is bad when labelled within them.")]


@app.command("run")
def anomaly_run(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this UTC time.")] = None,
                no_graph: Annotated[bool, typer.Option("--no-graph", help="Behaviour detectors only.")] = False,
                alert_rate: Annotated[float, typer.Option(help="Share of users alerted per run.")] = 0.005) -> None:
    """Learn from every closed case, score every user, file the alerts as cases (merged with earlier runs), order
    the open cases for review, write WORK/cases.html."""
    from cryptoscope.anomaly.pipeline import DetectionConfig, detect
    from cryptoscope.anomaly.report import write_cases_report
    from cryptoscope.cases import sync_labels
    from cryptoscope.graph import build_graph, save_graph

    folder = work_dir(lake, work)
    store = case_store(lake, work, db)
    synced = sync_labels(store, lake)  # decisions taken in the console or the API reach the lake first
    at = utc_time(as_of, "--as-of") if as_of is not None else None
    graph = None
    with console.status("detecting abnormal users"):
        if not no_graph:
            graph = build_graph(lake, at)
            save_graph(graph, folder / "graph")
        run, _ = detect(lake, store, at or (graph.as_of if graph else None),
                        DetectionConfig(use_graph=not no_graph, alert_rate=alert_rate), graph=graph)
        report = write_cases_report(store, graph, folder / "cases.html")
    console.print(f"run {run.run_key}: {run.users:,} users scored, {run.alerts} user and {run.ring_alerts} ring "
                  f"alerts; {run.new_cases} new cases, {run.updated_cases} updated; report {report}", highlight=False)
    if synced:
        console.print(f"{synced} labels of closed cases written to the lake", highlight=False)
    if run.decisions:
        console.print(f"detectors taught by {run.decisions} analyst decisions on earlier cases "
                      "(positive-unlabelled forests blended with the detectors)", highlight=False)


@app.command("score-table")
def anomaly_score_table(
    file: Annotated[Path, typer.Argument(help="Parquet (or CSV) feature table, one row per entity.")],
    out: Annotated[Path, typer.Option("--out", help="JSON file to write.")],
    label_column: Annotated[str | None, typer.Option("--label-column", help="0/1 column to judge against "
                                                     "(never shown to the detectors).")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Columns to ignore (ids).")] = None,
    feedback_column: Annotated[str | None, typer.Option(
        "--feedback-column", help="Analysts' decisions (1, 0, empty) that teach the ensemble; rows with one "
                                  "are left out of the judging.")] = None,
    resamples: Annotated[int, typer.Option(
        "--resamples", min=0, help="Bootstrap resamples for the intervals of the ensemble's leads (0: none).")] = 200,
) -> None:
    """Score every row with each detector and the ensemble; with labels, ROC-AUC and AP and how sure the
    ensemble's lead over each detector is (95 % bootstrap interval)."""
    from cryptoscope.anomaly.table import score_table

    with console.status(f"scoring {file}"):
        _, result = score_table(file, label_column, exclude=tuple(exclude or ()), feedback_column=feedback_column,
                                resamples=resamples)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    lines = [f"{result['rows']:,} rows x {result['features']} features -> {out}"]
    if "feedback" in result:
        weights = ", ".join(f"{d} {w:.2f}" for d, w in result["feedback"]["weights"].items())
        fed = result["feedback"]
        lines.append(f"  taught by {fed['decided_rows']:,} decisions ({fed['abnormal']} abnormal, {fed['cleared']} "
                     f"cleared); member weights: {weights}" if fed["learned"] else
                     f"  {fed['decided_rows']:,} decisions did not teach the ensemble")
        if fed["note"]:
            lines.append(f"  note: {fed['note']}")
    leads = result.get("ensemble_lead", {})
    for name, m in {**result.get("detectors", {}), **({"ensemble": result["ensemble"]} if "ensemble" in result
                                                       else {})}.items():
        line = f"  {name:<9} ROC-AUC {m['roc_auc']:.3f}  AP {m['average_precision']:.3f}"
        if name in leads:
            line += "   ensemble's lead " + "  ".join(
                f"{k} {v['lead']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"
                for k, v in zip(("ROC-AUC", "AP"), leads[name].values(), strict=True))
        lines.append(line)
    console.print("\n".join(lines), highlight=False)


@mules_app.command("train")
def mules_train(lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
                report_dir: ReportDirOpt = Path("./reports"), model: MuleModelOpt = "lightgbm",
                horizon_days: HorizonOpt = 30,
                seeds: Annotated[int, typer.Option("--seeds", min=1, help="Fits of each model, seeds 0 to N-1: the "
                                                   "gate reads their means (the first fit is registered).")] = 3
                ) -> None:
    """Fit on the first snapshot, calibrate on the second, judge on the third; register; promote only if its
    decisions pay for their reviews and, for --model graph, it beats the product's own model on precision@100 and
    ring recall at no higher cost, on the mean of the seeds (else it stays a challenger, its card saying by how
    much it lost)."""
    from cryptoscope.anomaly.mule_models import check_model
    from cryptoscope.anomaly.mule_training import train
    from cryptoscope.anomaly.mules import MulePlan

    with console.status(f"training the mule model ({model})"):
        result = train(lake, registry, report_dir=report_dir, model=check_model(model),
                       plan=MulePlan(horizon_days=horizon_days), seeds=seeds)
    card, fitted = result.fit.card, result.fit
    verdict = "promoted" if result.promoted else f"registered, NOT promoted ({result.refused})"
    console.print(card.notes, highlight=False, soft_wrap=True)
    console.print(f"{card.name} v{result.version} ({model}) {verdict}; one fit took {fitted.seconds:.1f} s "
                  f"({fitted.cpu_seconds:.1f} CPU s); report {result.report}", highlight=False)


@mules_app.command("evaluate")
def mules_evaluate(lake: LakeOpt = Path("./demo-lake"), model: MuleModelOpt = "lightgbm",
                   horizon_days: HorizonOpt = 30,
                   registry: Annotated[Path | None, typer.Option("--registry", help="Judge a registered version on "
                                                                 "its test snapshot instead of fitting.")] = None,
                   version: Annotated[int | None, typer.Option(help="Registered version (default: promoted).")] = None
                   ) -> None:
    """The model (and, for --model graph, the product's own beside it) on the test snapshot: precision and ring
    recall at 100, ROC-AUC, PR-AUC, decisions' cost; the line's unsupervised graph score for reference."""
    from cryptoscope.anomaly.mule_evaluation import evaluate
    from cryptoscope.anomaly.mules import MulePlan

    with console.status("evaluating the mule model"):
        result = evaluate(lake, model, plan=MulePlan(horizon_days=horizon_days), registry_root=registry,
                          version=version)
    console.print(result.summary(), highlight=False)


@mules_app.command("score")
def mules_score(lake: LakeOpt = Path("./demo-lake"), registry: RegistryOpt = Path("./models-registry"),
                as_of: Annotated[str | None, typer.Option("--as-of", help="Snapshot time, UTC (default: the end of "
                                                          "the lake, rounded up to midnight).")] = None,
                explain: Annotated[int, typer.Option("--explain", min=0, help="At most this many users get "
                                                     "reasons (the flagged and the top 100 first).")] = 1000) -> None:
    """Score every user not known bad at the snapshot with the promoted mule model into risk_scores (kind mule),
    with reasons in words for the users it flags."""
    from cryptoscope.anomaly.mule_scoring import score

    at = utc_time(as_of, "--as-of") if as_of is not None else None
    with console.status("scoring users for mules and rings"):
        run = score(lake, registry, as_of=at, explain=explain)
    console.print(f"abnormal_mule v{run.model_version}: scored {run.scored:,} users as of {run.as_of:%Y-%m-%d %H:%M}, "
                  f"{run.flagged:,} flagged, {run.explained:,} explained; added {run.added:,} rows to risk_scores "
                  f"({run.scored - run.added:,} were already there)", highlight=False)
