"""Candidate scores and ranking features for a batch of users: collaborative, popularity and context.

Every candidate is an eligible (user, item) pair (`suitability.eligible` ran first); the features
describe the user (behaviour, suitability, deposits, chain activity), the item (type, risk,
popularity, trend, recent market moves of its coin) and the pair (ALS / BPR / EASE scores, the
segment's use of the item, the user's own history with it, whether the user holds it).

Cold start: a user with no history has zero collaborative scores and is ranked by segment (KYC
country x tier), deposits and suitability; an item with fewer than ``COLD_ITEM_USERS`` users gets
the mean collaborative scores of the warm items of its type, so a new product competes on what its
kind of product earns, not on a zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from cryptoscope.reco.cf import ALS, BPR, EASE, dense_rows
from cryptoscope.reco.history import ITEM_FEATURES, USER_FEATURES, History

COLD_ITEM_USERS = 5
PAIR_FEATURES = ("als", "bpr", "ease", "segment_pop", "log_weight", "log_clicks", "log_acts", "log_recent",
                 "days_since", "holds", "risk_gap", "type_share")
FEATURES = (*USER_FEATURES, *ITEM_FEATURES, *PAIR_FEATURES)


@dataclass
class CFModels:
    als: ALS
    bpr: BPR
    ease: EASE
    cold_items: np.ndarray  # bool per item
    item_type: np.ndarray

    def blocks(self, users: np.ndarray) -> dict[str, np.ndarray]:
        out = {"als": self.als.scores(users), "bpr": self.bpr.scores(users), "ease": self.ease.scores(users)}
        if self.cold_items.any():
            return {name: _impute_cold(block, self.cold_items, self.item_type) for name, block in out.items()}
        return out


def _impute_cold(block: np.ndarray, cold: np.ndarray, item_type: np.ndarray) -> np.ndarray:
    block = block.copy()
    for kind in np.unique(item_type[cold]):
        warm = (item_type == kind) & ~cold
        fill = block[:, warm].mean(1) if warm.any() else block[:, ~cold].mean(1)
        block[:, cold & (item_type == kind)] = fill[:, None]
    return block


def fit_cf(history: History, item_type: np.ndarray, *, bpr_iterations: int = 30) -> CFModels:
    """ALS on log weights, BPR and EASE on who touched what; rows and columns without data get zero factors."""
    weights = history.weights.copy()
    weights.data = np.log1p(weights.data)
    als = ALS(factors=16, regularization=0.1, alpha=2.0, iterations=10).fit(weights)
    bpr = BPR(factors=32, learning_rate=0.02, regularization=0.01, iterations=bpr_iterations).fit(weights)
    ease = EASE(lam=50.0).fit(weights)
    no_user = np.asarray(weights.sum(1)).ravel() == 0
    cold = history.item_users < COLD_ITEM_USERS
    for model in (als, bpr):
        model.user_factors[no_user] = 0.0
        model.item_factors[cold] = 0.0
    return CFModels(als, bpr, ease, cold, item_type)


def pair_blocks(history: History, cf: CFModels, users: np.ndarray, item_type: np.ndarray,
                item_risk: np.ndarray) -> dict[str, np.ndarray]:
    """(len(users), items) arrays of every pair feature."""
    out = cf.blocks(users)
    out["segment_pop"] = history.segment_pop[history.segment_key[users]]
    out["log_weight"] = np.log1p(dense_rows(history.weights, users))
    out["log_clicks"] = np.log1p(dense_rows(history.clicks, users))
    out["log_acts"] = np.log1p(dense_rows(history.acts, users))
    out["log_recent"] = np.log1p(dense_rows(history.recent, users))
    out["days_since"] = history.days_since(users)
    out["holds"] = (dense_rows(history.net_usd, users) > 1.0).astype(np.float32)
    level = history.user_features[users, 0]
    out["risk_gap"] = level[:, None] - item_risk[None, :]
    type_share = history.user_features[users, 5:9]  # coin, earn, futures, article
    type_index = {"coin": 0, "earn": 1, "futures": 2, "article": 3}
    out["type_share"] = type_share[:, [type_index[str(t)] for t in item_type]]
    return out


def features(history: History, cf: CFModels, users: np.ndarray, mask: np.ndarray, item_type: np.ndarray,
             item_risk: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows of the eligible pairs (``mask``), with their user positions and item indices."""
    rows, items = np.nonzero(mask)
    blocks = pair_blocks(history, cf, users, item_type, item_risk)
    x = np.empty((len(rows), len(FEATURES)), dtype=np.float32)
    nu, ni = len(USER_FEATURES), len(ITEM_FEATURES)
    x[:, :nu] = history.user_features[users[rows]]
    x[:, nu:nu + ni] = history.item_features[items]
    for j, name in enumerate(PAIR_FEATURES):
        x[:, nu + ni + j] = blocks[name][rows, items]
    return x, rows, items


def item_similarity(weights: sp.csr_matrix) -> np.ndarray:
    """Cosine similarity of items over the users who touched them (for reasons), diagonal zero."""
    used = sp.csr_matrix(weights > 0, dtype=np.float64)
    co = (used.T @ used).toarray()
    norm = np.sqrt(np.maximum(np.diag(co), 1.0))
    sim = co / norm[:, None] / norm[None, :]
    np.fill_diagonal(sim, 0.0)
    return sim
