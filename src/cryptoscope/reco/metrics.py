"""Top-k ranking metrics, defined as Microsoft Recommenders defines them, so figures compare.

Every function takes the recommended lists (one ranked list of item indices per user) and the
relevant sets (the items each user interacted with in the held-out data) and averages over
users with at least one relevant item. Relevance is binary (implicit feedback):

- precision@k = hits in the top k / k
- recall@k = hits in the top k / number of relevant items
- nDCG@k = sum over hits of 1/log2(rank+1), divided by the ideal DCG of min(k, relevant) hits
- MAP (Recommenders' ``map``, the figure their benchmark table reports as MAP) = the sum of
  precision at the rank of each hit in the top k, divided by the number of relevant items
  (not by min(k, relevant)), which is why published MAP figures look low.

Beyond accuracy: catalogue coverage (share of items recommended to anyone) and novelty (mean
self-information -log2 p(item) of what is recommended, p from training popularity).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

Lists = Mapping[int, Sequence[int]]
Relevant = Mapping[int, set[int] | frozenset[int]]


def _users(recs: Lists, relevant: Relevant) -> list[int]:
    return [u for u, items in relevant.items() if items]


def precision_at_k(recs: Lists, relevant: Relevant, k: int = 10) -> float:
    users = _users(recs, relevant)
    if not users:
        return 0.0
    return float(np.mean([len(set(list(recs.get(u, []))[:k]) & relevant[u]) / k for u in users]))


def recall_at_k(recs: Lists, relevant: Relevant, k: int = 10) -> float:
    users = _users(recs, relevant)
    if not users:
        return 0.0
    return float(np.mean([len(set(list(recs.get(u, []))[:k]) & relevant[u]) / len(relevant[u]) for u in users]))


def ndcg_at_k(recs: Lists, relevant: Relevant, k: int = 10) -> float:
    users = _users(recs, relevant)
    if not users:
        return 0.0
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    scores = []
    for u in users:
        top = list(recs.get(u, []))[:k]
        dcg = sum(discount[i] for i, item in enumerate(top) if item in relevant[u])
        ideal = discount[: min(k, len(relevant[u]))].sum()
        scores.append(dcg / ideal)
    return float(np.mean(scores))


def map_at_k(recs: Lists, relevant: Relevant, k: int = 10) -> float:
    users = _users(recs, relevant)
    if not users:
        return 0.0
    scores = []
    for u in users:
        hits, total = 0, 0.0
        for i, item in enumerate(list(recs.get(u, []))[:k]):
            if item in relevant[u]:
                hits += 1
                total += hits / (i + 1)
        scores.append(total / len(relevant[u]))
    return float(np.mean(scores))


def coverage(recs: Lists, n_items: int, k: int = 10) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    shown = {item for items in recs.values() for item in list(items)[:k]}
    return len(shown) / n_items if n_items else 0.0


def novelty(recs: Lists, popularity: np.ndarray, n_users: int, k: int = 10) -> float:
    """Mean -log2(share of training users who had the item); unseen items count as seen by one user."""
    p = np.maximum(np.asarray(popularity, dtype=float), 1.0) / max(n_users, 1)
    values = [-np.log2(p[item]) for items in recs.values() for item in list(items)[:k]]
    return float(np.mean(values)) if values else 0.0


def ranking_metrics(recs: Lists, relevant: Relevant, k: int = 10) -> dict[str, float]:
    """The four figures of the Recommenders benchmark table, keyed as our result files key them."""
    return {f"ndcg_at_{k}": ndcg_at_k(recs, relevant, k), f"map_at_{k}": map_at_k(recs, relevant, k),
            f"precision_at_{k}": precision_at_k(recs, relevant, k), f"recall_at_{k}": recall_at_k(recs, relevant, k)}
