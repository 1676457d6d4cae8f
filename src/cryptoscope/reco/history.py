"""Everything known about users and items at one as-of day, as arrays ready for scoring.

`History` is computed once per as-of day from `LakeData` (only rows before that day) and then
answers any batch of users with array slicing: the same code serves the nightly batch and one
user from a warm process. Nothing after ``as_of`` is ever read, so training at an earlier as-of day
and labelling with the following days is leak-free.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from cryptoscope.reco.cf import dense_rows
from cryptoscope.reco.data import LakeData

#: interaction weight per action for the collaborative models: a view says little, an act a lot
VIEW_W, CLICK_W, ACT_W = 1.0, 3.0, 8.0
RECENT_DAYS, TREND_DAYS = 28, 7
SEGMENTS = ("retail", "vip", "institutional")
USER_FEATURES = ("level", "kyc", "flagged", "age_days", "log_events", "share_coin", "share_earn", "share_futures",
                 "share_article", "max_acted_risk", "log_deposits", "log_first_deposit", "log_chain_transfers",
                 "segment", "days_inactive")
ITEM_FEATURES = ("item_type", "item_risk", "item_log_users", "item_trend", "item_ret_1d", "item_ret_7d",
                 "item_vol_7d")


def _csr(frame: pd.DataFrame, values: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    m = sp.coo_matrix((values, (frame["user"].to_numpy(), frame["item"].to_numpy())), shape=shape)
    return sp.csr_matrix(m, dtype=np.float32)


@dataclass
class History:
    as_of: int
    weights: sp.csr_matrix  # CF weights: views + 3 clicks + 8 acts
    clicks: sp.csr_matrix
    acts: sp.csr_matrix
    net_usd: sp.csr_matrix  # signed notional bought: > 0 means holding
    last_day: sp.csr_matrix  # last interaction day - origin + 1 (0 = never)
    origin: int  # first day of the data
    recent: sp.csr_matrix  # weights in the last RECENT_DAYS
    user_features: np.ndarray  # (users, len(USER_FEATURES)) float32
    item_features: np.ndarray  # (items, len(ITEM_FEATURES)) float32
    segment_key: np.ndarray  # int per user: country x segment
    segment_pop: np.ndarray  # (segments, items) share of the segment's recently active users who used the item
    item_users: np.ndarray  # users with any interaction before as_of, per item
    trend: np.ndarray  # per item: last-7-day rate / last-28-day rate
    week_use: np.ndarray  # per item: interactions in the last 7 days (the trending baseline)

    def days_since(self, users: np.ndarray) -> np.ndarray:
        """(len(users), items) days since the user last touched the item; 999 when never."""
        stored = dense_rows(self.last_day, users)
        return np.where(stored > 0, self.as_of - (stored - 1 + self.origin), 999.0)


def build_history(data: LakeData, as_of: int) -> History:
    shape = (len(data.users), data.catalog.n)
    past = data.events[data.events["day"] < as_of]
    weight = (VIEW_W * past["views"] + CLICK_W * past["clicks"] + ACT_W * past["acts"]).to_numpy(np.float64)
    weights = _csr(past, weight, shape)
    recent_rows = past["day"].to_numpy() >= as_of - RECENT_DAYS
    recent = _csr(past[recent_rows], weight[recent_rows], shape)
    last = past.groupby(["user", "item"], as_index=False).agg(day=("day", "max"))
    origin = int(data.events["day"].min())
    last_day = _csr(last, last["day"].to_numpy() - origin + 1.0, shape)
    item_users = np.asarray((weights > 0).sum(0)).ravel().astype(np.float64)
    week = past["day"].to_numpy() >= as_of - TREND_DAYS
    week_use = np.bincount(past["item"].to_numpy()[week], minlength=shape[1]).astype(float)
    month_use = np.bincount(past["item"].to_numpy()[recent_rows], minlength=shape[1]).astype(float)
    trend = (week_use / TREND_DAYS + 1e-3) / (month_use / RECENT_DAYS + 1e-3)
    segment_key, segment_pop = _segments(data, recent)
    return History(as_of, weights, _csr(past, past["clicks"].to_numpy(float), shape),
                   _csr(past, past["acts"].to_numpy(float), shape), _csr(past, past["net_usd"].to_numpy(), shape),
                   last_day, origin, recent, _user_features(data, as_of, past),
                   _item_features(data, as_of, item_users, trend),
                   segment_key, segment_pop, item_users, trend, week_use)


def _segments(data: LakeData, recent: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    country = pd.Categorical(data.users["country"]).codes.astype(np.int64)
    seg = pd.Categorical(data.users["segment"], categories=SEGMENTS).codes.astype(np.int64)
    key = country * len(SEGMENTS) + np.maximum(seg, 0)
    used = sp.csr_matrix(recent > 0, dtype=np.float64)
    n_keys = int(key.max()) + 1 if len(key) else 1
    onehot = sp.csr_matrix((np.ones(len(key)), (key, np.arange(len(key)))), shape=(n_keys, len(key)))
    counts = np.asarray((onehot @ used).todense())
    active = np.asarray(onehot @ (np.asarray(used.sum(1)).ravel() > 0).astype(float)).ravel()
    return key, (counts / np.maximum(active, 1.0)[:, None]).astype(np.float32)


def _user_features(data: LakeData, as_of: int, past: pd.DataFrame) -> np.ndarray:
    n = len(data.users)
    out = np.zeros((n, len(USER_FEATURES)), dtype=np.float32)
    users = past["user"].to_numpy()
    count = past[["views", "clicks", "acts"]].sum(axis=1).to_numpy(float)
    total = np.bincount(users, weights=count, minlength=n)
    types = data.catalog.item_type[past["item"].to_numpy()]
    for col, kind in enumerate(("coin", "earn", "futures", "article"), start=5):
        out[:, col] = np.bincount(users, weights=count * (types == kind), minlength=n) / np.maximum(total, 1)
    acted = past[past["acts"] > 0]
    np.maximum.at(out[:, 9], acted["user"].to_numpy(), data.catalog.risk[acted["item"].to_numpy()].astype(np.float32))
    dep = data.deposits[data.deposits["day"] < as_of]
    out[:, 10] = np.log1p(np.bincount(dep["user"], weights=dep["amount_usd"], minlength=n))
    first = dep.sort_values("day").drop_duplicates("user")
    out[first["user"].to_numpy(), 11] = np.log1p(first["amount_usd"].to_numpy())
    chain = data.chain[data.chain["day"] < as_of]
    out[:, 12] = np.log1p(np.bincount(chain["user"], weights=chain["transfers"], minlength=n))
    out[:, 13] = pd.Categorical(data.users["segment"], categories=SEGMENTS).codes
    last = np.full(n, -1.0)
    np.maximum.at(last, users, past["day"].to_numpy().astype(float))
    out[:, 14] = np.where(last >= 0, as_of - last, 999.0)
    out[:, 3] = as_of - data.users["signup_day"].to_numpy()
    out[:, 4] = np.log1p(total)
    # level, kyc, flagged (columns 0-2) come from the suitability state: see `fill_state`
    return out


def _item_features(data: LakeData, as_of: int, item_users: np.ndarray, trend: np.ndarray) -> np.ndarray:
    cat = data.catalog
    out = np.zeros((cat.n, len(ITEM_FEATURES)), dtype=np.float32)
    out[:, 0] = pd.Categorical(cat.item_type, categories=["coin", "earn", "futures", "article"]).codes
    out[:, 1] = cat.risk
    out[:, 2] = np.log1p(item_users)
    out[:, 3] = trend
    prices = data.prices[data.prices["day"] < as_of]
    moves = {}
    for coin, grp in prices.groupby("coin"):
        p = grp["price"].to_numpy()[-8:]
        if len(p) >= 2:
            r = np.diff(np.log(p))
            moves[str(coin)] = (r[-1], float(np.log(p[-1] / p[0])), float(r.std()) if len(r) > 1 else 0.0)
    for i, coin in enumerate(cat.underlying):
        if coin in moves:
            out[i, 4:7] = moves[coin]
    return out


def fill_state(history: History, level: np.ndarray, kyc: np.ndarray, flagged: np.ndarray) -> None:
    """Copy the suitability state into the user features (the ranker may use the level too)."""
    history.user_features[:, 0] = level
    history.user_features[:, 1] = kyc
    history.user_features[:, 2] = flagged
