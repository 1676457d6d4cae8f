"""One self-contained HTML page per model: the evidence a reviewer needs before promoting it.

Everything is inline (CSS and base64 PNG figures), so the page can be mailed, attached to a ticket
or stored next to the model in the registry and still open years later.

Example::

    write_report(ReportData(title="card_fraud v3", y=y_test, p=p_test, metrics={"test": m}), "report.html")
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import plots
from cryptoscope.models.card import ModelCard
from cryptoscope.models.decisions import DecisionComparison
from cryptoscope.models.metrics import Metrics


@dataclass(frozen=True, eq=False)
class ReportData:
    """What a report shows: test labels and calibrated probabilities, plus whatever else is known."""

    title: str
    y: np.ndarray
    p: np.ndarray
    metrics: Mapping[str, Metrics] = field(default_factory=dict)
    importance: pd.Series | None = None
    importance_kind: str = "mean |SHAP|"
    over_time: pd.DataFrame | None = None
    comparison: DecisionComparison | None = None
    card: ModelCard | None = None


_METRIC_ROWS = (("rows", "rows", "{:,}"), ("positives", "bad rows", "{:,}"), ("base_rate", "base rate", "{:.4f}"),
                ("roc_auc", "ROC-AUC", "{:.4f}"), ("pr_auc", "PR-AUC (average precision)", "{:.4f}"),
                ("brier", "Brier score", "{:.5f}"), ("ece", "expected calibration error", "{:.4f}"),
                ("alert_rate", "alert rate", "{:.2%}"),
                ("precision_at_alert_rate", "precision at alert rate", "{:.4f}"),
                ("recall_at_alert_rate", "recall at alert rate", "{:.4f}"), ("cost", "decision cost", "{:,.2f}"),
                ("cost_per_row", "cost per row", "{:,.4f}"))

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ddd; padding: 4px 10px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } .figs { display: flex; flex-wrap: wrap; gap: 12px; }
.muted { color: #666; }
</style></head><body>
<h1>{{ title }}</h1>
{% if card %}<p class="muted">{{ card.name }} v{{ card.version }} &middot; created {{ card.created }} &middot;
label <code>{{ card.label }}</code> &middot; {{ card.features|length }} features &middot; {{ card.estimator }}
&middot; calibration: {{ card.calibration }}</p>
<h2>Data window</h2>
<table><tr><th>period</th><th>from</th><th>to</th><th>rows</th></tr>
{% for p in card.periods %}<tr><td>{{ p.name }}</td><td>{{ p.start or "beginning" }}</td><td>{{ p.end or "end" }}</td>
<td class="num">{{ "{:,}".format(p.rows) }}</td></tr>{% endfor %}</table>{% endif %}
<h2>Metrics</h2>
<p class="muted">The validation period stopped the boosting, fitted the calibrator and chose the thresholds, so its
numbers flatter the model; the later test period, untouched until now, is the one to judge by.</p>
<table><tr><th>metric</th>{% for name in metric_names %}<th>{{ name }}</th>{% endfor %}</tr>
{% for label, cells in metric_rows %}<tr><td>{{ label }}</td>{% for c in cells %}<td class="num">{{ c }}</td>
{% endfor %}</tr>{% endfor %}</table>
<h2>Ranking</h2>
<div class="figs">{% for f in ranking %}<img src="data:image/png;base64,{{ f }}" alt="ranking">
{% endfor %}</div>
<h2>Calibration and scores</h2>
<div class="figs">{% for f in calibration %}<img src="data:image/png;base64,{{ f }}" alt="calibration">
{% endfor %}</div>
{% if importance %}<h2>Feature importance ({{ importance_kind }})</h2>
<div class="figs"><img src="data:image/png;base64,{{ importance }}" alt="feature importance">
<table><tr><th>feature</th><th>importance</th></tr>{% for name, value in importance_rows %}
<tr><td><code>{{ name }}</code></td><td class="num">{{ "{:.4g}".format(value) }}</td></tr>{% endfor %}</table></div>
{% endif %}
{% if over_time %}<h2>Metrics over time</h2><img src="data:image/png;base64,{{ over_time }}" alt="metrics over time">
{% endif %}
{% if decisions %}<h2>Decisions</h2>
{% if thresholds %}<p>{{ thresholds }} (chosen on the validation period, applied unchanged to the test period).</p>
{% endif %}
{% if costs %}<p class="muted">Costs: {{ costs }}</p>{% endif %}
<table><tr><th>policy</th><th>cost</th><th>approved</th><th>reviewed</th><th>blocked</th><th>bad approved</th>
<th>bad stopped</th><th>good reviewed</th><th>good blocked</th></tr>
{% for o in decisions.outcomes %}<tr><td>{{ o.name }}</td><td class="num">{{ "{:,.2f}".format(o.cost) }}</td>
<td class="num">{{ o.approved }}</td><td class="num">{{ o.reviewed }}</td><td class="num">{{ o.blocked }}</td>
<td class="num">{{ o.bad_approved }}</td><td class="num">{{ o.bad_stopped }}</td>
<td class="num">{{ o.good_reviewed }}</td><td class="num">{{ o.good_blocked }}</td></tr>{% endfor %}</table>
{% if decisions.saving is not none %}<p><strong>Saving against the rules baseline:
{{ "{:,.2f}".format(decisions.saving) }}
{% if decisions.saving_share is not none %}({{ "{:.1%}".format(decisions.saving_share) }}){% endif %}</strong></p>
{% endif %}
<img src="data:image/png;base64,{{ decision_plot }}" alt="decision costs">{% endif %}
</body></html>
"""


def render_report(data: ReportData) -> str:
    """The report as one HTML string."""
    y, p = np.asarray(data.y, dtype=int), np.asarray(data.p, dtype=float)
    if y.shape != p.shape or y.size == 0:
        raise CryptoscopeError(f"a report needs one probability per label, got {p.size} for {y.size}")
    if not 0 < y.sum() < y.size:
        raise CryptoscopeError("the report's period has only one class; curves need good and bad rows")
    names = list(data.metrics)
    metric_rows = [(label, [_fmt(getattr(data.metrics[n], key), fmt) for n in names])
                   for key, label, fmt in _METRIC_ROWS]
    comparison = data.comparison
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    card = data.card
    return env.from_string(_TEMPLATE).render(
        title=data.title, card=card, metric_names=names, metric_rows=metric_rows,
        ranking=[plots.pr_curve(y, p), plots.roc(y, p)],
        calibration=[plots.reliability(y, p), plots.score_distributions(y, p)],
        importance=plots.importance(data.importance, data.importance_kind) if data.importance is not None else None,
        importance_kind=data.importance_kind,
        importance_rows=list(data.importance.head(20).items()) if data.importance is not None else [],
        over_time=plots.over_time(data.over_time) if data.over_time is not None and len(data.over_time) else None,
        decisions=comparison, decision_plot=plots.decision_costs(comparison.outcomes) if comparison else None,
        thresholds=_thresholds(card), costs=_costs(card))


def write_report(data: ReportData, path: str | Path) -> Path:
    """Render the report and write it to ``path`` (folders created); returns the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(data), encoding="utf-8")
    return out


def _fmt(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return fmt.format(value)


def _thresholds(card: ModelCard | None) -> str | None:
    if card is None or card.thresholds is None:
        return None
    text = card.thresholds.describe()
    return f"{text}; never below the decision in {card.guardrail!r}" if card.guardrail else text


def _costs(card: ModelCard | None) -> str | None:
    if card is None or card.costs is None:
        return None
    return ", ".join(f"{k} = {v}" for k, v in card.costs.to_dict().items())
