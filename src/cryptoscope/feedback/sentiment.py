"""Sentiment of feedback text: our classifier against the two baselines every figure is compared with.

Three classes, ``negative`` / ``neutral`` / ``positive``. Ours is `TextClassifier` (sentence embeddings +
TF-IDF, logistic regression). The baselines are measured in the same run on the same split: TF-IDF +
logistic regression, and the VADER lexicon (compound score >= 0.05 positive, <= -0.05 negative, the
thresholds its authors recommend). VADER is English-only: on other languages it mostly answers neutral,
which is the honest cost of a lexicon on a multilingual inbox.

Labels for the simulated exchange come from what users scored next to their words: an NPS answer
0-6 / 7-8 / 9-10 (detractor, passive, promoter) and a ticket CSAT 1-2 / 3 / 4-5.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")
VADER_THRESHOLD = 0.05


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_compound(texts: Sequence[str]) -> np.ndarray:
    """VADER's compound score in [-1, 1] for each text (0 for empty text)."""
    analyzer = _vader()
    return np.array([analyzer.polarity_scores(t)["compound"] if t else 0.0 for t in texts], dtype=float)


def vader_labels(texts: Sequence[str]) -> np.ndarray:
    compound = vader_compound(texts)
    return np.where(compound >= VADER_THRESHOLD, "positive",
                    np.where(compound <= -VADER_THRESHOLD, "negative", "neutral")).astype(object)


def nps_sentiment(nps: np.ndarray) -> np.ndarray:
    """Detractor (0-6) negative, passive (7-8) neutral, promoter (9-10) positive."""
    score = np.asarray(nps, dtype=float)
    return np.where(score <= 6, "negative", np.where(score <= 8, "neutral", "positive")).astype(object)


def csat_sentiment(csat: np.ndarray) -> np.ndarray:
    """CSAT 1-2 negative, 3 neutral, 4-5 positive."""
    score = np.asarray(csat, dtype=float)
    return np.where(score <= 2, "negative", np.where(score <= 3, "neutral", "positive")).astype(object)


def sentiment_score(proba: np.ndarray, classes: Sequence[str]) -> np.ndarray:
    """One number per text for charts and joins: P(positive) - P(negative), in [-1, 1]."""
    idx = {c: i for i, c in enumerate(classes)}
    pos = proba[:, idx["positive"]] if "positive" in idx else 0.0
    neg = proba[:, idx["negative"]] if "negative" in idx else 0.0
    return np.asarray(pos - neg, dtype=float)
