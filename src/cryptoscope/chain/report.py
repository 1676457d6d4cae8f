"""An HTML exposure report: scores, the evidence paths as a table, and the flow graph drawn hop by hop.

Self-contained (inline CSS, base64 PNG), so it can be attached to a case file. The graph puts the
traced address on one side and the labelled sources on the other, one column per hop, so a reader
sees at once how far the illicit funds travelled and through which transactions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import ibis
import ibis.expr.types as ir
import jinja2
from matplotlib.axes import Axes

from cryptoscope.chain.backend import LakeLike, Source
from cryptoscope.chain.exposure import UPSTREAM, Exposure, ExposureConfig, ExposurePath
from cryptoscope.lake import Lake
from cryptoscope.lake.scratch import scratch
from cryptoscope.models import plots

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ddd; padding: 4px 8px; }
td.num { text-align: right; font-variant-numeric: tabular-nums; } code { font-size: 0.85em; } .muted { color: #666; }
</style></head><body>
<h1>{{ title }}</h1>
<p class="muted">{{ subtitle }}</p>
{% if summary %}<h2>All scored transfers</h2><table><tr>{% for h in summary_head %}<th>{{ h }}</th>{% endfor %}</tr>
{% for row in summary %}<tr>{% for v in row %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}</table>{% endif %}
{% for s in sections %}
<h2>{{ s.heading }}</h2>
<table><tr><th>direction</th><th>haircut</th><th>poison</th><th>fewest hops</th><th>categories (haircut share)</th></tr>
<tr><td>{{ s.direction }}</td><td class="num">{{ s.haircut }}</td><td class="num">{{ s.poison }}</td>
<td class="num">{{ s.hops }}</td><td>{{ s.categories }}</td></tr></table>
{% if s.graph %}<img src="data:image/png;base64,{{ s.graph }}" alt="flow graph">{% endif %}
<table><tr><th>#</th><th>category</th><th>labelled source</th><th>label from</th><th>hops</th><th>share</th>
<th>transactions, in time order</th></tr>
{% for p in s.paths %}<tr><td>{{ loop.index }}</td><td>{{ p.category }}</td><td><code>{{ p.source_address }}</code></td>
<td>{{ p.label_source }}</td><td class="num">{{ p.hops }}</td><td class="num">{{ '%.4f' % p.share }}</td>
<td>{% for h in p.payments %}<code>{{ h.txid[:16] }}…</code> {{ h.sender[:10] }}… → {{ h.receiver[:10] }}…
 ({{ '%.6g' % h.amount }}, {{ when(h.time_us) }})<br>{% endfor %}</td></tr>{% else %}
<tr><td colspan="7">no path to a labelled illicit source within the hop limit</td></tr>{% endfor %}</table>
{% endfor %}
</body></html>
"""


def flow_graph_png(exposure: Exposure) -> str | None:
    """The evidence paths as a layered graph: one column per hop, sources red, the traced address blue."""
    if not exposure.paths or all(not p.payments for p in exposure.paths):
        return None
    sign = -1 if exposure.direction == UPSTREAM else 1
    column: dict[str, int] = {exposure.address: 0}
    edges: dict[tuple[str, str], str] = {}
    for path in exposure.paths:
        n = len(path.payments)
        for k, h in enumerate(path.payments):
            if exposure.direction == UPSTREAM:
                column.setdefault(h.receiver, n - k - 1)
                column.setdefault(h.sender, n - k)
            else:
                column.setdefault(h.sender, k)
                column.setdefault(h.receiver, k + 1)
            edges[(h.sender, h.receiver)] = f"{h.txid[:8]}… {h.amount:.4g}"
    rows: dict[int, list[str]] = {}
    for node, depth in column.items():
        rows.setdefault(depth, []).append(node)
    pos = {n: (sign * d, i - (len(ns) - 1) / 2) for d, ns in rows.items() for i, n in enumerate(sorted(ns))}
    sources = {p.source_address for p in exposure.paths}

    def draw(ax: Axes) -> None:
        for (a, b), text in edges.items():
            if a not in pos or b not in pos:
                continue
            (x0, y0), (x1, y1) = pos[a], pos[b]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={"arrowstyle": "->", "color": "#555"})
            ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, text, fontsize=7, ha="center", color="#333")
        for node, (x, y) in pos.items():
            color = "#c0392b" if node in sources else ("#2471a3" if x == 0 else "#999")
            ax.scatter([x], [y], s=160, color=color, zorder=3)
            ax.text(x, y - 0.18, node[:12] + "…", fontsize=7, ha="center", va="top")
        ax.set_xlabel("hops from the traced address" + (" (upstream: sources on the left)"
                                                         if exposure.direction == UPSTREAM else ""))
        span = max(abs(y) for _, y in pos.values())
        ax.set_ylim(-span - 0.8, span + 0.6)
        depth = max(abs(x) for x, _ in pos.values())
        ax.set_xlim(-0.6 if sign > 0 else -depth - 0.6, depth + 0.6 if sign > 0 else 0.6)
        ax.set_xticks([sign * d for d in range(int(depth) + 1)], [str(d) for d in range(int(depth) + 1)])
        ax.set_yticks([])
        ax.set_title(f"{exposure.direction} flow of {exposure.address[:16]}…")

    width = 3.0 + 2.2 * max(1, max(abs(c) for c in column.values()))
    return plots.png(draw, (min(width, 12.0), 2.4 + 0.9 * max(len(v) for v in rows.values())))


def _section(heading: str, exposure: Exposure) -> dict[str, object]:
    cats = ", ".join(f"{k} {v:.3f}" for k, v in sorted(exposure.by_category.items(), key=lambda kv: -kv[1]))
    return {"heading": heading, "direction": exposure.direction, "haircut": f"{exposure.haircut:.4f}",
            "poison": f"{exposure.poison:.4f}", "hops": "—" if exposure.hops is None else exposure.hops,
            "categories": cats or "none", "graph": flow_graph_png(exposure), "paths": exposure.paths}


def _when(us: int) -> str:
    return (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)).strftime("%Y-%m-%d %H:%M")


def render(title: str, exposures: list[tuple[str, Exposure]], subtitle: str = "",
           summary: list[list[object]] | None = None, summary_head: list[str] | None = None) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_TEMPLATE)
    return template.render(title=title, subtitle=subtitle, sections=[_section(h, e) for h, e in exposures],
                           summary=summary or [], summary_head=summary_head or [], when=_when)


def write_report(path: str | os.PathLike[str], title: str, exposures: list[tuple[str, Exposure]],
                 subtitle: str = "", summary: list[list[object]] | None = None,
                 summary_head: list[str] | None = None) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(title, exposures, subtitle, summary, summary_head), encoding="utf-8")
    return out


def exposure_from_row(row: dict[str, object]) -> Exposure:
    """Rebuild an `Exposure` from a stored `chain_exposure` row (its evidence JSON)."""
    from cryptoscope.chain.exposure import DOWNSTREAM, Hop

    paths = tuple(ExposurePath(p["category"], p["source"], p["label_source"], p["hops"], p["share"], 0,
                               tuple(Hop(h["txid"], h["from"], h["to"], h["amount"], h["time_us"])
                                     for h in p["payments"]))
                  for p in json.loads(str(row["evidence"])))
    decay = ExposureConfig().decay
    cats: dict[str, float] = {}
    for p in paths:
        cats[p.category] = cats.get(p.category, 0.0) + p.share * decay ** p.hops
    return Exposure(str(row["address"]), UPSTREAM if row["direction"] == "deposit" else DOWNSTREAM,
                    float(row["haircut"]), float(row["poison"]),  # type: ignore[arg-type]
                    None if row["hops"] is None else int(row["hops"]), cats, paths, None)  # type: ignore[call-overload]


def write_demo_report(lake: LakeLike, out_dir: str | os.PathLike[str], examples: int = 4, *,
                      source: Source | None = None) -> Path:
    """`make demo`: score the lake's transfers, store the scores, and write ``chain_exposure.html``.

    Shows per mode and direction how many transfers are exposed, then the flow graphs of the
    most exposed deposits and withdrawals at different hop distances. ``source``: the Ibis backend
    to read the lake with (a batch run's engine); the lake's own DuckDB backend when left out.
    """
    from cryptoscope.chain.scoring import score_transfers, write_scores

    rows = score_transfers(lake if source is None else source)
    write_scores(lake, rows)
    with scratch() as backend:  # only the fresh scores are queried here
        scores = ibis.memtable(rows)
        summary = [list(r.values()) for r in backend.to_pyarrow(_summary(scores)).to_pylist()]
        picks = backend.to_pyarrow(_most_exposed(scores, examples)).to_pylist()
    sections = [(f"{r['direction']} {r['transfer_id']} of user {r['user_id']} on {r['chain']} "
                 f"({r['hops']} hops)", exposure_from_row(r)) for r in picks]
    out = Path(out_dir) / "chain_exposure.html"
    return write_report(out, "Chain exposure of the exchange's transfers", sections,
                        subtitle=f"lake {Lake(lake).root if not isinstance(lake, Lake) else lake.root}; "
                                 "scores in the lake table chain_exposure",
                        summary=summary, summary_head=["mode", "direction", "transfers", "exposed",
                                                       "mean haircut", "exposed at 1+ hops"])


def _summary(scores: ir.Table) -> ir.Table:
    """Per mode and direction: transfers, exposed ones, mean haircut, exposed ones at one hop or more."""
    return scores.group_by(["mode", "direction"]).aggregate(
        transfers=scores.count(), exposed=scores.count(where=scores.poison > 0),
        mean_haircut=scores.haircut.mean().round(5), far=scores.count(where=scores.hops >= 1)
    ).order_by(["mode", "direction"])


def _most_exposed(scores: ir.Table, examples: int) -> ir.Table:
    """The most exposed retrospective transfer of each direction and hop count, farthest first."""
    exposed = scores.filter(scores.mode == "retrospective", scores.poison > 0)
    rank = ibis.row_number().over(group_by=[exposed.direction, exposed.hops],
                                  order_by=[exposed.haircut.desc(), exposed.transfer_id])
    best = exposed.mutate(_rank=rank)
    best = best.filter(best._rank == 0).drop("_rank")
    return best.order_by([best.hops.desc(), best.direction]).limit(examples)
