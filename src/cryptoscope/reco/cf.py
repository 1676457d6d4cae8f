"""Collaborative filtering for implicit feedback: ALS and BPR (the `implicit` library), EASE, popularity.

All models share one shape: ``fit(user_items)`` on a users x items CSR matrix of interaction
weights, then ``scores(users)`` returns a dense (len(users), n_items) block of preference scores
(higher is better). Exclusions and constraints are applied by the caller, never inside a model.

EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019) is a closed-form item-item model:
B = I - P / diag(P) with P = (X'X + lambda I)^-1, diagonal zero. It is a dozen lines of numpy on
top of a matrix inverse, strong on small catalogues, and what no library we can install ships.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


class Scorer(Protocol):
    name: str

    def fit(self, user_items: sp.csr_matrix) -> Scorer: ...

    def scores(self, users: np.ndarray) -> np.ndarray: ...


def _threads() -> int:
    """One thread: BPR's parallel SGD is not reproducible with more, and this machine class is small."""
    return 1


@dataclass
class Popular:
    """Everyone gets the items most users interacted with (weights ignored: counts users)."""

    name: str = "most_popular"
    popularity: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def fit(self, user_items: sp.csr_matrix) -> Popular:
        self.popularity = np.asarray((user_items > 0).sum(0)).ravel().astype(np.float64)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.popularity, (len(users), len(self.popularity))).copy()


@dataclass
class ALS:
    """Implicit ALS (Hu, Koren, Volinsky 2008): confidence 1 + alpha * weight, via `implicit`."""

    factors: int = 64
    regularization: float = 0.05
    alpha: float = 2.0
    iterations: int = 20
    seed: int = 42
    name: str = "als"
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def fit(self, user_items: sp.csr_matrix) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):  # implicit's ALS slows down (and warns) under a threaded BLAS
            model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                            alpha=self.alpha, iterations=self.iterations, random_state=self.seed,
                                            num_threads=_threads(), calculate_training_loss=False)
            model.fit(sp.csr_matrix(user_items, dtype=np.float32), show_progress=False)
        self.user_factors, self.item_factors = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


@dataclass
class BPR:
    """Bayesian personalised ranking (Rendle et al. 2009) by SGD over sampled pairs, via `implicit`."""

    factors: int = 64
    learning_rate: float = 0.05
    regularization: float = 0.01
    iterations: int = 200
    seed: int = 42
    name: str = "bpr"
    user_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    item_factors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    def fit(self, user_items: sp.csr_matrix) -> BPR:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        model = BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                            regularization=self.regularization, iterations=self.iterations,
                                            random_state=self.seed, num_threads=_threads())
        model.fit(sp.csr_matrix(user_items > 0, dtype=np.float32), show_progress=False)
        # the last item column is the item bias, matched by a constant 1 in the user factors
        self.user_factors, self.item_factors = np.asarray(model.user_factors), np.asarray(model.item_factors)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


@dataclass
class EASE:
    """Closed-form item-item regression with a zero diagonal; ``lam`` is the L2 penalty."""

    lam: float = 500.0
    name: str = "ease"
    weights: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    user_items: sp.csr_matrix = field(default_factory=lambda: sp.csr_matrix((0, 0)))

    def fit(self, user_items: sp.csr_matrix) -> EASE:
        x = sp.csr_matrix(user_items > 0, dtype=np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += self.lam
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        b[np.diag_indices_from(b)] = 0.0
        self.weights, self.user_items = b, x
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(dense_rows(self.user_items, users) @ self.weights)


def dense_rows(matrix: sp.csr_matrix, users: np.ndarray) -> np.ndarray:
    """``matrix[users].toarray()``; for a handful of users straight from the CSR arrays (the serving path,
    where scipy's fancy indexing costs more than the ranking itself)."""
    if len(users) > 8:
        return np.asarray(matrix[users].toarray())
    out = np.zeros((len(users), matrix.shape[1]), dtype=matrix.dtype)
    for r, u in enumerate(users):
        lo, hi = matrix.indptr[u], matrix.indptr[u + 1]
        out[r, matrix.indices[lo:hi]] = matrix.data[lo:hi]
    return out


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the k best items per row, best first; ``exclude`` (bool, same shape) is never returned."""
    s = np.array(scores, dtype=np.float64, copy=True)
    if exclude is not None:
        s[exclude] = -np.inf
    k = min(k, s.shape[1])
    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(s, part, 1), axis=1, kind="stable")
    return np.take_along_axis(part, order, 1)
