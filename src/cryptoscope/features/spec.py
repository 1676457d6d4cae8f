"""The declarative feature-view API: what to aggregate, over which windows, for which entity.

A view is plain data (frozen dataclasses), so the same definition drives the offline builder
(Ibis, on DuckDB or Spark) and the online state (pure Python, per event). Anything computed
per row or after aggregation is written with operators that work on both Ibis expressions and
Python values (``+ - * /``, comparisons, `ratio`).

>>> from cryptoscope.features.spec import FeatureView, Agg, Source, eq
>>> view = FeatureView(
...     name="user_logins", entity="user", key="user_id", sources=(Source("sessions"),),
...     windows=("1h", "24h"), aggs=(Agg("logins", "count"), Agg("failed", "count", where=(eq("success", False),))))
>>> view.feature_names()[:2]
['logins_1h', 'logins_24h']
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

AggFn = Literal["count", "sum", "mean", "std", "min", "max", "nunique", "since_last", "share"]
Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not in"]
ENTITIES = ("user", "device", "ip", "instrument", "address", "document", "symbol")

_WINDOW = re.compile(r"^(\d+)([mhd])$")


def window_delta(window: str) -> dt.timedelta:
    """'15m', '1h', '24h', '7d', '30d' as a timedelta."""
    m = _WINDOW.match(window)
    if not m:
        raise ValueError(f"window {window!r}: expected a number and m, h or d (e.g. 24h)")
    n, unit = int(m.group(1)), m.group(2)
    return dt.timedelta(minutes=n) if unit == "m" else dt.timedelta(hours=n) if unit == "h" else dt.timedelta(days=n)


@dataclass(frozen=True)
class Cond:
    """``column op value``: a filter both engines and the online state evaluate the same way."""

    column: str
    op: Op
    value: Any

    def evaluate(self, row: Mapping[str, Any]) -> bool:
        v = row[self.column]
        if v is None:
            return False  # SQL semantics: a comparison with NULL is not true
        ops: dict[str, Callable[[Any, Any], bool]] = {
            "==": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
            "in": lambda a, b: a in b, "not in": lambda a, b: a not in b,
        }
        return ops[self.op](v, self.value)


def eq(column: str, value: Any) -> Cond:
    return Cond(column, "==", value)


def isin(column: str, values: tuple[Any, ...]) -> Cond:
    return Cond(column, "in", tuple(values))


@dataclass(frozen=True)
class Source:
    """A lake table seen from the view's entity.

    ``columns`` maps output names to input column names or row functions (``lambda r: r["price"] *
    r["quantity"]``); the key, ``event_time`` and every column named in an Agg must come out of it.
    With no ``columns`` the table's own columns are used as they are. A view with two sources
    (e.g. a trade seen by its buyer and by its seller) unions them.
    """

    table: str
    columns: Mapping[str, str | Callable[[Any], Any]] = field(default_factory=dict)
    where: tuple[Cond, ...] = ()


@dataclass(frozen=True)
class Agg:
    """One aggregation, computed for every window of the view.

    ``count`` counts rows; ``sum``/``mean``/``std`` (sample)/``min``/``max``/``nunique`` use ``column``;
    ``since_last`` is whole seconds from the latest matching event to the decision time;
    ``share`` is the matching rows' share of all rows in the window.
    """

    name: str
    fn: AggFn
    column: str | None = None
    where: tuple[Cond, ...] = ()

    def __post_init__(self) -> None:
        needs_column = self.fn in ("sum", "mean", "std", "min", "max", "nunique")
        if needs_column and not self.column:
            raise ValueError(f"aggregation {self.name!r}: {self.fn} needs a column")
        if self.fn == "share" and not self.where:
            raise ValueError(f"aggregation {self.name!r}: share needs a where condition")


@dataclass(frozen=True)
class Derived:
    """A column computed from the view's features, e.g. a ratio of a short window to a long one."""

    name: str
    inputs: tuple[str, ...]
    fn: Callable[..., Any]
    doc: str = ""


@dataclass(frozen=True)
class FeatureView:
    name: str
    entity: str
    key: str  # the entity column in the (projected) source rows and in spines
    sources: tuple[Source, ...]
    windows: tuple[str, ...]
    aggs: tuple[Agg, ...]
    derived: tuple[Derived, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if self.entity not in ENTITIES:
            raise ValueError(f"view {self.name}: entity {self.entity!r} not one of {ENTITIES}")
        for w in self.windows:
            window_delta(w)
        names = self.feature_names()
        if len(set(names)) != len(names):
            raise ValueError(f"view {self.name}: duplicate feature names")
        known = set(self.agg_feature_names())
        for d in self.derived:
            missing = set(d.inputs) - known
            if missing:
                raise ValueError(f"view {self.name}: derived {d.name} uses unknown features {sorted(missing)}")

    @property
    def longest(self) -> dt.timedelta:
        return max(window_delta(w) for w in self.windows)

    def agg_feature_names(self) -> list[str]:
        return [f"{a.name}_{w}" for a in self.aggs for w in self.windows]

    def feature_names(self) -> list[str]:
        return [*self.agg_feature_names(), *(d.name for d in self.derived)]

    def input_columns(self) -> list[str]:
        """Columns an event row needs, besides the key and event_time."""
        cols: list[str] = []
        for a in self.aggs:
            for c in ([a.column] if a.column else []) + [w.column for w in a.where]:
                if c not in cols:
                    cols.append(c)
        return cols


def ratio(a: Any, b: Any) -> Any:
    """a / b, null when b is 0 or null: the same answer from Ibis expressions and Python numbers."""
    if hasattr(b, "nullif"):  # an Ibis expression
        return a / b.nullif(0)
    if a is None or b is None or b == 0:
        return None
    return a / b
