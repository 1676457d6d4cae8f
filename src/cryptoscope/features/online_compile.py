"""The per-event hot path of the online state, generated once per (view, source) as straight-line Python.

The same for reading (``compile_reader``): a view's features for one key and time, unrolled from its plan
(about half the time of interpreting it, ``ViewState.features_reference``, which stays as its specification).

A generic loop over conditions and streams spends most of its time interpreting the view's plan
(it took about 1.7x the time per event of this code when replaying a simulated world through the
shipped views). The generated function does
exactly what the plan says for one source: the source's ``where`` on the raw row, the projection
(column renames and row functions), each distinct aggregation condition once, one append per
matching stream. Constants and functions are passed in by name, never pasted as text, so any
value a `Cond` can hold works. ``SourcePlan.code`` keeps the text for debugging.

Conditions keep `Cond.evaluate`'s meaning: a null never passes (SQL: a comparison with NULL is
not true); the tests compare the generated checks with ``evaluate`` operator by operator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptoscope.features.spec import Cond, FeatureView, Source

Row = Mapping[str, Any]

_OPS = {"==": "==", "!=": "!=", ">": ">", ">=": ">=", "<": "<", "<=": "<=", "in": "in", "not in": "not in"}


@dataclass(frozen=True)
class StreamSpec:
    """Rows passing every condition in ``conds`` (indices into the view's distinct conditions);
    with a ``column``, only rows where it is not null, and its values are kept."""

    conds: tuple[int, ...]
    column: str | None


@dataclass(frozen=True)
class SourcePlan:
    table: str
    add: Callable[[Row, int], bool]  # (raw row, event time µs) -> whether the view's FIFO was empty before
    code: str


def row_function(fn: Callable[[Any], Any]) -> Callable[[Row], Any]:
    """A Source row function on a dict row; a TypeError caused by a null input is SQL's null, not an error."""

    def get(row: Row) -> Any:
        try:
            return fn(row)
        except TypeError:
            if any(v is None for v in row.values()):
                return None
            raise

    return get


def _test(var: str, cond: Cond, const: str) -> str:
    if cond.op not in _OPS:
        raise ValueError(f"condition {cond}: unknown operator {cond.op!r}")
    return f"({var} is not None and {var} {_OPS[cond.op]} {const})"


def compile_source(view: FeatureView, src: Source, conds: tuple[Cond, ...], streams: tuple[StreamSpec, ...],
                   bindings: dict[str, Any]) -> SourcePlan:
    """The add function of one source. ``bindings`` must hold ``keys`` (dict), ``fifo_t`` and ``fifo_k``
    (deques), ``new_window`` (() -> KeyWindow) and ``late`` ((kw, t, projected row) -> None)."""
    ns: dict[str, Any] = dict(bindings)
    lines = ["def add(row, t):"]
    for i, c in enumerate(src.where):  # on the raw table's columns, before projection
        ns[f"W{i}"] = c.value
        lines.append(f"    x = row[{c.column!r}]")
        lines.append(f"    if not {_test('x', c, f'W{i}')}: return False")

    names = [view.key, *(c for c in view.input_columns() if c != view.key)]
    var = {name: f"p{i}" for i, name in enumerate(names)}
    for name in names:
        spec = src.columns.get(name, name)
        if isinstance(spec, str):
            lines.append(f"    {var[name]} = row[{spec!r}]")
        else:
            ns[f"G_{var[name]}"] = row_function(spec)
            lines.append(f"    {var[name]} = G_{var[name]}(row)")
        if name == view.key:
            lines.append(f"    if {var[name]} is None: return False")  # a null key never joins a spine row

    for i, c in enumerate(conds):
        ns[f"V{i}"] = c.value
        lines.append(f"    c{i} = {_test(var[c.column], c, f'V{i}')}")

    key = var[view.key]
    lines += [f"    kw = keys.get({key})",
              "    if kw is None:",
              f"        kw = keys[{key}] = new_window()",
              "    T = kw.times",
              "    if T[0] and T[0][-1] > t:",
              "        late(kw, t, {" + ", ".join(f"{n!r}: {v}" for n, v in var.items()) + "})",
              "    else:"]
    if any(s.column for s in streams):
        lines.append("        V = kw.values")
    for i, s in enumerate(streams):
        tests = [f"c{c}" for c in s.conds] + ([f"{var[s.column]} is not None"] if s.column else [])
        body = f"T[{i}].append(t)" + (f"; V[{i}].append({var[s.column]})" if s.column else "")
        lines.append(f"        if {' and '.join(tests)}: {body}" if tests else f"        {body}")
    lines += ["    fifo_t.append(t)",
              f"    fifo_k.append({key})",
              "    return len(fifo_t) == 1"]
    code = "\n".join(lines) + "\n"
    exec(compile(code, f"<online add: {view.name} from {src.table}>", "exec"), ns)
    return SourcePlan(src.table, ns["add"], code)


@dataclass(frozen=True)
class AggPlan:
    """One aggregation of a view: its function, the stream it reads, its feature name per window."""

    fn: str
    stream: int
    names: tuple[str, ...]  # one feature name per window, in the view's window order


#: aggregations whose answer is never null (the others are None over an empty window)
_NEVER_NULL = ("count", "sum", "nunique")


def compile_reader(view: FeatureView, windows: tuple[int, ...], aggs: tuple[AggPlan, ...],
                   bindings: dict[str, Any], *, prefix: str = "", null: Any = None,
                   names: frozenset[str] | None = None) -> tuple[Callable[..., Any], str]:
    """The read function of a view, ``(key, at µs) -> {feature: value}``, and its text: the interpreted plan of
    ``ViewState.features_reference`` unrolled (the bisections, then one expression per feature).

    ``bindings`` must hold ``keys`` (dict), ``empty`` (the `KeyWindow` of an entity with no rows),
    ``bisect_left``, ``US_PER_S`` and ``reducers`` (fn name -> function over a window's values).
    Names get ``prefix``, and a null answer reads as ``null`` (a decision row's ``nan``); derived
    features are computed from the answers before that substitution, as the reference computes them.
    With ``names`` (unprefixed), only those features are read, and what their derived ones need: a served
    model and its rules read about a third of their views' features (``RiskScorer.reads``)."""
    ns: dict[str, Any] = {k: v for k, v in bindings.items() if k != "reducers"}
    ns["NULL"] = null
    if names is not None:
        names = _with_inputs(view, names)
        aggs = tuple(a for a in aggs if any(n in names for n in a.names))
    used = sorted({a.stream for a in aggs} | ({0} if any(a.fn == "share" for a in aggs) else set()))
    lines = ["def features(key, at):",
             "    kw = keys.get(key)",
             "    if kw is None:",
             "        kw = empty",
             "    T = kw.times",
             "    V = kw.values"]
    for s in used:
        lines.append(f"    t{s} = T[{s}]")
        lines.append(f"    e{s} = bisect_left(t{s}, at)")
    if any(a.fn == "since_last" for a in aggs):
        lines.append("    at_s = at // US_PER_S")
    starts = set()  # (stream, window) pairs whose window start is read: a share's also reads stream 0's
    for a in aggs:
        for k, name in enumerate(a.names):
            if names is None or name in names:
                starts.update({(a.stream, k), (0, k)} if a.fn == "share" else {(a.stream, k)})
    for k, w in enumerate(windows):
        if not any((s, k) in starts for s in used):
            continue
        lines.append(f"    b = at - {w}")
        for s in used:
            if (s, k) in starts:
                lines.append(f"    s{s}_{k} = bisect_left(t{s}, b, 0, e{s})")
    out: list[tuple[str, str, bool]] = []  # (feature name, local, may be null)
    for n, a in enumerate(aggs):
        if a.fn not in ("count", "share", "since_last"):
            ns[f"R{n}"] = bindings["reducers"][a.fn]
            lines.append(f"    v{n} = V[{a.stream}]")
        for k, name in enumerate(a.names):
            if names is not None and name not in names:
                continue
            local, s = f"o{n}_{k}", a.stream
            if a.fn == "count":
                expr = f"e{s} - s{s}_{k}"
            elif a.fn == "share":
                expr = f"(e{s} - s{s}_{k}) / (e0 - s0_{k}) if e0 - s0_{k} else None"
            elif a.fn == "since_last":
                expr = f"at_s - t{s}[e{s} - 1] // US_PER_S if e{s} - s{s}_{k} else None"
            else:
                expr = f"R{n}(v{n}[s{s}_{k}:e{s}])"
            lines.append(f"    {local} = {expr}")
            out.append((name, local, a.fn not in _NEVER_NULL))
    local_of = {name: local for name, local, _ in out}
    for i, d in enumerate(view.derived):
        if names is not None and d.name not in names:
            continue
        ns[f"D{i}"] = d.fn
        local_of[d.name] = f"d{i}"
        lines.append(f"    d{i} = D{i}({', '.join(local_of[c] for c in d.inputs)})")
        out.append((d.name, f"d{i}", True))
    items = [f"{prefix + name!r}: " + (f"(NULL if {local} is None else {local})" if nullable and null is not None
                                       else local) for name, local, nullable in out]
    lines.append("    return {" + ", ".join(items) + "}")
    code = "\n".join(lines) + "\n"
    exec(compile(code, f"<online read: {view.name}{' as ' + prefix if prefix else ''}>", "exec"), ns)
    return ns["features"], code


def _with_inputs(view: FeatureView, names: frozenset[str]) -> frozenset[str]:
    """``names`` and every feature the view's derived features among them are computed from."""
    out = set(names)
    for d in reversed(view.derived):  # a derived feature may read an earlier one
        if d.name in out:
            out.update(d.inputs)
    return frozenset(out)
