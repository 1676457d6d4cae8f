"""A consumer's snapshot: its online state, context and surveillance state, and the stream position they cover.

Files ``state-<seq>.sqlite`` (the feature windows, `OnlineFeatureState.snapshot`) and ``side-<seq>.pickle``
(the rest, our own file), written in that order; the side file is the commit point, so a crash while
writing leaves the previous pair in force. Older pairs are removed once a newer one is complete.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.fsio import atomic_write
from cryptoscope.serve.online import OnlineScorer, product_views


@dataclass
class Side:
    """Everything but the feature windows."""

    seq: int
    context: Any
    detector: Any
    background: dict[str, list[dict[str, Any]]]
    clock: int | None
    emitted: set[str]  # alerts already out, or already known when the consumer was warmed


def save(folder: Path, scorer: OnlineScorer, side: Side) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    scorer.state.snapshot(folder / f"state-{side.seq:012d}.sqlite")
    atomic_write(folder / f"side-{side.seq:012d}.pickle", pickle.dumps(side, protocol=pickle.HIGHEST_PROTOCOL))
    for old in folder.glob("*-*.*"):
        if old.stem.split("-")[-1] != f"{side.seq:012d}":
            old.unlink(missing_ok=True)


def load(folder: Path, scorer: OnlineScorer) -> Side | None:
    """The newest complete snapshot into ``scorer`` (its side returned), or None when there is none."""
    sides = sorted(folder.glob("side-*.pickle"))
    if not sides:
        return None
    side: Side = pickle.loads(sides[-1].read_bytes())  # our own file, written by save()
    scorer.state = OnlineFeatureState.restore(folder / f"state-{side.seq:012d}.sqlite", product_views())
    scorer.context = side.context
    return side
