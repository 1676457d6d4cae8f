"""Topics: the same texts give the same topics every run, labels are readable, new texts find their topic."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import adjusted_rand_score

from cryptoscope.feedback.embeddings import Embedder
from cryptoscope.feedback.topics import OUTLIER, ctfidf_terms, fit_topics

from .conftest import Embedded


def test_same_texts_same_topics_every_run(world_sample: Embedded) -> None:
    a = fit_topics(world_sample.texts, world_sample.vectors)
    b = fit_topics(list(world_sample.texts), world_sample.vectors.copy())
    assert len(a.topics) >= 3
    assert np.array_equal(a.labels_, b.labels_)
    assert [t.label for t in a.topics] == [t.label for t in b.topics]
    assert [t.quotes for t in a.topics] == [t.quotes for t in b.topics]
    sizes = [t.size for t in a.topics]
    assert sizes == sorted(sizes, reverse=True)  # ids ordered by size


def test_shuffled_input_gives_the_same_partition(world_sample: Embedded) -> None:
    order = np.random.default_rng(3).permutation(len(world_sample.texts))
    a = fit_topics(world_sample.texts, world_sample.vectors)
    b = fit_topics([world_sample.texts[i] for i in order], world_sample.vectors[order])
    assert adjusted_rand_score(a.labels_[order], b.labels_) > 0.8


def test_labels_are_words_and_quotes_are_members(world_sample: Embedded) -> None:
    model = fit_topics(world_sample.texts, world_sample.vectors)
    for topic in model.topics:
        assert topic.terms and all(t.isalpha() for t in topic.terms)
        assert topic.label == " / ".join(topic.terms[:3])
        members = {" ".join(world_sample.texts[i].split()) for i in np.flatnonzero(model.labels_ == topic.topic_id)}
        assert all(q.rstrip("…")[:100] in " ".join(members) for q in topic.quotes)


def test_new_texts_join_the_topic_of_their_kind(world_sample: Embedded, embedder: Embedder) -> None:
    model = fit_topics(world_sample.texts, world_sample.vectors)
    known = model.assign(world_sample.vectors)
    assert (known == model.labels_).mean() > 0.9  # assignment reproduces the fitted topics
    fresh = embedder.embed(["Hello, my withdrawal of 0.3 BTC is still pending after 3 days. Please help!",
                            "Hello, my withdrawal of 500 USDT is pending since yesterday, why?"])
    ids = model.assign(fresh)
    assert ids[0] == ids[1] != OUTLIER


def test_tiny_and_messy_inputs(embedder: Embedder) -> None:
    texts = ["", "🚀", "ok", "Привет", "withdrawal stuck", "card declined"]
    model = fit_topics(texts, embedder.embed(texts))
    assert len(model.labels_) == len(texts)
    assert ctfidf_terms(["🚀🚀", "123 456"], np.array([0, 1]), 2) == [(), ()]
    empty = fit_topics([], np.zeros((0, 384), dtype=np.float32))
    assert empty.topics == [] and len(empty.assign(np.zeros((0, 384)))) == 0
