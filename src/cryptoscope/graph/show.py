"""A user's neighbourhood in the entity graph, as text for a terminal and as a picture for a report.

>>> hood = neighbourhood(load_graph("demo-lake/_abnormal/graph"), 10000000042)   # doctest: +SKIP
>>> print(hood.text())                                                          # doctest: +SKIP
>>> hood.draw("user-10000000042.png")                                           # doctest: +SKIP
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import igraph as ig
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from cryptoscope.errors import CryptoscopeError
from cryptoscope.graph.pipeline import GraphResult

_KIND_COLOURS = {"device": "#d62728", "card": "#9467bd", "bank": "#8c564b", "address": "#ff7f0e",
                 "document": "#e377c2", "ip": "#7f7f7f", "referrer": "#1f77b4"}


@dataclass(frozen=True)
class Neighbourhood:
    """The focus users, their neighbours within ``hops`` and what links them."""

    focus: tuple[int, ...]
    subgraph: ig.Graph
    ring_of: dict[int, int]
    known_bad: frozenset[int]
    shared: pd.DataFrame  # user_a, user_b, kind, entity

    def text(self) -> str:
        """Who is linked to whom, through which entities, strongest ties first."""
        g = self.subgraph
        lines = [f"users {', '.join(map(str, self.focus))}: {g.vcount()} accounts and {g.ecount()} ties "
                 f"within the neighbourhood"]
        names = g.vs["name"]
        focus = set(self.focus)
        # ties of the focus users first, strongest first; then ties among their neighbours
        order = sorted(range(g.ecount()), key=lambda e: (not ({names[v] for v in g.es[e].tuple} & focus),
                                                          -g.es[e]["weight"]))
        for e in order:
            a, b = (names[v] for v in g.es[int(e)].tuple)
            kinds = g.es[int(e)]["kinds"]
            ents = self.shared[((self.shared.user_a == a) & (self.shared.user_b == b))
                               | ((self.shared.user_a == b) & (self.shared.user_b == a))]["entity"].tolist()
            lines.append(f"  {self._tag(a)} — {self._tag(b)}  weight {g.es[int(e)]['weight']:.2f}  via {kinds}"
                         f"{': ' + ', '.join(ents[:4]) + (' …' if len(ents) > 4 else '') if ents else ''}")
        return "\n".join(lines)

    def _tag(self, user: int) -> str:
        bad = " (known bad)" if user in self.known_bad else ""
        return f"{user} [ring {self.ring_of.get(user, '-')}]{bad}"

    def draw(self, path: str | os.PathLike[str], *, title: str | None = None) -> None:
        """Write a PNG: focus users ringed in red, known-bad users black, edges coloured by kind."""
        g = self.subgraph
        # a Figure on the Agg canvas, never pyplot: drawing for a report must not switch the backend of the
        # process (a notebook's inline plots stop showing once anything calls matplotlib.use("Agg"))
        fig = Figure(figsize=(7, 6), dpi=110)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        if g.vcount():
            layout = np.asarray(g.layout_fruchterman_reingold(weights="weight" if g.ecount() else None,
                                                                niter=500, seed=None).coords)
            for e in g.es:
                (x1, y1), (x2, y2) = layout[e.source], layout[e.target]
                kind = _main_kind(e["kinds"])
                ax.plot([x1, x2], [y1, y2], color=_KIND_COLOURS.get(kind, "#aaaaaa"),
                        linewidth=0.6 + 1.5 * min(e["weight"], 3.0), alpha=0.7, zorder=1)
            names = g.vs["name"]
            colours = ["black" if n in self.known_bad else "#fdd49e" for n in names]
            edges = ["red" if n in self.focus else "#555555" for n in names]
            ax.scatter(layout[:, 0], layout[:, 1], s=160, c=colours, edgecolors=edges, linewidths=2.0, zorder=2)
            for (x, y), n in zip(layout, names, strict=True):
                ax.annotate(str(n)[-6:], (x, y), fontsize=6, ha="center", va="bottom", xytext=(0, 6),
                            textcoords="offset points")
        for kind, colour in _KIND_COLOURS.items():
            ax.plot([], [], color=colour, label=kind)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
        ax.set_title(title or f"neighbourhood of {', '.join(map(str, self.focus))}", fontsize=9)
        ax.set_axis_off()
        fig.tight_layout()
        fig.savefig(path)


def _main_kind(kinds: str) -> str:
    order = ("device", "card", "document", "address", "bank", "referrer", "ip")
    present = set(kinds.split(","))
    return next((k for k in order if k in present), "ip")


def neighbourhood(result: GraphResult, users: int | list[int], *, hops: int = 1, max_nodes: int = 60
                  ) -> Neighbourhood:
    """The users plus everyone within ``hops`` ties (the strongest ``max_nodes`` when there are more)."""
    focus = [users] if isinstance(users, int) else list(users)
    eg = result.graph
    verts = [eg.vertex(u) for u in focus]
    if any(v is None for v in verts):
        missing = [u for u, v in zip(focus, verts, strict=True) if v is None]
        raise CryptoscopeError(f"user {missing[0]} is not in the graph: no such account had any session, "
                               "payment, transfer or KYC submission before the graph's cut-off")
    g = eg.graph
    found = {int(v) for v in verts if v is not None}
    for v in list(found):
        found.update(g.neighborhood(v, order=hops))
    if len(found) > max_nodes:
        # keep the neighbours most tied to the focus users, not the busiest accounts overall
        keep = {int(v) for v in verts if v is not None}
        tie = dict.fromkeys(found - keep, 0.0)
        for v in keep:
            for e in g.es[g.incident(v)]:
                other = e.target if e.source == v else e.source
                if other in tie:
                    tie[other] += e["weight"]
        found = keep | set(sorted(tie, key=lambda v: -tie[v])[:max(0, max_nodes - len(keep))])
    sub = g.induced_subgraph(sorted(found))
    names = set(sub.vs["name"])
    links = eg.links[eg.links["user_id"].isin(names)][["user_id", "kind", "entity"]].drop_duplicates()
    pairs = links.merge(links, on=["kind", "entity"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["user_id_a"] < pairs["user_id_b"]].rename(columns={"user_id_a": "user_a",
                                                                           "user_id_b": "user_b"})
    members = result.features.membership
    ring_of = {int(u): int(r) for u, r in zip(members.index, members.to_numpy(), strict=True) if u in names}
    return Neighbourhood(tuple(focus), sub, ring_of, result.known_bad, pairs[["user_a", "user_b", "kind", "entity"]])
