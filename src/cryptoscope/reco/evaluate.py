"""Time-split evaluation on the lake: train on the past, judge on the next period's interactions.

The last ``horizon`` days are the test period. Every model is fitted on the days before it (the
ranker on the two windows before, see `model`), recommends 10 items per user, and is judged on what
each user clicked or acted on in the test period among the items they were eligible for (an item a
recommender may never show cannot be a miss). Besides recall@10, nDCG@10 and MAP@10: catalogue
coverage, novelty and the share of recommendations above the user's suitability level or not
offered in the user's country, for the constrained models (must be 0) and for ALS without
constraints (what the constraints prevent). Users new in the 30 days before the test are also
scored apart (cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from cryptoscope.reco.cf import top_k
from cryptoscope.reco.data import LakeData
from cryptoscope.reco.metrics import coverage, ndcg_at_k, novelty, ranking_metrics
from cryptoscope.reco.model import HORIZON_DAYS, Recommender, labels
from cryptoscope.reco.suitability import eligible, violations

K = 10
NEW_USER_DAYS = 30


@dataclass
class Evaluation:
    as_of: int
    horizon: int
    users: int  # test users: with an eligible click or act in the test period
    new_users: int
    models: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"as_of_day": self.as_of, "horizon_days": self.horizon, "test_users": self.users,
                "new_test_users": self.new_users, "k": K, "models": self.models}


def _lists(scores: np.ndarray, mask: np.ndarray | None, users: np.ndarray) -> dict[int, list[int]]:
    top = top_k(scores, K, exclude=None if mask is None else ~mask)
    out = {}
    for r, u in enumerate(users):
        row = top[r] if mask is None else [i for i in top[r] if mask[r, i]]
        out[int(u)] = [int(i) for i in row]
    return out


def baseline_scores(model: Recommender, users: np.ndarray) -> dict[str, np.ndarray]:
    """Score blocks of the baselines and collaborative models, before constraints."""
    hist, cf = model.snap.history, model.snap.cf
    n = len(users)
    blocks = cf.blocks(users)
    return {"most_popular": np.broadcast_to(hist.item_users, (n, len(hist.item_users))),
            "most_popular_segment": hist.segment_pop[hist.segment_key[users]],
            "trending": np.broadcast_to(hist.week_use, (n, len(hist.week_use))),
            "als": blocks["als"], "bpr": blocks["bpr"], "ease": blocks["ease"]}


def evaluate(data: LakeData, *, horizon: int = HORIZON_DAYS, progress: Callable[[str], None] | None = None,
             model: Recommender | None = None) -> Evaluation:
    """Figures of every model on the last ``horizon`` days; ``model``: one already fitted at that as-of day."""
    as_of = data.end_day - horizon
    say = progress or (lambda _: None)
    if model is None or model.as_of != as_of:
        say("training on the past")
        model = Recommender.fit(data, as_of, horizon=horizon)
    state = model.snap.state
    users_l, items_l, _ = labels(data, as_of, data.end_day)
    users = np.unique(users_l)
    users = users[state.exists[users]]
    mask = eligible(data, state, users)
    pos: dict[int, set[int]] = {int(u): set() for u in users}
    row_of = {int(u): r for r, u in enumerate(users)}
    for u, i in zip(users_l, items_l, strict=True):
        if int(u) in row_of and mask[row_of[int(u)], i]:
            pos[int(u)].add(int(i))
    new = users[(as_of - data.users["signup_day"].to_numpy()[users]) <= NEW_USER_DAYS]
    result = Evaluation(as_of, horizon, sum(1 for v in pos.values() if v), len(new))
    say("scoring the test period")
    lists = {name: _lists(block, mask, users) for name, block in baseline_scores(model, users).items()}
    lists["als_unconstrained"] = _lists(baseline_scores(model, users)["als"], None, users)
    lists["lightgbm_rerank"] = {int(u): [i for i, _ in top] for u, top in zip(users, model.top(users, K), strict=True)}
    pop = model.snap.history.item_users
    for name, recs in lists.items():
        figures = ranking_metrics(recs, pos, K)
        figures["coverage"] = coverage(recs, data.catalog.n, K)
        figures["novelty"] = novelty(recs, pop, int(state.exists.sum()), K)
        figures.update(violations(data, state, recs))
        figures["ndcg_at_10_new_users"] = ndcg_at_k({int(u): recs[int(u)] for u in new},
                                                    {int(u): pos[int(u)] for u in new}, K)
        result.models[name] = figures
    return result
