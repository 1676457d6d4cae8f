"""Score every ticket and survey comment in a lake: sentiment, topic and category, into ``feedback_scores``.

The sentiment model learns from the lake's own feedback: the words users wrote next to the score they gave
(ticket CSAT, NPS), so it speaks the exchange's languages and vocabulary. It is judged first on a split by
time (the latest 20 % of each source) against TF-IDF + logistic regression and VADER, then refit on all
labelled text and applied to every text, labelled or not. The category classifier learns the categories
users and first agents chose (noisy: about one ticket in seven is filed as "other") and predicts one for
every ticket. Topics are clusters of all texts' embeddings (`topics.py`).

>>> result = analyze(Lake("demo-lake"))          # doctest: +SKIP
>>> write_scores(Lake("demo-lake"), result)      # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa

from cryptoscope.errors import CryptoscopeError
from cryptoscope.feedback.categories import category_report
from cryptoscope.feedback.classify import TextClassifier, compare_on_split
from cryptoscope.feedback.embeddings import Embedder, Progress
from cryptoscope.feedback.sentiment import csat_sentiment, nps_sentiment, sentiment_score
from cryptoscope.feedback.topics import TopicModel, fit_topics
from cryptoscope.lake import Lake, connect

SCORES_TABLE = "feedback_scores"
_SEED = 0


@dataclass
class Analysis:
    feedback: pd.DataFrame  # one row per text, oldest first, with its scores
    topics: TopicModel
    evaluation: dict[str, Any] = field(default_factory=dict)
    model_version: str = ""
    scored_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


def feedback_texts(backend: Any) -> ir.Table:
    """Tickets (subject and body) and non-empty survey comments, with the score each came with, as one expression."""
    t, s = backend.table("tickets"), backend.table("surveys")
    tickets = t.select(source=ibis.literal("ticket"), source_id=t.ticket_id, user_id=t.user_id, event_time=t.event_time,
                       language=t.language, text=t.subject.fill_null("") + "\n" + t.text.fill_null(""),
                       user_category=t.category, csat=t.csat, nps=ibis.null("int64"))
    # a comment of spaces only says nothing (what SQL's trim() leaves empty)
    said = s.filter(s.comment.notnull() & s.comment.re_search("[^ ]"))
    surveys = said.select(source=ibis.literal("survey"), source_id=said.survey_id, user_id=said.user_id,
                          event_time=said.event_time, language=said.language, text=said.comment,
                          user_category=ibis.null("string"), csat=ibis.null("int64"), nps=said.nps)
    return tickets.union(surveys, distinct=False)


def load_feedback(lake: Lake, *, backend: Any = None) -> pd.DataFrame:
    """Every text of `feedback_texts` with the sentiment its score implies, oldest first.

    ``backend`` is the Ibis backend that reads ``lake`` (default: `cryptoscope.lake.connect`).
    """
    frame = feedback_texts(backend if backend is not None else connect(lake)).to_pyarrow().to_pandas()
    if frame.empty:
        raise CryptoscopeError(f"the lake {lake.root} has no tickets or survey comments to analyse")
    label = pd.Series([None] * len(frame), dtype=object)
    has_nps, has_csat = frame["nps"].notna().to_numpy(), frame["csat"].notna().to_numpy()
    label[has_nps] = nps_sentiment(frame["nps"].to_numpy()[has_nps])
    label[has_csat] = csat_sentiment(frame["csat"].to_numpy()[has_csat])
    frame["label"] = label
    frame["feedback_id"] = frame["source"] + ":" + frame["source_id"].astype(str)
    return frame.sort_values(["event_time", "feedback_id"], kind="stable").reset_index(drop=True)


def sample_feedback(frame: pd.DataFrame, limit: int | None) -> pd.DataFrame:
    """At most ``limit`` rows, drawn with a fixed seed (same lake, same sample), kept in time order."""
    if limit is None or len(frame) <= limit:
        return frame
    keep = np.sort(np.random.default_rng(_SEED).choice(len(frame), limit, replace=False))
    return frame.iloc[keep].reset_index(drop=True)


def _evaluate(frame: pd.DataFrame, vectors: np.ndarray) -> dict[str, Any]:
    """Sentiment per source and ticket categories, each ours vs baselines on a split by time."""
    out: dict[str, Any] = {}
    for source, what in (("ticket", "tickets: CSAT 1-2/3/4-5"), ("survey", "survey comments: NPS 0-6/7-8/9-10")):
        rows = np.flatnonzero((frame["source"] == source).to_numpy() & frame["label"].notna().to_numpy())
        if len(rows) >= 100 and frame["label"].iloc[rows].nunique() > 1:
            out[f"sentiment_{source}s"] = {"labels": what, **compare_on_split(
                frame["text"].iloc[rows].tolist(), vectors[rows], frame["label"].iloc[rows].to_numpy(),
                frame["event_time"].iloc[rows].to_numpy(), vader=True)}
    rows = np.flatnonzero((frame["source"] == "ticket").to_numpy())
    if len(rows) >= 100:
        out["ticket_category"] = {"labels": "category chosen by the user or first agent (noisy)", **category_report(
            frame["text"].iloc[rows].tolist(), vectors[rows], frame["user_category"].iloc[rows].to_numpy(),
            frame["event_time"].iloc[rows].to_numpy())}
    return out


def _fingerprint(frame: pd.DataFrame) -> str:
    digest = hashlib.sha1()
    for fid in frame["feedback_id"].tolist():
        digest.update(fid.encode())
    return digest.hexdigest()[:8]


def analyze(lake: Lake, embedder: Embedder | None = None, *, sample: int | None = None,
            progress: Progress | None = None, evaluate: bool = True, backend: Any = None) -> Analysis:
    """Embed, evaluate, fit on all labelled text, score every text, cluster topics (reading through ``backend``)."""
    frame = sample_feedback(load_feedback(lake, backend=backend), sample)
    texts = frame["text"].fillna("").astype(str).tolist()
    vectors = (embedder or Embedder()).embed(texts, progress)
    evaluation = _evaluate(frame, vectors) if evaluate else {}
    labelled = np.flatnonzero(frame["label"].notna().to_numpy())
    if len(labelled) < 30 or frame["label"].iloc[labelled].nunique() < 2:
        raise CryptoscopeError(f"only {len(labelled)} texts come with a score; too few to learn sentiment from")
    senti = TextClassifier.fit([texts[i] for i in labelled], vectors[labelled], frame["label"].iloc[labelled])
    proba = senti.predict_proba(texts, vectors)
    frame["sentiment"] = np.asarray(senti.classes, dtype=object)[proba.argmax(axis=1)]
    frame["sentiment_score"] = sentiment_score(proba, senti.classes)
    frame["p_negative"] = proba[:, senti.classes.index("negative")] if "negative" in senti.classes else 0.0
    category_proba = _predict_categories(frame, texts, vectors)
    topics = fit_topics(texts, vectors, guide=np.hstack([category_proba, proba]))
    frame["topic_id"] = topics.labels_
    frame["topic_label"] = [topics.label_of(int(t)) for t in topics.labels_]
    scored_at = dt.datetime.now(dt.UTC)
    version = f"feedback-{scored_at:%Y%m%d}-{_fingerprint(frame)}"
    return Analysis(frame, topics, evaluation, version, scored_at)


def _predict_categories(frame: pd.DataFrame, texts: list[str], vectors: np.ndarray) -> np.ndarray:
    """Fill ``category`` for tickets; returns the category probabilities of every text (a topic guide)."""
    tickets = np.flatnonzero((frame["source"] == "ticket").to_numpy() & frame["user_category"].notna().to_numpy())
    frame["category"] = None
    frame["category_confidence"] = np.nan
    if len(tickets) < 30 or frame["user_category"].iloc[tickets].nunique() < 2:
        return np.zeros((len(texts), 0))
    clf = TextClassifier.fit([texts[i] for i in tickets], vectors[tickets], frame["user_category"].iloc[tickets])
    proba = clf.predict_proba(texts, vectors)
    frame.loc[frame.index[tickets], "category"] = np.asarray(clf.classes, dtype=object)[proba[tickets].argmax(axis=1)]
    frame.loc[frame.index[tickets], "category_confidence"] = proba[tickets].max(axis=1)
    return proba


def scores_table(analysis: Analysis) -> pa.Table:
    f = analysis.feedback
    return pa.table({
        "feedback_id": f["feedback_id"].astype(str), "source": f["source"], "source_id": f["source_id"].astype("int64"),
        "user_id": f["user_id"].astype("int64"), "event_time": pd.to_datetime(f["event_time"], utc=True),
        "language": f["language"].fillna("").astype(str), "sentiment": f["sentiment"].astype(str),
        "sentiment_score": f["sentiment_score"].astype(float), "p_negative": f["p_negative"].astype(float),
        "topic_id": f["topic_id"].astype("int64"), "topic_label": f["topic_label"].astype(str),
        "category": pa.array(f["category"].tolist(), pa.string()),
        "category_confidence": pa.array(f["category_confidence"].tolist(), pa.float64(), from_pandas=True),
        "model_version": [analysis.model_version] * len(f), "scored_at": [analysis.scored_at] * len(f),
    })


def write_scores(lake: Lake, analysis: Analysis) -> int:
    """Replace ``feedback_scores`` with this analysis (one atomic commit); returns the rows written."""
    with lake.transaction() as tx:
        tx.replace(SCORES_TABLE)
        return tx.append(SCORES_TABLE, scores_table(analysis))
