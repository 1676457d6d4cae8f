"""Shared inputs of the feedback tests: the packaged sentence model with a fresh cache, a few hundred real
airline tweets and a sample of the simulated world's tickets and comments, each embedded once per session."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.benchmarks.airline import Tweets, load_tweets
from cryptoscope.feedback.analyze import load_feedback, sample_feedback
from cryptoscope.feedback.embeddings import Embedder
from cryptoscope.lake import Lake

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
TWEETS = SHARED_DATA / "airline-feedback" / "Tweets.csv"
N_TWEETS = 800
N_WORLD = 700

needs_tweets = pytest.mark.skipif(not TWEETS.exists() and "CI" not in os.environ,
                                  reason="shared airline tweets not available")


@dataclass(frozen=True)
class Embedded:
    texts: list[str]
    vectors: np.ndarray
    frame: pd.DataFrame


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The real model; a cache of its own so the tests embed for real instead of reading a warm cache."""
    return Embedder(tmp_path_factory.mktemp("embedding-cache"))


@pytest.fixture(scope="session")
def tweets() -> Tweets:
    return load_tweets(TWEETS)


@pytest.fixture(scope="session")
def tweet_sample(tweets: Tweets, embedder: Embedder) -> Embedded:
    """800 tweets drawn across the whole file (fixed seed), oldest first."""
    rows = np.sort(np.random.default_rng(0).choice(len(tweets.text), N_TWEETS, replace=False))
    rows = rows[np.argsort(tweets.created[rows], kind="stable")]
    frame = pd.DataFrame({"text": [tweets.text[i] for i in rows], "sentiment": tweets.sentiment[rows],
                          "reason": tweets.reason[rows], "created": tweets.created[rows]})
    return Embedded(frame["text"].tolist(), embedder.embed(frame["text"].tolist()), frame)


@pytest.fixture(scope="session")
def world_sample(small_world: tuple[Lake, object, object], embedder: Embedder) -> Embedded:
    """700 of the simulated world's tickets and comments (fixed sample, time order)."""
    frame = sample_feedback(load_feedback(small_world[0]), N_WORLD)
    texts = frame["text"].astype(str).tolist()
    return Embedded(texts, embedder.embed(texts), frame)
