"""LightGBM lambdarank re-ranking of EASE's candidates on MovieLens-100k, inside the Recommenders protocol.

Two stages, both fitted on the training 75 % only: the training 75 % is split again 75/25 per user;
EASE, ALS and BPR are fitted on the inner 75 % and propose ``CANDIDATES`` unseen items per user; the
ranker learns which of them are in the inner 25 %. For the test, the same base models are refitted on
the whole training 75 %, propose candidates the same way, and the ranker orders them. The test 25 %
is never seen before scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cryptoscope.reco.cf import ALS, BPR, EASE, top_k
from cryptoscope.reco.movielens import Split, stratified_split, to_split

CANDIDATES = 50
FEATURES = ("ease_rank", "als_rank", "bpr_rank", "item_log_users", "user_log_items", "ease_gap")
PARAMS = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.05, "num_leaves": 31,
          "min_data_in_leaf": 50, "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True}
ROUNDS = 200


def _candidates(train: sp.csr_matrix, users: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, user and item of the top CANDIDATES unseen items by EASE, for ``users``."""
    x = sp.csr_matrix(train > 0, dtype=np.float32)
    ease = EASE(lam=500.0).fit(x)
    als = ALS(factors=16, regularization=0.1, alpha=2.0, iterations=15).fit(x)
    bpr = BPR(factors=64, learning_rate=0.01, regularization=0.01, iterations=100).fit(x)
    seen = x[users].toarray() > 0
    e = ease.scores(users)
    cand = top_k(e, CANDIDATES, exclude=seen)
    rows = np.repeat(np.arange(len(users)), cand.shape[1])
    items = cand.ravel()
    e_c = np.take_along_axis(e, cand, 1)
    # ranks within the user's candidates, not raw scores: the base models are refitted on more data for
    # the test, which shifts score scales but not orders
    als_rank = np.argsort(np.argsort(-np.take_along_axis(als.scores(users), cand, 1), 1), 1)
    bpr_rank = np.argsort(np.argsort(-np.take_along_axis(bpr.scores(users), cand, 1), 1), 1)
    feats = np.column_stack([
        np.tile(np.arange(cand.shape[1]), len(users)), als_rank.ravel(), bpr_rank.ravel(),
        np.log1p(np.asarray(x.sum(0)).ravel())[items], np.log1p(np.asarray(x.sum(1)).ravel())[users][rows],
        (e_c / np.maximum(e_c[:, :1], 1e-9)).ravel(),
    ]).astype(np.float32)
    return feats, users[rows], items


@dataclass
class RerankedEASE:
    """A `Scorer` whose ``scores`` are the re-ranked candidates (higher first), -inf elsewhere."""

    ratings: pd.DataFrame  # the full ratings, to rebuild the inner split of the training part
    seed: int = 42
    name: str = "lightgbm_rerank"
    _scores: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def fit(self, user_items: sp.csr_matrix) -> RerankedEASE:
        train, _ = stratified_split(self.ratings, 0.75, self.seed)
        inner: Split = to_split(*stratified_split(train, 0.75, self.seed + 1))
        users = np.array(sorted(inner.test), dtype=np.int64)
        x, u, i = _candidates(inner.train, users)
        y = np.array([int(item in inner.test[int(user)]) for user, item in zip(u, i, strict=True)])
        group = np.bincount(np.searchsorted(users, u))
        booster = lgb.train(PARAMS, lgb.Dataset(x, y, group=group[group > 0], feature_name=list(FEATURES)),
                            num_boost_round=ROUNDS)
        all_users = np.arange(user_items.shape[0])
        x, u, i = _candidates(user_items, all_users)
        self._scores = np.full(user_items.shape, -np.inf)
        self._scores[u, i] = booster.predict(x, num_threads=1)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self._scores[users]
