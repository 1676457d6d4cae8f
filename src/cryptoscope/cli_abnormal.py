"""`cryptoscope graph build|show`, `anomaly run|score-table` and `cases list|show|assign|decide`."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from cryptoscope.errors import CryptoscopeError

if TYPE_CHECKING:
    from cryptoscope.cases import CaseStore

LakeOpt = Annotated[Path, typer.Option("--lake", help="Lake folder.")]
WorkOpt = Annotated[Path | None, typer.Option("--work", help="Folder for the graph, the SQLite case queue and "
                                              "reports (default: LAKE/_abnormal).")]
DbOpt = Annotated[str | None, typer.Option("--db", envvar="CRYPTOSCOPE_CASES_URL",
                                           help="Case store URL, e.g. postgresql+psycopg://user@host/db "
                                                "(default: SQLite in the work folder).")]
ActorOpt = Annotated[str, typer.Option("--by", envvar="USER", help="Who does it (written to the audit log).")]

graph_app = typer.Typer(help="The entity graph: users linked by devices, IPs, cards, addresses, documents, "
                        "referrers; rings.", no_args_is_help=True)
anomaly_app = typer.Typer(help="Unsupervised detectors and their alerts, grouped into cases.", no_args_is_help=True)
cases_app = typer.Typer(help="The case queue: list, show, assign, decide (every change is audited).",
                        no_args_is_help=True)


def _console() -> Console:
    from cryptoscope.cli import console

    return console


def _work(lake: Path, work: Path | None) -> Path:
    from cryptoscope.anomaly.demo import work_dir_of

    return work or work_dir_of(lake)


def _as_of(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        raise CryptoscopeError(f"--as-of must look like 2025-03-01 or 2025-03-01T12:00 (got {text!r})") from None


def _store(lake: Path, work: Path | None, db: str | None) -> CaseStore:
    from cryptoscope.cases import CaseStore, default_url

    return CaseStore(db or default_url(_work(lake, work)))


@graph_app.command("build")
def graph_build(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None,
                as_of: Annotated[str | None, typer.Option("--as-of", help="Only events before this UTC time "
                                                          "(default: the whole lake).")] = None) -> None:
    """Build the graph, its components and Leiden rings; save it under WORK/graph."""
    from cryptoscope.graph import build_graph, save_graph

    with _console().status("building the entity graph"):
        result = build_graph(lake, _as_of(as_of))
        folder = save_graph(result, _work(lake, work) / "graph")
    g, rings = result.graph.graph, result.features.rings
    big = rings[rings["size"] >= 3].sort_values(["shared_kinds", "size"], ascending=False)
    out = _console()
    out.print(f"{g.vcount():,} users, {g.ecount():,} ties, {len(g.connected_components()):,} components, "
              f"{len(big):,} rings of 3+ accounts, {len(result.known_bad):,} known-bad users; saved to {folder}")
    for _, r in big.head(5).iterrows():
        out.print(f"  ring {int(r['ring_id'])}: {int(r['size'])} accounts, density {r['density']:.2f}, "
                  f"{int(r['shared_kinds'])} kinds shared, {int(r['known_bad'])} known bad", highlight=False)


@graph_app.command("show")
def graph_show(user: Annotated[int, typer.Argument(help="User id.")], lake: LakeOpt = Path("./demo-lake"),
               work: WorkOpt = None, hops: Annotated[int, typer.Option(help="Ties away from the user.")] = 1,
               png: Annotated[Path | None, typer.Option("--png", help="Picture to write "
                                                        "(default: WORK/user-USER.png).")] = None) -> None:
    """The user's neighbourhood: who shares what with whom, as text and as a PNG picture."""
    from cryptoscope.graph import load_graph
    from cryptoscope.graph.show import neighbourhood

    folder = _work(lake, work)
    hood = neighbourhood(load_graph(folder / "graph"), user, hops=hops)
    path = png or folder / f"user-{user}.png"
    hood.draw(path)
    _console().print(hood.text(), highlight=False, soft_wrap=True, markup=False)
    _console().print(f"picture: {path}")


@anomaly_app.command("run")
def anomaly_run(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                as_of: Annotated[str | None, typer.Option("--as-of", help="Score as of this UTC time.")] = None,
                no_graph: Annotated[bool, typer.Option("--no-graph", help="Behaviour detectors only.")] = False,
                alert_rate: Annotated[float, typer.Option(help="Share of users alerted per run.")] = 0.005) -> None:
    """Score every user, file the alerts as cases (merged with earlier runs), write WORK/cases.html."""
    from cryptoscope.anomaly.pipeline import DetectionConfig, detect
    from cryptoscope.anomaly.report import write_cases_report
    from cryptoscope.graph import build_graph, save_graph

    folder = _work(lake, work)
    store = _store(lake, work, db)
    graph = None
    with _console().status("detecting abnormal users"):
        if not no_graph:
            graph = build_graph(lake, _as_of(as_of))
            save_graph(graph, folder / "graph")
        run, _ = detect(lake, store, _as_of(as_of) or (graph.as_of if graph else None),
                        DetectionConfig(use_graph=not no_graph, alert_rate=alert_rate), graph=graph)
        report = write_cases_report(store, graph, folder / "cases.html")
    _console().print(f"run {run.run_key}: {run.users:,} users scored, {run.alerts} user and {run.ring_alerts} ring "
                     f"alerts; {run.new_cases} new cases, {run.updated_cases} updated; report {report}",
                     highlight=False)
    if run.decisions:
        _console().print(f"detectors taught by {run.decisions} analyst decisions on earlier cases (weights and forest)",
                         highlight=False)


@anomaly_app.command("score-table")
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

    with _console().status(f"scoring {file}"):
        _, result = score_table(file, label_column, exclude=tuple(exclude or ()), feedback_column=feedback_column,
                                resamples=resamples)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, out)
    lines = [f"{result['rows']:,} rows x {result['features']} features -> {out}"]
    if "feedback" in result:
        weights = ", ".join(f"{d} {w:.2f}" for d, w in result["feedback"]["weights"].items())
        lines.append(f"  taught by {result['feedback']['decided_rows']:,} decisions; member weights: {weights}")
    leads = result.get("ensemble_lead", {})
    for name, m in {**result.get("detectors", {}), **({"ensemble": result["ensemble"]} if "ensemble" in result
                                                       else {})}.items():
        line = f"  {name:<9} ROC-AUC {m['roc_auc']:.3f}  AP {m['average_precision']:.3f}"
        if name in leads:
            line += "   ensemble's lead " + "  ".join(
                f"{k} {v['lead']:+.3f} [{v['ci95'][0]:+.3f}, {v['ci95'][1]:+.3f}]"
                for k, v in zip(("ROC-AUC", "AP"), leads[name].values(), strict=True))
        lines.append(line)
    _console().print("\n".join(lines), highlight=False)


@cases_app.command("list")
def cases_list(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
               state: Annotated[str | None, typer.Option(help="open, in_review, closed_fraud or closed_legit.")] = None,
               limit: Annotated[int, typer.Option(help="At most this many.")] = 20) -> None:
    """Cases by score, highest first."""
    from cryptoscope.cli import table_view

    view = table_view("cases", ("id", "kind", "state", "title"), ("score", "members"), ("assignee", "reasons"))
    for c in _store(lake, work, db).list_cases(state, limit=limit):
        view.add_row(str(c.id), c.kind, c.state, c.title, f"{c.score:.3f}", str(c.members), c.assignee or "",
                     c.reasons[:90])
    _console().print(view)


@cases_app.command("show")
def cases_show(case_id: Annotated[int, typer.Argument(help="Case id.")], lake: LakeOpt = Path("./demo-lake"),
               work: WorkOpt = None, db: DbOpt = None) -> None:
    """One case: reasons, members, alerts, notes and its audit trail."""
    d = _store(lake, work, db).get(case_id)
    s = d.summary
    lines = [f"case {s.id}: {s.title} — {s.state}, score {s.score:.3f}, assignee {s.assignee or '-'}, "
             f"detected {s.detected_at:%Y-%m-%d %H:%M}" + (f", merged into {d.merged_into}" if d.merged_into else ""),
             "reasons: " + s.reasons, "members: " + ", ".join(str(u) for u, _ in d.members[:50]),
             f"alerts ({len(d.alerts)}):"]
    lines += [f"  {run[:19]} user {u} score {sc:.3f}: {why[:120]}" for run, u, sc, why in d.alerts[-10:]]
    lines += ["notes:"] + [f"  {t:%Y-%m-%d %H:%M} {who}: {text}" for t, who, text in d.notes]
    lines += ["audit:"] + [f"  {t:%Y-%m-%d %H:%M:%S} {who} {act} {a or ''}->{b or ''} {det[:100]}"
                           for t, who, act, a, b, det in d.audit]
    _console().print("\n".join(lines), highlight=False, soft_wrap=True, markup=False)


@cases_app.command("assign")
def cases_assign(case_id: Annotated[int, typer.Argument(help="Case id.")],
                 analyst: Annotated[str, typer.Argument(help="Who takes the case.")],
                 lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                 by: ActorOpt = "analyst") -> None:
    """Give a case to an analyst (an open case moves to in_review)."""
    _store(lake, work, db).assign(case_id, analyst, actor=by)
    _console().print(f"case {case_id} assigned to {analyst}")


@cases_app.command("decide")
def cases_decide(case_id: Annotated[int, typer.Argument(help="Case id.")],
                 state: Annotated[str, typer.Argument(help="in_review, open, closed_fraud or closed_legit.")],
                 lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                 by: ActorOpt = "analyst",
                 note: Annotated[str | None, typer.Option(help="Why (kept as a note and in the audit log).")] = None
                 ) -> None:
    """Move a case along open -> in_review -> closed_fraud | closed_legit; closed cases become lake labels."""
    from cryptoscope.cases import CLOSED, sync_labels

    store = _store(lake, work, db)
    store.transition(case_id, state, actor=by, note=note)
    msg = f"case {case_id} is now {state}"
    if state in CLOSED:
        msg += f"; {sync_labels(store, lake)} labels written to the lake"
    _console().print(msg)
