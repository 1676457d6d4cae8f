"""The airline-tweets benchmark: 3-class sentiment and complaint reasons on real customer feedback.

Protocol (``cryptoscope feedback benchmark airline``): the 14,640 tweets of "Twitter US Airline
Sentiment" are ordered by ``tweet_created``; the latest 20 % (from 2015-02-23 on) are the test set,
everything earlier trains. Our classifier, the embeddings-only ablation, TF-IDF + logistic regression and
VADER are fitted and scored on that same split in the same run. The negative tweets' ``negativereason``
(classes with at least 50 tweets) is the category task, with per-class precision and recall.
Retweets make 213 texts appear twice; they are kept, as the published figures keep them.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError, ValidationError
from cryptoscope.feedback.categories import category_report
from cryptoscope.feedback.classify import compare_on_split
from cryptoscope.feedback.embeddings import Embedder, Progress

REQUIRED = ("airline_sentiment", "negativereason", "text", "tweet_created")
SENTIMENTS = frozenset({"negative", "neutral", "positive"})
TIME_FORMATS = ("%d-%m-%Y %H.%M", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S")
MIN_REASON_ROWS = 50
TEST_SHARE = 0.2


@dataclass(frozen=True)
class Tweets:
    text: list[str]
    sentiment: np.ndarray
    reason: np.ndarray
    created: np.ndarray  # datetime64[s]


def _parse_time(value: str, path: Path, row: int, line: int) -> dt.datetime:
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(value.strip(), fmt).replace(tzinfo=None)
        except ValueError:
            continue
    raise ValidationError(f"unreadable time {value!r}", file=str(path), row=row, line=line, column="tweet_created")


def load_tweets(path: Path, limit: int | None = None) -> Tweets:
    """Read Tweets.csv; a missing column or a bad value is a `ValidationError` naming the file, row and line."""
    if not path.is_file():
        raise ValidationError("no such file", file=str(path))
    text, sentiment, reason, created = [], [], [], []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise ValidationError(f"missing columns {', '.join(missing)}", file=str(path), line=1)
        start = reader.line_num + 1
        for row, record in enumerate(reader, start=1):
            label = (record["airline_sentiment"] or "").strip()
            if label not in SENTIMENTS:
                raise ValidationError(f"sentiment {label!r} is not one of {sorted(SENTIMENTS)}", file=str(path),
                                      row=row, line=start, column="airline_sentiment")
            created.append(_parse_time(record["tweet_created"] or "", path, row, start))
            text.append(record["text"] or "")
            sentiment.append(label)
            reason.append((record["negativereason"] or "").strip())
            start = reader.line_num + 1
            if limit is not None and row >= limit:
                break
    if not text:
        raise ValidationError("no tweets", file=str(path))
    return Tweets(text, np.array(sentiment, dtype=object), np.array(reason, dtype=object),
                  np.array(created, dtype="datetime64[s]"))


def run_benchmark(path: Path, embedder: Embedder | None = None, progress: Progress | None = None,
                  limit: int | None = None) -> dict[str, Any]:
    """The whole protocol; returns the result object (see the module doc) with timings."""
    started = time.perf_counter()
    tweets = load_tweets(path, limit)
    embedder = embedder or Embedder()
    vectors = embedder.embed(tweets.text, progress)
    embed_s = time.perf_counter() - started
    sentiment = compare_on_split(tweets.text, vectors, tweets.sentiment, tweets.created, vader=True,
                                 test_share=TEST_SHARE)
    negative = np.flatnonzero((tweets.sentiment == "negative") & (tweets.reason != ""))
    try:
        reasons = category_report([tweets.text[i] for i in negative], vectors[negative], tweets.reason[negative],
                                  tweets.created[negative], min_rows=MIN_REASON_ROWS)
    except CryptoscopeError as exc:  # a slice of the file may hold too few reasons; sentiment still stands
        reasons = {"not_evaluated": str(exc)}
    return {
        "data": {"file": str(path), "tweets": len(tweets.text), "first": str(tweets.created.min()),
                 "last": str(tweets.created.max())},
        **sentiment,
        "negativereason": reasons,
        "beats_baselines": bool(all(sentiment["model"][m] > b[m] for b in sentiment["baselines"].values()
                                    for m in ("accuracy", "macro_f1"))),
        "seconds": {"embedding": round(embed_s, 1), "total": round(time.perf_counter() - started, 1),
                    "texts_embedded_now": embedder.embedded},
    }
