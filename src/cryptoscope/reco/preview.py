"""The recommendations line's preview page: the suitability levels and a few users' lists with their reasons."""

from __future__ import annotations

import html

import numpy as np

from cryptoscope.reco.model import Recommender
from cryptoscope.reco.serve import BatchRun

USERS_PER_LEVEL = 2


def _sample_users(model: Recommender) -> list[int]:
    level, exists = model.snap.state.level, model.snap.state.exists
    active = np.asarray(model.snap.history.weights.sum(1)).ravel() > 0
    rng = np.random.default_rng(0)
    picked: list[int] = []
    for lvl in range(1, 6):
        pool = np.flatnonzero((level == lvl) & exists & active)
        if len(pool):
            picked += [int(u) for u in rng.choice(pool, min(USERS_PER_LEVEL, len(pool)), replace=False)]
    return picked


def preview_page(model: Recommender, run: BatchRun, seconds: float) -> str:
    """The HTML preview: suitability levels, and the lists of a few users of each level with their reasons."""
    state = model.snap.state
    levels = np.bincount(state.level[state.exists], minlength=6)[1:]
    users = np.array(_sample_users(model), dtype=np.int64)
    lists = model.explain(users, model.top(users, 10)) if len(users) else []
    parts = [f"<h1>Recommendations as of {run.as_of}</h1>",
             f"<p>{run.users:,} users, {run.rows:,} recommendations written to the lake table "
             f"<code>recommendations</code> (model {html.escape(run.model_version)}) in {seconds:.0f} s.</p>",
             "<h2>Suitability levels</h2><table><tr><th>level</th><th>users</th></tr>",
             *(f"<tr><td>{i}</td><td>{n:,}</td></tr>" for i, n in enumerate(levels, 1)), "</table>"]
    for u, recs in zip(users, lists, strict=True):
        parts.append(f"<h3>user {int(model.user_ids[u])} — {html.escape(str(model.countries[u]))}, "
                     f"level {int(state.level[u])}</h3><ol>")
        parts += [f"<li><b>{html.escape(r.item_id)}</b> ({r.item_type}, risk {r.item_risk}) — "
                  f"{html.escape(r.reason)}</li>" for r in recs]
        parts.append("</ol>")
    style = "body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{padding:0 1em;text-align:right}"
    return f"<!doctype html><html><head><meta charset='utf-8'><style>{style}</style></head><body>" \
           + "\n".join(parts) + "</body></html>\n"
