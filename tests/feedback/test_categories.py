"""Supervised categories: the tickets' categories and the tweets' complaint reasons, per-class precision/recall."""

from __future__ import annotations

import numpy as np

from cryptoscope.feedback.categories import category_report

from .conftest import Embedded, needs_tweets


def test_ticket_categories_are_learned_from_the_text(world_sample: Embedded) -> None:
    f = world_sample.frame
    rows = np.flatnonzero((f["source"] == "ticket").to_numpy())
    res = category_report([world_sample.texts[i] for i in rows], world_sample.vectors[rows],
                          f["user_category"].iloc[rows].to_numpy(), f["event_time"].iloc[rows].to_numpy())
    test_labels = f["user_category"].iloc[rows].to_numpy()[-res["split"]["test"]:]
    majority = max(np.mean(test_labels == c) for c in set(test_labels))
    assert res["model"]["accuracy"] > majority + 0.15
    withdrawal = res["model"]["per_class"]["withdrawal"]
    assert withdrawal["precision"] > 0.5 and withdrawal["recall"] > 0.5
    assert set(res["baselines"]) == {"tfidf_lr"}


@needs_tweets
def test_tweet_complaint_reasons(tweet_sample: Embedded) -> None:
    f = tweet_sample.frame
    rows = np.flatnonzero((f["sentiment"] == "negative").to_numpy() & (f["reason"] != "").to_numpy())
    res = category_report([tweet_sample.texts[i] for i in rows], tweet_sample.vectors[rows],
                          f["reason"].iloc[rows].to_numpy(), f["created"].iloc[rows].to_numpy(), min_rows=15)
    late = res["model"]["per_class"]["Late Flight"]
    assert late["recall"] > 0.3 and late["precision"] > 0.3
    assert res["model"]["macro_f1"] > 0.2
