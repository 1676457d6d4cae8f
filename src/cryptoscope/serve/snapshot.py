"""One snapshot of the online state for every process that holds it: the scoring server and the stream consumer.

A snapshot is a pair of files in a folder: ``state-<seq>.sqlite`` (the feature windows,
`OnlineFeatureState.snapshot`) and ``side-<seq>.pickle`` (the context, the explainers' background, the clock
and what the holder keeps besides: the consumer's surveillance detector and the alerts already out), written
in that order. The side file is the commit point, so a crash while writing leaves the previous pair in force;
older pairs are removed once a newer one is complete. ``seq`` is the position in the holder's own log that the
state includes: the server's journal, the consumer's stream.

Because the format is one, a server can start from a consumer's snapshot (`cryptoscope serve --from-snapshot`):
the state the stream built, without replaying the lake.

>>> side = load(Path("work/stream-consumer"), scorer)          # doctest: +SKIP
>>> save(Path("work/serve"), scorer, Side(0, scorer.context, side.background))  # doctest: +SKIP
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptoscope.features.online import OnlineFeatureState
from cryptoscope.fsio import atomic_write
from cryptoscope.serve.online import OnlineScorer, product_views


@dataclass
class Side:
    """Everything of a snapshot but the feature windows."""

    seq: int
    context: Any
    background: dict[str, list[dict[str, Any]]]
    clock: int | None = None  # the newest event time applied, in microseconds (the stream's lateness check)
    extra: dict[str, Any] = field(default_factory=dict)  # the holder's own state, e.g. the consumer's detector


def save(folder: Path, scorer: OnlineScorer, side: Side) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    scorer.state.snapshot(folder / f"state-{side.seq:012d}.sqlite")
    atomic_write(folder / f"side-{side.seq:012d}.pickle", pickle.dumps(side, protocol=pickle.HIGHEST_PROTOCOL))
    for old in [*folder.glob("state-*.sqlite"), *folder.glob("side-*.pickle")]:
        if old.stem.split("-")[-1] != f"{side.seq:012d}":
            old.unlink(missing_ok=True)


def exists(folder: Path) -> bool:
    return any(folder.glob("side-*.pickle"))


def load(folder: Path, scorer: OnlineScorer) -> Side | None:
    """The newest complete snapshot into ``scorer`` (its side returned), or None when there is none."""
    sides = sorted(folder.glob("side-*.pickle"))
    if not sides:
        return None
    side: Side = pickle.loads(sides[-1].read_bytes())  # our own file, written by save()
    scorer.state = OnlineFeatureState.restore(folder / f"state-{side.seq:012d}.sqlite", product_views())
    scorer.context = side.context
    return side
