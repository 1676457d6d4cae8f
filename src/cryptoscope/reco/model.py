"""The recommender: constraints, then candidates, then a LightGBM lambdarank re-ranker, then reasons.

Training at as-of day T (everything before T is history):
1. the ranker learns from the period [T - horizon, T): features computed at T - horizon (collaborative
   models fitted on data before it), labels = what each user clicked (1) or acted on (2) next;
2. the collaborative models are fitted again on all data before T, features are computed at T, and
   the ranker scores every eligible item of every user.

Only eligible items (`suitability.eligible`) are ever scored, so no list can break a constraint.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

from cryptoscope.errors import CryptoscopeError
from cryptoscope.reco.candidates import FEATURES, CFModels, features, fit_cf, item_similarity
from cryptoscope.reco.catalog import Catalog
from cryptoscope.reco.cf import dense_rows
from cryptoscope.reco.data import LakeData
from cryptoscope.reco.history import History, build_history, fill_state
from cryptoscope.reco.reasons import anchors, reason
from cryptoscope.reco.suitability import UserState, eligible, user_state

HORIZON_DAYS = 14
MAX_TRAIN_USERS = 3_000
#: one thread: as fast as two on a busy 2-core machine (lambdarank threads contend) and deterministic
LGB_PARAMS = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.1,
              "num_leaves": 31, "min_data_in_leaf": 50, "feature_fraction": 0.8, "lambdarank_truncation_level": 20,
              "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True}
ROUNDS = 80


@dataclass(frozen=True)
class Recommendation:
    user_id: int
    rank: int
    item_id: str
    item_type: str
    item_risk: int
    score: float
    reason: str
    level: int


@dataclass
class Snapshot:
    """Everything known at one as-of day: history, constraints state and fitted collaborative models."""

    history: History
    state: UserState
    cf: CFModels


def snapshot(data: LakeData, as_of: int, *, bpr_iterations: int = 30) -> Snapshot:
    history = build_history(data, as_of)
    state = user_state(data, as_of)
    fill_state(history, state.level, state.kyc, state.flagged)
    return Snapshot(history, state, fit_cf(history, data.catalog.item_type, bpr_iterations=bpr_iterations))


def labels(data: LakeData, start: int, end: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(user, item, gain) of the window: 2 for an act, 1 for a click; views are not relevance."""
    win = data.events[(data.events["day"] >= start) & (data.events["day"] < end)]
    win = win.groupby(["user", "item"], as_index=False)[["clicks", "acts"]].sum()
    gain = np.where(win["acts"] > 0, 2, np.where(win["clicks"] > 0, 1, 0))
    keep = gain > 0
    return win["user"].to_numpy()[keep], win["item"].to_numpy()[keep], gain[keep]


def train_ranker(data: LakeData, snap: Snapshot, end: int, *, max_users: int = MAX_TRAIN_USERS,
                 seed: int = 7) -> lgb.Booster:
    """Lambdarank on the eligible candidates of users with a click or act in [snap day, end)."""
    users, items, gain = labels(data, snap.state.as_of, end)
    target = np.zeros((len(data.users), data.catalog.n), dtype=np.int8)
    target[users, items] = gain
    pool = np.unique(users)
    pool = pool[snap.state.exists[pool]]
    rng = np.random.default_rng(seed)
    if len(pool) > max_users:
        pool = np.sort(rng.choice(pool, max_users, replace=False))
    mask = eligible(data, snap.state, pool)
    pool_has = (target[pool] * mask).sum(1) > 0
    pool, mask = pool[pool_has], mask[pool_has]
    if not len(pool):
        raise CryptoscopeError("no user clicked or acted on an eligible item in the training window; "
                               "the lake is too short for the ranker (needs two windows of history)")
    x, rows, cols = features(snap.history, snap.cf, pool, mask, data.catalog.item_type, data.catalog.risk)
    y = target[pool[rows], cols]
    group = np.bincount(rows, minlength=len(pool))
    train_set = lgb.Dataset(x, y, group=group[group > 0], feature_name=list(FEATURES), free_raw_data=True)
    return lgb.train(LGB_PARAMS, train_set, num_boost_round=ROUNDS)


class Recommender:
    """A trained recommender at one as-of day; `recommend` answers any batch of users from memory."""

    def __init__(self, data: LakeData, snap: Snapshot, booster: lgb.Booster | None) -> None:
        self.catalog: Catalog = data.catalog
        self.user_ids = data.users["user_id"].to_numpy()
        self.countries = data.users["country"].to_numpy()
        self.snap = snap
        self.booster = booster
        self.similarity = item_similarity(snap.history.weights)
        self._country_mask = {c: self.catalog.available_mask(np.array([c]))[0] for c in np.unique(self.countries)}
        self._repeatable = self.catalog.repeatable()

    @classmethod
    def fit(cls, data: LakeData, as_of: int | None = None, *, horizon: int = HORIZON_DAYS,
            bpr_iterations: int = 30) -> Recommender:
        as_of = data.end_day if as_of is None else as_of
        train_snap = snapshot(data, as_of - horizon, bpr_iterations=bpr_iterations)
        booster = train_ranker(data, train_snap, as_of)
        return cls(data, snapshot(data, as_of, bpr_iterations=bpr_iterations), booster)

    @property
    def as_of(self) -> int:
        return self.snap.state.as_of

    def eligible(self, users: np.ndarray) -> np.ndarray:
        """Same rule as `suitability.eligible`, from the state kept in memory (no lake needed)."""
        state, cat = self.snap.state, self.catalog
        fits = cat.risk[None, :] <= state.level[users, None]
        country = np.stack([self._country_mask[c] for c in self.countries[users]])
        return fits & country & (self._repeatable[None, :] | ~state.consumed[users])

    def scores(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(len(users), items) ranker scores, -inf where not eligible; and the eligibility mask."""
        mask = self.eligible(users)
        out = np.full(mask.shape, -np.inf)
        if mask.any():
            x, rows, cols = features(self.snap.history, self.snap.cf, users, mask, self.catalog.item_type,
                                     self.catalog.risk)
            assert self.booster is not None
            out[rows, cols] = self.booster.predict(x, num_threads=1)
        return out, mask

    def top(self, users: np.ndarray, k: int = 10) -> list[list[tuple[int, float]]]:
        """Best k eligible items per user as (item, score), best first (fewer when fewer are eligible)."""
        scores, _ = self.scores(users)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return [[(int(i), float(scores[r, i])) for i in row if np.isfinite(scores[r, i])]
                for r, row in enumerate(order)]

    def recommend(self, user_id: int, k: int = 10) -> list[Recommendation]:
        row = int(np.searchsorted(self.user_ids, user_id))
        if row >= len(self.user_ids) or self.user_ids[row] != user_id:
            raise CryptoscopeError(f"user {user_id} is unknown to this model (trained at day {self.as_of})")
        return self.explain(np.array([row]), self.top(np.array([row]), k))[0]

    def explain(self, users: np.ndarray, tops: list[list[tuple[int, float]]]) -> list[list[Recommendation]]:
        """Attach the reason and suitability facts to each (item, score) of each user's list."""
        hist, level, cat = self.snap.history, self.snap.state.level, self.catalog
        weights = dense_rows(hist.weights, users)
        anchor, anchor_sim = anchors(self.similarity, weights)
        out = []
        for r, (u, top) in enumerate(zip(users, tops, strict=True)):
            lvl, country = int(level[u]), str(self.countries[u])
            out.append([Recommendation(int(self.user_ids[u]), rank, str(cat.item_id[i]), str(cat.item_type[i]),
                                       int(cat.risk[i]), score,
                                       reason(cat, hist, i, lvl, country, float(weights[r, i]), int(anchor[r, i]),
                                              float(anchor_sim[r, i])), lvl)
                        for rank, (i, score) in enumerate(top, 1)])
        return out

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        booster, self.booster = self.booster, None
        try:
            with open(tmp, "wb") as fh:
                pickle.dump((self, None if booster is None else booster.model_to_string()), fh)
        finally:
            self.booster = booster
        tmp.replace(path)
        return path

    @staticmethod
    def load(path: Path) -> Recommender:
        if not path.exists():
            raise CryptoscopeError(f"no trained recommender at {path}; run `cryptoscope reco train` first")
        with open(path, "rb") as fh:
            model, text = pickle.load(fh)
        if not isinstance(model, Recommender):
            raise CryptoscopeError(f"{path} is not a recommender model file")
        model.booster = None if text is None else lgb.Booster(model_str=text)
        return model
