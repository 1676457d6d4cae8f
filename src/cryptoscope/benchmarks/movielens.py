"""MovieLens-100k on Microsoft Recommenders' benchmark protocol, to compare with their published table.

Protocol (their "Algorithm Comparison"): every rating is an implicit interaction; per user, a
random 75 % of the ratings train and 25 % test (stratified split, seed 42); each model ranks all
items the user did not rate in training and the top 10 are scored against the test items with
Recommenders' metric definitions (`cryptoscope.reco.metrics`).

Hyper-parameters are chosen on a validation split carved out of the training 75 % the same way
(never on the test 25 %): `validation_split` gives it, `benchmarks/reco_serve.py --tune` runs it.

`RerankedEASE` re-ranks EASE's candidates with LightGBM lambdarank, in two stages both fitted on the
training 75 % only: the training 75 % is split again 75/25 per user; EASE, ALS and BPR are fitted on the
inner 75 % and propose ``CANDIDATES`` unseen items per user; the ranker learns which of them are in the
inner 25 %. For the test, the same base models are refitted on the whole training 75 %, propose
candidates the same way, and the ranker orders them. The test 25 % is never seen before scoring.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import scipy.sparse as sp

from cryptoscope.errors import ValidationError
from cryptoscope.reco.cf import ALS, BPR, EASE, Popular, Scorer, top_k
from cryptoscope.reco.metrics import ranking_metrics

#: Published figures (Recommenders README, Algorithm Comparison, MovieLens 100k): MAP, nDCG@10, P@10, R@10.
PUBLISHED: dict[str, dict[str, float]] = {
    "BiVAE": {"map_at_10": 0.146126, "ndcg_at_10": 0.475077, "precision_at_10": 0.411771, "recall_at_10": 0.219145},
    "BPR": {"map_at_10": 0.132478, "ndcg_at_10": 0.441997, "precision_at_10": 0.388229, "recall_at_10": 0.212522},
    "LightGCN": {"map_at_10": 0.088526, "ndcg_at_10": 0.419846, "precision_at_10": 0.379626,
                 "recall_at_10": 0.144336},
    "NCF": {"map_at_10": 0.107720, "ndcg_at_10": 0.396118, "precision_at_10": 0.347296, "recall_at_10": 0.180775},
    "SAR": {"map_at_10": 0.110591, "ndcg_at_10": 0.382461, "precision_at_10": 0.330753, "recall_at_10": 0.176385},
    "ALS (rating prediction)": {"map_at_10": 0.004732, "ndcg_at_10": 0.044239, "precision_at_10": 0.048462,
                                "recall_at_10": 0.017796},
}

#: Settings chosen on the validation split of the training data (see `tune`), not on the test split.
DEFAULT_MODELS: dict[str, Callable[[], Scorer]] = {
    "most_popular": Popular,
    "als": lambda: ALS(factors=16, regularization=0.1, alpha=2.0, iterations=15),
    "bpr": lambda: BPR(factors=64, learning_rate=0.01, regularization=0.01, iterations=100),
    "ease": lambda: EASE(lam=500.0),
}


@dataclass(frozen=True)
class Split:
    """Train and test interactions as index arrays into a users x items matrix."""

    n_users: int
    n_items: int
    train: sp.csr_matrix
    test: dict[int, set[int]]


def load_ratings(data_dir: str | Path) -> pd.DataFrame:
    """``u.data`` as user, item, rating, timestamp; a bad line raises naming the file, line and field."""
    path = Path(data_dir) / "u.data"
    if not path.exists():
        raise ValidationError("MovieLens ratings file not found (expected ml-100k's u.data)", file=str(path))
    rows: list[tuple[int, int, float, int]] = []
    names = ("user", "item", "rating", "timestamp")
    with open(path, encoding="latin-1") as fh:
        for line_no, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                raise ValidationError(f"expected 4 tab-separated fields, got {len(parts)}", file=str(path),
                                      row=line_no, line=line_no)
            try:
                rows.append((int(parts[0]), int(parts[1]), float(parts[2]), int(parts[3])))
            except ValueError:
                bad = next(i for i, p in enumerate(parts) if not p.strip().lstrip("-").replace(".", "", 1).isdigit())
                raise ValidationError(f"not a number: {parts[bad]!r}", file=str(path), row=line_no, line=line_no,
                                      column=names[bad]) from None
    return pd.DataFrame(rows, columns=list(names))


def stratified_split(df: pd.DataFrame, ratio: float = 0.75, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per user, a random ``ratio`` of the rows train and the rest test (Recommenders' stratified split)."""
    rng = np.random.default_rng(seed)
    shuffled = df.iloc[rng.permutation(len(df))]
    rank = shuffled.groupby("user").cumcount()
    size = shuffled.groupby("user")["item"].transform("size")
    is_train = rank < np.round(size * ratio)
    return shuffled[is_train.to_numpy()], shuffled[~is_train.to_numpy()]


def to_split(train: pd.DataFrame, test: pd.DataFrame) -> Split:
    users = np.unique(np.concatenate([train["user"].to_numpy(), test["user"].to_numpy()]))
    items = np.unique(np.concatenate([train["item"].to_numpy(), test["item"].to_numpy()]))
    u_idx, i_idx = {u: i for i, u in enumerate(users)}, {v: i for i, v in enumerate(items)}
    rows = train["user"].map(u_idx).to_numpy()
    cols = train["item"].map(i_idx).to_numpy()
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(users), len(items)))
    relevant: dict[int, set[int]] = {}
    for u, i in zip(test["user"].map(u_idx), test["item"].map(i_idx), strict=True):
        relevant.setdefault(int(u), set()).add(int(i))
    return Split(len(users), len(items), matrix, relevant)


def protocol_split(df: pd.DataFrame, seed: int = 42) -> Split:
    return to_split(*stratified_split(df, 0.75, seed))


def validation_split(df: pd.DataFrame, seed: int = 42) -> Split:
    """The training 75 % split again 75/25: where hyper-parameters are chosen."""
    train, _ = stratified_split(df, 0.75, seed)
    return to_split(*stratified_split(train, 0.75, seed + 1))


def recommend_all(model: Scorer, split: Split, k: int = 10) -> dict[int, list[int]]:
    """Top-k for every test user, items seen in training excluded."""
    users = np.array(sorted(split.test), dtype=np.int64)
    out: dict[int, list[int]] = {}
    for start in range(0, len(users), 512):
        batch = users[start:start + 512]
        seen = split.train[batch].toarray() > 0
        top = top_k(model.scores(batch), k, exclude=seen)
        out.update({int(u): [int(i) for i in row] for u, row in zip(batch, top, strict=True)})
    return out


def evaluate_model(model: Scorer, split: Split, k: int = 10) -> dict[str, float]:
    model.fit(split.train)
    return ranking_metrics(recommend_all(model, split, k), split.test, k)


CANDIDATES = 50
RERANK_FEATURES = ("ease_rank", "als_rank", "bpr_rank", "item_log_users", "user_log_items", "ease_gap")
RERANK_PARAMS = {"objective": "lambdarank", "metric": "ndcg", "eval_at": [10], "learning_rate": 0.05, "num_leaves": 31,
          "min_data_in_leaf": 50, "num_threads": 1, "verbose": -1, "seed": 7, "deterministic": True}
RERANK_ROUNDS = 200


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
        data = lgb.Dataset(x, y, group=group[group > 0], feature_name=list(RERANK_FEATURES))
        booster = lgb.train(RERANK_PARAMS, data, num_boost_round=RERANK_ROUNDS)
        all_users = np.arange(user_items.shape[0])
        x, u, i = _candidates(user_items, all_users)
        self._scores = np.full(user_items.shape, -np.inf)
        self._scores[u, i] = booster.predict(x, num_threads=1)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self._scores[users]


def benchmark(data_dir: str | Path, models: dict[str, Callable[[], Scorer]] | None = None,
              seed: int = 42) -> dict[str, dict[str, float]]:
    """Measured figures of each model on the protocol split; keys as in the published table.

    By default: the baselines and collaborative models, then LightGBM re-ranking of EASE's candidates
    (`RerankedEASE`), which learns only from a split of the training part."""
    ratings = load_ratings(data_dir)
    split = protocol_split(ratings, seed)
    factories = models or {**DEFAULT_MODELS, "lightgbm_rerank": lambda: RerankedEASE(ratings, seed)}
    return {name: evaluate_model(factory(), split) for name, factory in factories.items()}
