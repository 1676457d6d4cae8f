"""What ``make demo`` calls: the whole behaviour analysis on a lake, its tables and its report."""

from __future__ import annotations

import os
from pathlib import Path

from cryptoscope.behaviour import analysis
from cryptoscope.behaviour.churn import churn_reasons
from cryptoscope.behaviour.report import write_report
from cryptoscope.behaviour.store import write_outputs
from cryptoscope.lake import Lake


def run_demo(lake: str | os.PathLike[str], out_dir: str | os.PathLike[str], *, engine: str = "duckdb") -> Path:
    """Analyse ``lake``, write behaviour_segments and churn_scores to it, return the HTML report's path."""
    result = analysis.run(lake, engine)
    scored = result.extras["scored"]
    top = scored.head(500).copy()
    scored["reasons"] = ""
    scored.loc[top.index, "reasons"] = churn_reasons(result.extras["churn"], top)
    write_outputs(Lake(lake), result)
    return write_report(result, Path(out_dir) / "behaviour.html")
