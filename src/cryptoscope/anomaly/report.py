"""An HTML page of the top cases, each with its reasons, members and the picture of its graph."""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path

from jinja2 import Environment

from cryptoscope.cases.store import CaseStore
from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.pipeline import GraphResult
from cryptoscope.graph.show import neighbourhood

_TEMPLATE = """<!doctype html><html><head><meta charset="utf-8"><title>cryptoscope — top cases</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}
.case{border:1px solid #ccc;border-radius:6px;padding:1em;margin:1em 0}
.meta{color:#666;font-size:90%} img{max-width:100%} li{margin:.2em 0}</style></head><body>
<h1>Top {{ cases|length }} cases</h1>
<p class="meta">Graph as of {{ as_of }}; {{ total }} cases in the queue.
Scores are percentiles among the run's users or rings.</p>
{% for c in cases %}<div class="case">
<h2>#{{ c.id }} {{ c.title }} <small>({{ c.state }}, score {{ '%.3f' % c.score }})</small></h2>
<p class="meta">detected {{ c.detected }}; {{ c.members|length }} members
{%- if c.assignee %}; assigned to {{ c.assignee }}{% endif %}</p>
<ul>{% for r in c.reasons %}<li>{{ r }}</li>{% endfor %}</ul>
<p class="meta">members: {{ c.members[:40]|join(', ') }}{% if c.members|length > 40 %} …{% endif %}</p>
{% if c.png %}<img alt="graph of case {{ c.id }}" src="data:image/png;base64,{{ c.png }}">{% else %}
<p class="meta">no graph: the members share nothing with other accounts</p>{% endif %}</div>{% endfor %}
</body></html>"""


def write_cases_report(store: CaseStore, graph: GraphResult | None, path: str | os.PathLike[str], *,
                       top: int = 10) -> Path:
    """Write the report of the ``top`` highest-scoring open or in-review cases to ``path``."""
    cases = [c for c in store.list_cases() if c.state in ("open", "in_review")][:top]
    if not cases:
        raise CryptoscopeError("the case queue has no open cases to report; run `cryptoscope anomaly run` first")
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        for c in cases:
            members = store.member_ids(c.id)
            items.append({"id": c.id, "title": c.title, "state": c.state, "score": c.score,
                          "detected": c.detected_at.strftime("%Y-%m-%d %H:%M"), "assignee": c.assignee,
                          "reasons": [r for r in c.reasons.split("; ") if r], "members": members,
                          "png": _picture(graph, members, Path(tmp) / f"{c.id}.png", c.title)})
    html = Environment(autoescape=True).from_string(_TEMPLATE).render(
        cases=items, total=len(store.list_cases()), as_of=graph.as_of.strftime("%Y-%m-%d %H:%M") if graph else "-")
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(f".{out.name}.tmp")
    tmp_out.write_text(html, encoding="utf-8")
    os.replace(tmp_out, out)
    return out


def _picture(graph: GraphResult | None, members: list[int], path: Path, title: str) -> str | None:
    if graph is None:
        return None
    inside = [m for m in members if graph.graph.vertex(m) is not None][:30]
    if not inside:
        return None
    neighbourhood(graph, inside, hops=1, max_nodes=45).draw(path, title=title)
    return base64.b64encode(path.read_bytes()).decode()
