"""Pictures for the console: the linked-accounts graph of a case's members."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from fastapi import HTTPException

from cryptoscope.errors import CryptoscopeError


def case_graph_png(svc: Any, users: list[int]) -> bytes:
    """PNG of the entity-graph neighbourhood of ``users`` (up to five), from the graph the abnormal run saved."""
    try:
        from cryptoscope.graph.pipeline import load_graph
        from cryptoscope.graph.show import neighbourhood
    except ImportError as exc:
        raise HTTPException(503, f"the entity graph is not available in this build ({exc})") from None
    cache: dict[str, Any] = svc.__dict__.setdefault("lookup_cache", {})
    folder = Path(svc.config.abnormal_dir) / "graph"
    if "graph" not in cache:
        if not folder.exists():
            raise HTTPException(503, f"no entity graph at {folder}: run `cryptoscope anomaly run` first")
        cache["graph"] = load_graph(folder)
    result = cache["graph"]
    focus = [u for u in users if result.graph.vertex(u) is not None][:5]
    if not focus:
        raise HTTPException(404, "none of the case's members is in the entity graph")
    try:
        hood = neighbourhood(result, focus, hops=1, max_nodes=40)
    except CryptoscopeError as exc:
        raise HTTPException(404, str(exc)) from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "graph.png"
        hood.draw(path, title=f"linked accounts of {', '.join(str(u) for u in focus)}")
        return path.read_bytes()
