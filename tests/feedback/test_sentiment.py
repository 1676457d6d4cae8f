"""Sentiment on real tweets and on the simulated exchange's own scored feedback, against the baselines."""

from __future__ import annotations

import numpy as np

from cryptoscope.feedback.classify import compare_on_split
from cryptoscope.feedback.sentiment import csat_sentiment, nps_sentiment, vader_labels

from .conftest import Embedded, needs_tweets


@needs_tweets
def test_ours_beats_vader_on_real_tweets_split_by_time(tweet_sample: Embedded) -> None:
    f = tweet_sample.frame
    res = compare_on_split(tweet_sample.texts, tweet_sample.vectors, f["sentiment"].to_numpy(), f["created"].to_numpy(),
                           vader=True)
    majority = float((f["sentiment"].iloc[res["split"]["train"]:] == "negative").mean())
    assert res["model"]["accuracy"] > majority + 0.05
    assert res["model"]["macro_f1"] > res["baselines"]["vader"]["macro_f1"] + 0.05
    assert res["model"]["accuracy"] > res["baselines"]["vader"]["accuracy"]
    assert set(res["model"]["per_class"]) == {"negative", "neutral", "positive"}


def test_sentiment_of_simulated_feedback_follows_the_scores(world_sample: Embedded) -> None:
    f = world_sample.frame
    rows = np.flatnonzero(f["label"].notna().to_numpy())
    res = compare_on_split([world_sample.texts[i] for i in rows], world_sample.vectors[rows],
                           f["label"].iloc[rows].to_numpy(), f["event_time"].iloc[rows].to_numpy(), vader=True)
    assert res["model"]["macro_f1"] > res["baselines"]["vader"]["macro_f1"]
    assert res["model"]["macro_f1"] > 0.4  # three classes: chance is 0.33


def test_score_bands_and_lexicon() -> None:
    bands = ["negative"] * 2 + ["neutral"] * 2 + ["positive"] * 2
    assert nps_sentiment(np.array([0, 6, 7, 8, 9, 10])).tolist() == bands
    assert csat_sentiment(np.array([1, 2, 3, 4, 5])).tolist() == ["negative"] * 2 + ["neutral"] + ["positive"] * 2
    assert vader_labels(["I hate this, worst airline ever", "Thanks, great crew!", ""]).tolist() == [
        "negative", "positive", "neutral"]
