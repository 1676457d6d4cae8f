"""The stages of `cryptoscope demo` after the simulation and the risk models: one per product line.

Each stage reads the demo lake, writes its lake tables and its HTML report, and returns one line for
the console. A stage that cannot run on this lake raises a ``CryptoscopeError``; the demo prints it and
goes on with the others (a bug elsewhere still stops the demo: it is not a data problem).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Stage:
    """A named step: ``run(lake, registry, report_dir)`` returns what to tell the user."""

    name: str
    run: Callable[[Path, Path, Path], str]


def _abnormal(lake: Path, registry: Path, reports: Path) -> str:
    import shutil

    from cryptoscope.anomaly.demo import run_abnormal_demo

    result = run_abnormal_demo(lake)  # graph, case queue and report live beside the lake, in LAKE/_abnormal
    reports.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(result.report, reports / "cases.html")  # self-contained: its pictures are inline
    return result.text().removeprefix("abnormal users: ").replace(str(result.report), str(reports / "cases.html"))


def _chain(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.chain.report import write_demo_report

    return f"exposure of every deposit and withdrawal in chain_exposure; report {write_demo_report(lake, reports)}"


def _deposit_risk(lake: Path, registry: Path, reports: Path) -> str:
    """The deposit risk product: it reads chain_exposure, so it runs after the chain stage, not with the
    four event products before it (``cli.demo_risk``)."""
    from cryptoscope.risk.scoring import score
    from cryptoscope.risk.training import train

    result = train("deposit", lake, registry, report_dir=reports)
    ev = result.evaluation
    line = (f"v{result.version}: test PR-AUC {ev.model.pr_auc:.3f} (rules {ev.rules.pr_auc:.3f}); cost "
            f"${ev.model.cost:,.0f} vs rules ${ev.rules.cost:,.0f} -> "
            f"{'promoted' if result.promoted else 'not promoted'}; report {result.report}")
    if result.promoted:
        line += f"\n  scored {score('deposit', lake, registry).scored:,} deposits into risk_scores"
    return line


def _reco(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.reco.demo import run_demo

    return f"every user's top 10 in recommendations, within their suitability; preview {run_demo(lake, reports)}"


def _feedback(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.feedback.report import write_report

    return f"tickets and surveys scored into feedback_scores, drivers of CSAT/NPS; report {write_report(lake, reports)}"


def _behaviour(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.behaviour.demo import run_demo

    report = run_demo(lake, reports)
    return f"segments, funnel, patterns, churn and value in behaviour_segments and churn_scores; report {report}"


def _surveillance(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.surveillance.demo import run_demo

    report = run_demo(lake, reports)
    return f"wash trading, spoofing and pump-and-dump alerts in surveillance_alerts and the case queue; {report}"


def _console(lake: Path, registry: Path, reports: Path) -> str:
    from cryptoscope.serve.demo import prepare

    model = reports / "recommender.pkl"  # where the recommendations stage saved it
    return "logins for the API and the analyst console:\n" + prepare(lake, registry,
                                                                      reco_model=model if model.exists() else None)


STAGES: tuple[Stage, ...] = (
    Stage("abnormal users", _abnormal),
    Stage("market surveillance", _surveillance),
    Stage("on-chain exposure", _chain),
    Stage("deposit risk", _deposit_risk),  # after the chain stage: it reads chain_exposure
    Stage("recommendations", _reco),
    Stage("customer feedback", _feedback),
    Stage("user behaviour", _behaviour),
)
CONSOLE = Stage("console", _console)  # printed last, after what to run next: the logins to use now
