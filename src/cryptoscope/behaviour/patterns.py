"""Frequent sequential patterns (PrefixSpan) with support and lift, and what precedes churn or abuse.

A user's sequence is their event kinds in time order (login, deposit, buy, sell, earn, futures,
withdraw, loan), repeats in a row collapsed, so "deposit -> buy -> earn" means those happened in that
order, with anything in between. Mining uses the ``prefixspan`` package. Lift of a pattern
``p + [x]`` is support(p + [x]) / (support(p) * support([x])): above 1, x follows p more often than
if they were unrelated. Groups (churners, labelled abusers) are compared with matched normal users:
as many, drawn from the same segments, seen over the same kind of window.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import ibis
import numpy as np
import pandas as pd
from prefixspan import PrefixSpan

MAX_LEN = 40


def event_tokens(con: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """(user_id, event_time, token) of every behaviour event in [start, end)."""
    lo, hi = ibis.literal(start), ibis.literal(end)

    def part(table: str, user: str, token: Any, where: Any = None) -> Any:
        t = con.table(table)
        cond = (t.event_time >= lo) & (t.event_time < hi)
        t = t.filter(cond if where is None else cond & where(t))
        return t.select(user_id=t[user], event_time=t.event_time, token=token(t) if callable(token) else
                        ibis.literal(token))

    parts = [
        part("sessions", "user_id", "login", lambda t: t.success),
        part("payments", "user_id", lambda t: t.direction, lambda t: t.status == "completed"),
        part("chain_transfers", "user_id", lambda t: t.direction),
        part("trades", "buyer_user_id", "buy"), part("trades", "seller_user_id", "sell"),
        part("product_events", "user_id", lambda t: t.product_type, lambda t: t.action.isin(["trade", "subscribe"])),
        part("loans", "user_id", "loan"),
    ]
    union = parts[0]
    for p in parts[1:]:
        union = union.union(p, distinct=False)
    out = union.to_pyarrow().to_pandas()
    out["token"] = out["token"].replace({"withdrawal": "withdraw", "coin": "coin_buy", "article": "read"})
    return out.sort_values(["user_id", "event_time"], kind="stable").reset_index(drop=True)


def sequences(tokens: pd.DataFrame) -> pd.Series:
    """Per user, their tokens in order with repeats in a row collapsed (at most MAX_LEN)."""
    keep = tokens["token"].ne(tokens.groupby("user_id")["token"].shift())
    t = tokens[keep]
    return t.groupby("user_id")["token"].agg(lambda s: list(s)[:MAX_LEN])


def frequent_patterns(seqs: pd.Series, min_support: float = 0.05, max_len: int = 3, top: int = 20) -> pd.DataFrame:
    """Patterns of 2..max_len tokens in at least ``min_support`` of sequences, by lift then support."""
    data = [s for s in seqs if s]
    n = len(data)
    if n == 0:
        return pd.DataFrame(columns=["pattern", "users", "support", "lift"])
    ps = PrefixSpan(data)
    ps.maxlen = max_len
    found = {tuple(p): c for c, p in ps.frequent(max(1, int(np.ceil(min_support * n))))}
    rows = []
    for pat, count in found.items():
        if len(pat) < 2:
            continue
        head, last = found.get(pat[:-1]), found.get(pat[-1:])
        lift = (count / n) / ((head / n) * (last / n)) if head and last else float("nan")
        rows.append({"pattern": " -> ".join(pat), "users": count, "support": count / n, "lift": lift})
    out = pd.DataFrame(rows, columns=["pattern", "users", "support", "lift"])
    return out.sort_values(["lift", "support"], ascending=False).head(top).reset_index(drop=True)


def matched_normals(group: pd.Series, candidates: pd.Series, seed: int = 0) -> pd.Index:
    """As many users from ``candidates`` as ``group`` has in each segment (both: user_id -> segment)."""
    rng = np.random.default_rng(seed)
    picked: list[Any] = []
    for seg, n in group.value_counts().items():
        pool = candidates[candidates == seg].index.to_numpy()
        if len(pool):
            picked.extend(rng.choice(pool, size=min(n, len(pool)), replace=False).tolist())
    return pd.Index(picked)


def contrast(group: pd.Series, normals: pd.Series, min_support: float = 0.05, top: int = 15) -> pd.DataFrame:
    """Patterns by how much more often they precede the group's outcome than in matched normal users."""
    def supports(seqs: pd.Series) -> pd.Series:
        data = [s for s in seqs if s]
        ps = PrefixSpan(data)
        ps.maxlen = 3
        found = ps.frequent(max(1, int(np.ceil(min_support * max(len(data), 1)))))
        return pd.Series({" -> ".join(p): c / max(len(data), 1) for c, p in found if len(p) >= 2}, dtype=float)
    a, b = supports(group), supports(normals)
    both = pd.concat([a.rename("support_group"), b.rename("support_normal")], axis=1).fillna(0.0)
    both["ratio"] = (both["support_group"] + 1e-3) / (both["support_normal"] + 1e-3)
    both = both.rename_axis("pattern").reset_index()
    return both.sort_values("ratio", ascending=False).head(top).reset_index(drop=True)
