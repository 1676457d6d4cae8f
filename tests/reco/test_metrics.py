"""Ranking metrics on lists small enough to score by hand, with Recommenders' definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cryptoscope.reco.cf import top_k
from cryptoscope.reco.metrics import coverage, map_at_k, ndcg_at_k, novelty, precision_at_k, recall_at_k

RECS = {1: [10, 11, 12, 13], 2: [20, 21, 22, 23]}
RELEVANT = {1: {11, 13, 99}, 2: {20}, 3: set()}  # user 3 has nothing relevant: not averaged


def test_precision_and_recall_count_hits_in_the_top_k() -> None:
    # user 1: hits 11, 13 of 3 relevant; user 2: hit 20 of 1
    assert precision_at_k(RECS, RELEVANT, k=4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert recall_at_k(RECS, RELEVANT, k=4) == pytest.approx((2 / 3 + 1 / 1) / 2)
    assert recall_at_k(RECS, RELEVANT, k=1) == pytest.approx((0 + 1) / 2)


def test_ndcg_discounts_by_rank_and_normalises_by_the_ideal_list() -> None:
    dcg1 = 1 / math.log2(3) + 1 / math.log2(5)  # hits at ranks 2 and 4
    idcg1 = 1 + 1 / math.log2(3) + 1 / math.log2(4)  # three relevant items, k = 4
    assert ndcg_at_k(RECS, RELEVANT, k=4) == pytest.approx((dcg1 / idcg1 + 1.0) / 2)


def test_map_divides_by_all_relevant_items_as_recommenders_does() -> None:
    ap1 = (1 / 2 + 2 / 4) / 3  # precision at each hit, over |relevant| = 3 (not min(k, 3))
    assert map_at_k(RECS, RELEVANT, k=4) == pytest.approx((ap1 + 1.0) / 2)


def test_a_perfect_list_scores_one_and_an_empty_one_zero() -> None:
    relevant = {1: {5, 6}}
    assert ndcg_at_k({1: [6, 5, 7]}, relevant, k=3) == pytest.approx(1.0)
    assert ndcg_at_k({1: []}, relevant, k=3) == 0.0
    assert map_at_k({1: [6, 5]}, relevant, k=2) == pytest.approx(1.0)


def test_coverage_and_novelty() -> None:
    assert coverage({1: [0, 1], 2: [1, 2]}, n_items=10) == pytest.approx(0.3)
    popularity = np.array([8.0, 2.0, 0.0])  # out of 8 users
    assert novelty({1: [0, 1]}, popularity, n_users=8) == pytest.approx((0.0 + 2.0) / 2)
    assert novelty({1: [2]}, popularity, n_users=8) == pytest.approx(3.0)  # unseen counts as one user


def test_top_k_never_returns_an_excluded_item_and_sorts_best_first() -> None:
    scores = np.array([[0.1, 0.9, 0.5, 0.7]])
    exclude = np.array([[False, True, False, False]])
    assert top_k(scores, 2, exclude).tolist() == [[3, 2]]
