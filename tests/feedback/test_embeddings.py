"""The packaged sentence model: offline, unit vectors, meaning-aware, cached by text hash, robust to mess."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cryptoscope.feedback.embeddings import DIM, Embedder, EmbeddingCache, clean_text, text_key

MESSY = ["", "   ", None, float("nan"), "🚀🚀🚀 to the moon 🌕", "مرحبا، سحبي عالق منذ ثلاثة أيام",
         "我的提现还没有到账", "Привет, my withdrawal 0.5 BTC застрял!!!", "a" * 20_000,
         "\x00\x01 control \u200b chars",
         "ÇOK KÖTÜ!!! param nerede???", "ok", "\ud83d broken surrogate"]


def test_vectors_are_unit_length_and_meaningful(embedder: Embedder) -> None:
    v = embedder.embed(["my withdrawal has been pending for three days",
                        "the crypto I withdrew still has not arrived",
                        "I love the new app design, great job"])
    assert v.shape == (3, DIM) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2  # two ways to say "stuck withdrawal" beat an unrelated compliment


def test_messy_multilingual_text_never_crashes(embedder: Embedder) -> None:
    v = embedder.embed(MESSY)
    assert v.shape == (len(MESSY), DIM)
    assert np.isfinite(v).all()
    assert clean_text(None) == clean_text(float("nan")) == ""
    assert np.allclose(v[0], v[2])  # "", None and NaN are the same empty text


def test_cache_serves_repeats_and_survives_a_new_process(tmp_path: Path, embedder: Embedder) -> None:
    fresh = Embedder(tmp_path)
    fresh._model = embedder.model  # the same loaded weights; only the cache is new
    texts = ["card declined again", "card declined again", "fees are too high"]
    first = fresh.embed(texts)
    assert fresh.embedded == 2  # the duplicate is embedded once
    again = fresh.embed(list(reversed(texts)))
    assert fresh.embedded == 2  # everything came from the cache
    assert np.allclose(again[::-1], first)
    reopened = EmbeddingCache(tmp_path)
    assert len(reopened) == 2
    assert np.allclose(reopened.get([text_key("fees are too high")])[0], first[2])


def test_cache_keeps_digests_that_end_in_a_zero_byte(tmp_path: Path) -> None:
    """Fixed-width numpy bytes drop trailing NULs; one text in 256 has such a digest and must still be found."""
    text = next(t for t in (f"ticket {i}" for i in range(10_000)) if text_key(t)[-1] == 0)
    EmbeddingCache(tmp_path).put([text_key(text)], np.ones((1, DIM), dtype=np.float32))
    found = EmbeddingCache(tmp_path).get([text_key(text)])[0]
    assert found is not None and np.allclose(found, 1.0)
