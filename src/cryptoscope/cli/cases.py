"""`cryptoscope cases list|show|assign|decide`: the case queue, every change written to the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import DbOpt, LakeOpt, WorkOpt, case_store, console, table_view

ActorOpt = Annotated[str, typer.Option("--by", envvar="USER", help="Who does it (written to the audit log).")]

app = typer.Typer(help="The case queue: list, show, assign, decide (every change is audited).", no_args_is_help=True)


@app.command("list")
def cases_list(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
               state: Annotated[str | None, typer.Option(help="open, in_review, closed_fraud or closed_legit.")] = None,
               limit: Annotated[int, typer.Option(help="At most this many.")] = 20) -> None:
    """Cases by score, highest first."""
    view = table_view("cases", ("id", "kind", "state", "title"), ("score", "members"), ("assignee", "reasons"))
    for c in case_store(lake, work, db).list_cases(state, limit=limit):
        view.add_row(str(c.id), c.kind, c.state, c.title, f"{c.score:.3f}", str(c.members), c.assignee or "",
                     c.reasons[:90])
    console.print(view)


@app.command("show")
def cases_show(case_id: Annotated[int, typer.Argument(help="Case id.")], lake: LakeOpt = Path("./demo-lake"),
               work: WorkOpt = None, db: DbOpt = None) -> None:
    """One case: reasons, members, alerts, notes and its audit trail."""
    d = case_store(lake, work, db).get(case_id)
    s = d.summary
    lines = [f"case {s.id}: {s.title} — {s.state}, score {s.score:.3f}, assignee {s.assignee or '-'}, "
             f"detected {s.detected_at:%Y-%m-%d %H:%M}" + (f", merged into {d.merged_into}" if d.merged_into else ""),
             "reasons: " + s.reasons, "members: " + ", ".join(str(u) for u, _ in d.members[:50]),
             f"alerts ({len(d.alerts)}):"]
    lines += [f"  {run[:19]} user {u} score {sc:.3f}: {why[:120]}" for run, u, sc, why in d.alerts[-10:]]
    lines += ["notes:"] + [f"  {t:%Y-%m-%d %H:%M} {who}: {text}" for t, who, text in d.notes]
    lines += ["audit:"] + [f"  {t:%Y-%m-%d %H:%M:%S} {who} {act} {a or ''}->{b or ''} {det[:100]}"
                           for t, who, act, a, b, det in d.audit]
    console.print("\n".join(lines), highlight=False, soft_wrap=True, markup=False)


@app.command("assign")
def cases_assign(case_id: Annotated[int, typer.Argument(help="Case id.")],
                 analyst: Annotated[str, typer.Argument(help="Who takes the case.")],
                 lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                 by: ActorOpt = "analyst") -> None:
    """Give a case to an analyst (an open case moves to in_review)."""
    case_store(lake, work, db).assign(case_id, analyst, actor=by)
    console.print(f"case {case_id} assigned to {analyst}")


@app.command("decide")
def cases_decide(case_id: Annotated[int, typer.Argument(help="Case id.")],
                 state: Annotated[str, typer.Argument(help="in_review, open, closed_fraud or closed_legit.")],
                 lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None, db: DbOpt = None,
                 by: ActorOpt = "analyst",
                 note: Annotated[str | None, typer.Option(help="Why (kept as a note and in the audit log).")] = None
                 ) -> None:
    """Move a case along open -> in_review -> closed_fraud | closed_legit; closed cases become lake labels."""
    from cryptoscope.cases import CLOSED, sync_labels

    store = case_store(lake, work, db)
    store.transition(case_id, state, actor=by, note=note)
    msg = f"case {case_id} is now {state}"
    if state in CLOSED:
        msg += f"; {sync_labels(store, lake)} labels written to the lake"
    console.print(msg)
