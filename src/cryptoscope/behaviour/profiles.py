"""Each segment in plain words and numbers: size, typical behaviour, and how it differs from the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: (column, words) shown for every segment: medians of the 90-day profile
SHOWN = (("active_days_90d", "active days in 90"), ("sessions_90d", "sessions in 90 days"),
         ("api_share_90d", "share of sessions via API"), ("login_countries_90d", "login countries"),
         ("home_ip_accounts", "accounts on the home IP"), ("deposit_size_usd_90d", "typical deposit (USD)"),
         ("trades_30d", "trades last month"), ("volume_usd_30d", "volume last month (USD)"),
         ("product_events_30d", "product interactions last month"), ("futures_events_30d", "futures interactions"),
         ("earn_events_30d", "earn interactions"))


def profiles(frame: pd.DataFrame, labels: np.ndarray, names: list[str]) -> pd.DataFrame:
    """One row per segment: users, share, medians of `SHOWN`, and the three biggest differences in words."""
    rows = []
    cols = [c for c, _ in SHOWN if c in frame]
    data = frame[cols].astype(float)
    for seg, name in enumerate(names):
        inside = labels == seg
        if not inside.any():
            rows.append({"segment": seg, "name": name, "users": 0, "share": 0.0, "differs": ""})
            continue
        med_in, med_out = data[inside].median(), data[~inside].median()
        row: dict[str, object] = {"segment": seg, "name": name, "users": int(inside.sum()),
                                  "share": float(inside.mean())}
        row.update({c: float(med_in[c]) for c in cols})
        row["differs"] = _differences(data[inside], data[~inside], med_in, med_out)
        rows.append(row)
    return pd.DataFrame(rows)


def _differences(inside: pd.DataFrame, outside: pd.DataFrame, med_in: pd.Series, med_out: pd.Series) -> str:
    """The three columns whose means differ most in pooled standard deviations, with both medians."""
    spread = pd.concat([inside, outside]).std().replace(0, np.nan)
    effect = ((inside.mean() - outside.mean()) / spread).dropna()
    words = dict(SHOWN)
    top = effect.abs().sort_values(ascending=False).index[:3]
    return "; ".join(f"{'more' if effect[c] > 0 else 'fewer/less'} {words[c]} "
                     f"(median {med_in[c]:,.2f} vs {med_out[c]:,.2f})" for c in top)
