"""The behaviour report a product manager reads: segments, their moves (Sankey), funnel, patterns, churn."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from cryptoscope.behaviour.analysis import Analysis
from cryptoscope.models.plots import png

_TEMPLATE = jinja2.Template("""<!doctype html><html><head><meta charset="utf-8"><title>User behaviour</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:auto}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child{text-align:left}</style></head><body>
<h1>User behaviour, {{ start }} to {{ end }}</h1>
<h2>Segments</h2><p>{{ n_users }} accounts in {{ profiles|length }} behavioural segments (re-fit agreement, ARI:
{{ stability }}).</p>{{ profile_table }}<img src="data:image/png;base64,{{ sizes }}">
<h2>How users move between segments</h2><p>First to last monthly snapshot; band width = users.</p>
<img src="data:image/png;base64,{{ sankey }}">{{ moves_table }}
<h2>Onboarding funnel</h2><img src="data:image/png;base64,{{ funnel_plot }}">{{ funnel_table }}
<h2>Frequent sequences</h2>{{ top_patterns }}<h3>Before churn, against matched active users</h3>{{ churn_patterns }}
<h3>Labelled abusers against matched normal users</h3>{{ abuse_patterns }}
<h2>Churn</h2><p>Test cut-off {{ test_cutoff }}: churn model ROC-AUC {{ roc }},
PR-AUC {{ pr }}; days-since-last-activity baseline ROC-AUC {{ base_roc }}, PR-AUC {{ base_pr }}.</p>
<img src="data:image/png;base64,{{ drivers }}">
<h2>Lifetime value and retention targets</h2>{{ value_table }}<p>{{ targeting }}</p>{{ targets }}
</body></html>""")


def _html(frame: pd.DataFrame | None, floatfmt: str = "{:,.3f}") -> str:
    if frame is None or frame.empty:
        return "<p>(none)</p>"
    return frame.to_html(index=False, float_format=floatfmt.format, border=0)


def _bars(labels: Any, values: Any, *, horizontal: bool = False) -> Callable[[Axes], None]:
    def draw(ax: Axes) -> None:
        (ax.barh if horizontal else ax.bar)(list(map(str, labels)), list(values))
    return draw


def sankey(moves: pd.DataFrame, names: list[str]) -> str:
    """An alluvial chart of segment membership from the first to the last monthly snapshot."""
    def draw(ax: Axes) -> None:
        if moves.empty:
            ax.text(0.5, 0.5, "one snapshot only", ha="center")
            return
        last = moves["month"].max()
        flows = moves[moves["month"] == last]  # the last month's moves; earlier months in the table
        total = float(flows["users"].sum())
        left = flows.groupby("from")["users"].sum().reindex(range(len(names)), fill_value=0) / total
        right = flows.groupby("to")["users"].sum().reindex(range(len(names)), fill_value=0) / total
        lpos, rpos = np.concatenate([[0], np.cumsum(left)[:-1]]), np.concatenate([[0], np.cumsum(right)[:-1]])
        loff, roff = lpos.copy(), rpos.copy()
        colors = [f"C{i}" for i in range(len(names))]
        x = np.linspace(0, 1, 50)
        s = 3 * x**2 - 2 * x**3
        for _, r in flows.sort_values(["from", "to"]).iterrows():
            w = r["users"] / total
            a, b = loff[r["from"]], roff[r["to"]]
            ax.fill_between(x, a + (b - a) * s, a + w + (b - a) * s, color=colors[r["from"]], alpha=0.5, lw=0)
            loff[r["from"]] += w
            roff[r["to"]] += w
        for i, name in enumerate(names):
            ax.text(-0.02, lpos[i] + left.iloc[i] / 2, name, ha="right", va="center", fontsize=7)
            ax.text(1.02, rpos[i] + right.iloc[i] / 2, name, ha="left", va="center", fontsize=7)
        ax.set_xlim(-0.35, 1.35)
        ax.axis("off")
    return png(draw, (7.5, 4.5))


def write_report(result: Analysis, path: str | Path) -> Path:
    """Render the report of a full `analysis.run` to ``path``."""
    ex: dict[str, Any] = result.extras
    prof = result.profiles
    churn = ex["churn"]
    fun = ex["funnel"][ex["funnel"]["segment"] == "all"]
    importance = churn.model.importance.head(12)
    values = pd.DataFrame([{"segment": k, **v} for k, v in ex["value_errors"].get("by_segment", {}).items()])
    targets = ex["scored"].head(15)[["user_id", "segment_name", "p_churn", "expected_value_usd", "value_at_risk_usd"]]
    html = _TEMPLATE.render(
        start=f"{result.start:%Y-%m-%d}", end=f"{result.end:%Y-%m-%d}", n_users=int(prof["users"].sum()), profiles=prof,
        stability=", ".join(f"{v:.2f}" for v in result.stability), profile_table=_html(prof, "{:,.2f}"),
        sizes=png(_bars(prof["name"], prof["users"], horizontal=True)),
        sankey=sankey(result.moves, result.model.names),
        moves_table=_html(result.moves[result.moves["from"] != result.moves["to"]].nlargest(10, "users")),
        funnel_plot=png(_bars(fun["step"], fun["users"])), funnel_table=_html(ex["funnel"]),
        top_patterns=_html(ex.get("top_patterns")), churn_patterns=_html(ex.get("churn_patterns")),
        abuse_patterns=_html(ex.get("abuse_patterns")), test_cutoff=f"{ex['plan'].test:%Y-%m-%d}",
        roc=f"{churn.metrics['roc_auc']:.3f}", pr=f"{churn.metrics['pr_auc']:.3f}",
        base_roc=f"{churn.baseline['roc_auc']:.3f}", base_pr=f"{churn.baseline['pr_auc']:.3f}",
        drivers=png(_bars(importance.index[::-1], importance.to_numpy()[::-1], horizontal=True), (6, 4)),
        value_table=_html(values, "{:,.2f}"), targets=_html(targets, "{:,.2f}"),
        targeting=(f"Acting on the top {int(ex['targeting']['users_targeted'])} users ranked by value at risk saves "
                   f"${ex['targeting']['saved_ranked_by_value_usd']:,.2f} (realized churners x expected value x "
                   f"save rate) against ${ex['targeting']['saved_ranked_by_p_churn_usd']:,.2f} ranked by churn "
                   "probability alone."))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html)
    return out
