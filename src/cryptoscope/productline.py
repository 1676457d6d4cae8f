"""The product contract: what every product line declares and does, so the platform can drive them all alike.

A product line is one object (scikit-learn's discipline: parameters in ``__init__``, never changed by a
run; what it learns or loads in attributes with a trailing underscore). It declares its ``name``, a
one-line ``purpose``, the lake tables it ``reads`` and ``writes``, the lines it must run ``after`` and the
CLI ``command`` that works it by hand; ``run(ctx)`` is its batch stage. A line decided online
(`OnlineProduct`) also names the lake ``table`` its decisions arrive in and scores them with
``score_one(row)`` and ``score_many(rows)`` (river's ``_one``/``_many`` pair), both over one
implementation of its derived columns, rules and guardrail, so the fast row path cannot drift from batch.

The registry (``cryptoscope.products``) lists the lines; ``demo``, ``serve``, the CLI and the conformance
tests loop over it. This module imports no product line, and no product line imports the registry.

>>> from cryptoscope.products import LINES                        # doctest: +SKIP
>>> ctx = RunContext(Lake("demo-lake"), Path("models-registry"), Path("reports"))  # doctest: +SKIP
>>> print(LINES["abnormal"].run(ctx).summary)                        # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from cryptoscope.features.engines import Engine
from cryptoscope.lake import Lake


@dataclass(frozen=True)
class RunContext:
    """Where a batch stage reads and writes, and how it reports progress.

    ``progress`` takes one short line ("training withdrawal", "scoring 28,479 decisions"): the CLI shows it
    in a spinner, tests ignore it."""

    lake: Lake
    registry: Path = Path("./models-registry")
    reports: Path = Path("./reports")
    engine: Engine = "duckdb"
    progress: Callable[[str], None] = field(default=lambda line: None)

    def connect(self) -> Any:
        """An Ibis connection over the lake on this context's engine."""
        from cryptoscope.features.engines import connect

        return connect(self.lake.root, self.engine)


@dataclass(frozen=True)
class StageResult:
    """What a batch stage did: one line for the console, and its report when it wrote one."""

    summary: str
    report: Path | None = None


@runtime_checkable
class ProductLine(Protocol):
    """A product line's batch side; see the module doc. Read-only declarations: class attributes or properties."""

    @property
    def name(self) -> str: ...

    @property
    def purpose(self) -> str: ...

    @property
    def reads(self) -> tuple[str, ...]: ...

    @property
    def writes(self) -> tuple[str, ...]: ...

    @property
    def after(self) -> tuple[str, ...]: ...

    @property
    def command(self) -> str: ...

    def run(self, ctx: RunContext) -> StageResult:
        """Read the lake, write the declared tables and the report; raise ``CryptoscopeError`` when this lake
        cannot support the stage (the caller says why and goes on with the others)."""
        ...


@dataclass(frozen=True)
class Decision:
    """One decision: the calibrated score, what to do, why in words, and the model inputs (for drift)."""

    kind: str
    entity_id: str
    user_id: int
    event_time: dt.datetime
    score: float
    decision: str
    reasons: tuple[str, ...]
    model: str
    model_version: int
    features: dict[str, float]


@runtime_checkable
class OnlineProduct(ProductLine, Protocol):
    """A product line decided event by event as well as in batch."""

    @property
    def table(self) -> str:
        """The lake table its decisions arrive in."""
        ...

    @property
    def online(self) -> bool:
        """Whether it is decided as its events arrive (a line that needs another's batch output first is not)."""
        ...

    def is_decision(self, row: Mapping[str, Any]) -> bool:
        """Whether a row of ``table`` is one of its decisions (a card deposit among payments, ...)."""
        ...

    def score_one(self, row: Mapping[str, Any]) -> Decision:
        """One decision row (spine and feature values, as ``decision_row`` builds it), scored and explained."""
        ...

    def score_many(self, frame: pd.DataFrame) -> list[Decision]:
        """A frame of decision rows at once: the same answers as ``score_one`` on each row."""
        ...
