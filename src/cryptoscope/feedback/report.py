"""The feedback report a support lead reads: what people write about, how they feel, what drives it.

`build_report` gathers everything (scores, topics, drivers, growth, importance vs performance) into one
`FeedbackReport`; `write_report` also writes ``feedback_scores`` to the lake and a self-contained HTML
page with the charts. ``make demo`` calls ``write_report(lake, out_dir)``; on a large lake it scores a
fixed sample of the texts (``sample``) so the page is ready in about a minute, and says so on the page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.feedback import plots
from cryptoscope.feedback.analyze import Analysis, analyze, write_scores
from cryptoscope.feedback.drivers import DriverResult, csat_drivers, importance_performance, nps_drivers
from cryptoscope.feedback.embeddings import Embedder, Progress
from cryptoscope.feedback.experience import survey_experience, ticket_experience
from cryptoscope.feedback.trends import Growth, topic_growth, weekly_counts
from cryptoscope.lake import Lake, connect

REPORT_FILE = "feedback.html"
DEMO_SAMPLE = 6_000


@dataclass
class FeedbackReport:
    analysis: Analysis
    csat: DriverResult
    nps: DriverResult | None
    importance: pd.DataFrame
    growth: list[Growth]
    weekly: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def build_report(lake: Lake, embedder: Embedder | None = None, *, sample: int | None = DEMO_SAMPLE,
                 progress: Progress | None = None, backend: Any = None) -> FeedbackReport:
    """Everything the page shows, computed from the lake (texts embedded once, then read from the cache).

    ``backend``: the Ibis backend every read of the lake goes through (a batch run's engine; the lake's DuckDB
    when left out)."""
    backend = backend if backend is not None else connect(lake)
    analysis = analyze(lake, embedder, sample=sample, progress=progress, backend=backend)
    tickets = ticket_experience(lake, backend=backend)
    csat = csat_drivers(tickets)
    notes = []
    try:
        nps: DriverResult | None = nps_drivers(survey_experience(lake, backend=backend))
    except CryptoscopeError as exc:  # a lake without NPS answers still gets the rest of the report
        nps, notes = None, [f"NPS drivers not estimated: {exc}"]
    fb = analysis.feedback
    topic_names = {str(t.topic_id): t.label for t in analysis.topics.topics} | {"-1": "other"}
    topic = fb["topic_id"].astype(str).map(topic_names)
    growth = topic_growth(fb["event_time"], topic)
    weekly = weekly_counts(fb["event_time"], fb["topic_id"].astype(str))
    importance = importance_performance(tickets, "category")
    if sample is not None and len(fb) >= sample:
        notes.append(f"texts: a fixed sample of {sample:,} of the lake's tickets and comments was scored")
    return FeedbackReport(analysis, csat, nps, importance, growth, weekly, notes)


_TEMPLATE = """<!doctype html><html><head><meta charset="utf-8"><title>Customer feedback — {{ lake }}</title>
<style>body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 7px;
text-align:left}th{background:#f4f4f4}.weak{color:#888}.strong{color:#b03a2e;font-weight:600}
blockquote{margin:.3em 0 .3em 1em;padding-left:.6em;border-left:3px solid #ccc;font-size:13px}
.note{background:#fff8e1;padding:.5em}</style></head><body>
<h1>Customer feedback</h1>
<p>Lake <code>{{ lake }}</code>, {{ n_texts }} texts ({{ n_tickets }} tickets, {{ n_comments }} survey comments)
from {{ first }} to {{ last }}; scored {{ scored_at }} by <code>{{ version }}</code>.</p>
{% for n in notes %}<p class="note">{{ n }}</p>{% endfor %}
<h2>What drives satisfaction</h2>
<p>Effect of what users went through (read from the lake, not from their words) on ticket CSAT (1-5),
from a regression with controls ({{ controls }}), {{ csat.n }} scored tickets. <b>Strong</b> means both the
robust and the bootstrap 95 % intervals exclude zero with at least 30 exposed tickets; anything else is weak
evidence and says why.</p>
<img src="data:image/png;base64,{{ driver_png }}">
{{ csat_table }}
{% if nps_table %}<h3>NPS (0-10) drivers, {{ nps_n }} answers</h3><img src="data:image/png;base64,{{ nps_png }}">
{{ nps_table }}{% endif %}
<h2>Importance vs performance by ticket category</h2>
<p>Performance is the category's mean CSAT; importance is how far below the other tickets it scores
(with a bootstrap 95 % interval); "fix first" = significantly worse and above-median volume.</p>
<img src="data:image/png;base64,{{ importance_png }}">{{ importance_table }}
<h2>Topics and how they move</h2><img src="data:image/png;base64,{{ trend_png }}">
<img src="data:image/png;base64,{{ sentiment_png }}">
<h3>This week against last week</h3>
<p>Fisher's exact test per topic on its share of all texts, Benjamini-Hochberg q-values across topics.</p>
{{ growth_table }}
<h3>Topics with example quotes</h3>
{% for t in topics %}<h4>#{{ t.topic_id }} {{ t.label }} — {{ t.size }} texts, {{ t.negative }} negative</h4>
<p>top terms: {{ t.terms }}</p>{% for q in t.quotes %}<blockquote>{{ q }}</blockquote>{% endfor %}{% endfor %}
<h2>How good the models are (later data held out)</h2>{{ eval_table }}
</body></html>"""


def _effects_table(result: DriverResult) -> str:
    rows = [{"experience": e.meaning, "effect": f"{e.effect:+.2f}", "95% CI": f"[{e.ci_low:+.2f}, {e.ci_high:+.2f}]",
             "bootstrap CI": f"[{e.boot_low:+.2f}, {e.boot_high:+.2f}]", "exposed": e.exposed,
             "mean with / without": "" if e.mean_exposed is None else f"{e.mean_exposed:.2f} / {e.mean_other:.2f}",
             "evidence": e.evidence} for e in result.effects]
    return pd.DataFrame(rows).to_html(index=False, escape=True)


def _eval_table(evaluation: dict[str, Any]) -> str:
    rows = []
    for task, res in evaluation.items():
        for name, scores in [("ours", res["model"]), ("embeddings only", res["embedding_only"]),
                             *res["baselines"].items()]:
            rows.append({"task": task, "labels": res.get("labels", ""), "model": name, "test texts": scores["n"],
                         "accuracy": f"{scores['accuracy']:.3f}", "macro F1": f"{scores['macro_f1']:.3f}"})
    return pd.DataFrame(rows).to_html(index=False) if rows else "<p>not evaluated</p>"


def render(report: FeedbackReport, lake: Lake) -> str:
    fb, a = report.analysis.feedback, report.analysis
    names = {str(t.topic_id): t.label for t in a.topics.topics} | {"-1": "other"}
    negative = fb.groupby("topic_id")["sentiment"].apply(lambda s: int((s == "negative").sum())).to_dict()
    topics = [{"topic_id": t.topic_id, "label": t.label, "size": t.size, "terms": ", ".join(t.terms),
               "quotes": t.quotes, "negative": negative.get(t.topic_id, 0)} for t in a.topics.topics]
    growth = pd.DataFrame([g.to_dict() for g in report.growth]).round(4)
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    safe = jinja2.filters.Markup  # tables come from DataFrame.to_html, which escapes cell text
    return env.from_string(_TEMPLATE).render(
        lake=str(lake.root), n_texts=f"{len(fb):,}", n_tickets=f"{int((fb['source'] == 'ticket').sum()):,}",
        n_comments=f"{int((fb['source'] == 'survey').sum()):,}", first=str(fb["event_time"].min())[:10],
        last=str(fb["event_time"].max())[:10], scored_at=f"{a.scored_at:%Y-%m-%d %H:%M} UTC", version=a.model_version,
        notes=report.notes, controls=", ".join(report.csat.controls[:6]) + ", …", csat=report.csat,
        driver_png=plots.driver_chart(report.csat, "Ticket CSAT"), csat_table=safe(_effects_table(report.csat)),
        nps_table=safe(_effects_table(report.nps)) if report.nps else "", nps_n=report.nps.n if report.nps else 0,
        nps_png=plots.driver_chart(report.nps, "NPS") if report.nps else "",
        importance_png=plots.importance_chart(report.importance, "category"),
        importance_table=safe(report.importance.round(3).to_html(index=False)),
        trend_png=plots.topic_trends(report.weekly, names), sentiment_png=plots.sentiment_trend(fb),
        growth_table=safe(growth.to_html(index=False)) if len(growth) else "<p>no data</p>",
        topics=topics, eval_table=safe(_eval_table(a.evaluation)))


def write_report(lake: Lake | str | Path, out_dir: str | Path, *, sample: int | None = DEMO_SAMPLE,
                 embedder: Embedder | None = None, progress: Progress | None = None, backend: Any = None) -> Path:
    """Score the lake's feedback into ``feedback_scores`` and write ``out_dir/feedback.html``; returns its path."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    report = build_report(lake, embedder, sample=sample, progress=progress, backend=backend)
    write_scores(lake, report.analysis)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / REPORT_FILE
    tmp = path.with_suffix(f".{dt.datetime.now(dt.UTC):%H%M%S%f}.tmp")
    tmp.write_text(render(report, lake), encoding="utf-8")
    tmp.replace(path)
    return path
