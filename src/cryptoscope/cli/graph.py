"""`cryptoscope graph build|show`: the entity graph, its rings, and one user's neighbourhood."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cryptoscope.cli._shared import LakeOpt, WorkOpt, console, utc_time, work_dir

app = typer.Typer(help="The entity graph: users linked by devices, IPs, cards, addresses, documents, referrers; rings.",
                  no_args_is_help=True)


@app.command("build")
def graph_build(lake: LakeOpt = Path("./demo-lake"), work: WorkOpt = None,
                as_of: Annotated[str | None, typer.Option("--as-of", help="Only events before this UTC time "
                                                          "(default: the whole lake).")] = None) -> None:
    """Build the graph, its components and Leiden rings; save it under WORK/graph."""
    from cryptoscope.graph import build_graph, save_graph

    with console.status("building the entity graph"):
        result = build_graph(lake, utc_time(as_of, "--as-of") if as_of is not None else None)
        folder = save_graph(result, work_dir(lake, work) / "graph")
    g, rings = result.graph.graph, result.features.rings
    big = rings[rings["size"] >= 3].sort_values(["shared_kinds", "size"], ascending=False)
    console.print(f"{g.vcount():,} users, {g.ecount():,} ties, {len(g.connected_components()):,} components, "
                  f"{len(big):,} rings of 3+ accounts, {len(result.known_bad):,} known-bad users; saved to {folder}")
    for _, r in big.head(5).iterrows():
        console.print(f"  ring {int(r['ring_id'])}: {int(r['size'])} accounts, density {r['density']:.2f}, "
                      f"{int(r['shared_kinds'])} kinds shared, {int(r['known_bad'])} known bad", highlight=False)


@app.command("show")
def graph_show(user: Annotated[int, typer.Argument(help="User id.")], lake: LakeOpt = Path("./demo-lake"),
               work: WorkOpt = None, hops: Annotated[int, typer.Option(help="Ties away from the user.")] = 1,
               png: Annotated[Path | None, typer.Option("--png", help="Picture to write "
                                                        "(default: WORK/user-USER.png).")] = None) -> None:
    """The user's neighbourhood: who shares what with whom, as text and as a PNG picture."""
    from cryptoscope.graph import load_graph
    from cryptoscope.graph.show import neighbourhood

    folder = work_dir(lake, work)
    hood = neighbourhood(load_graph(folder / "graph"), user, hops=hops)
    path = png or folder / f"user-{user}.png"
    hood.draw(path)
    console.print(hood.text(), highlight=False, soft_wrap=True, markup=False)
    console.print(f"picture: {path}")
