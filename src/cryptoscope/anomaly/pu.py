"""Positive-unlabelled forests: learn "abnormal" from a few confirmed cases and the rows nobody decided.

Analysts confirm a few dozen abnormal users and clear a few dozen; everyone else is unlabelled, mostly
normal but holding the abnormal users nobody has looked at yet. A classifier that takes the unlabelled
rows as normal (as ADGym trains its boosters) learns the right direction, but if it then scores the very
rows it was told were normal it "remembers" them as normal, the hidden abnormal ones included. So every
row is scored out of bag: the forest is grown in bags, each bag a bootstrap of the decided rows plus a
sample of the unlabelled ones, and a row is scored only by the bags that did not hold it (PU bagging,
Mordelet & Vert, Pattern Recognition Letters 2014; out-of-bag scoring as in Breiman's random forests).

Two kinds of forest: extremely randomized trees (Geurts et al., Machine Learning 2006), whose random splits
do not chase 20 positives, and Breiman's random forest; beside them a nearest-neighbour density ratio
(`knn_pu`) and CatBoost trained unlabelled-as-normal and scored out of fold (`boosted_pu`, the strongest
few-label baseline of ADGym). `part_scores` computes any of them by name; `feedback.blend_parts` weighs
them by the decisions. On the development tables of `benchmarks/anomaly_feedback.py` the forest pair ranked
the unseen rows better than either alone and better than LightGBM trained the same way (docs/abnormal.md).

>>> parts = part_scores(features, np.array([1, np.nan, 0, np.nan, 1]), 7, ("extra", "knn"))   # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from cryptoscope.errors import CryptoscopeError

#: Bags, and trees per bag: 300 trees in all; with a third of the rows left out of each bag, a row is left
#: out of about ten bags, and out of none with odds of about 1e-6.
BAGS = 30
TREES_PER_BAG = 10
#: Each bag holds this share of the unlabelled rows (without replacement) ...
UNLABELLED_SHARE = 0.632
#: ... but at most this many: an 8,000-row table is learnt in seconds, and a few dozen positives are not
#: drowned in a 50,000-user run (the development tables, at most 2,000 rows, never reach it).
MAX_UNLABELLED = 2_000
#: Smallest leaf: 3 keeps one or two confirmed rows from carving out a region of their own.
LEAF = 3
#: Undecided rows scored at least as high as this share of the confirmed rows are held back (`two_step_pu`).
SPY_QUANTILE = 0.25
FORESTS = {"extra": ExtraTreesClassifier, "random": RandomForestClassifier}
#: `knn_pu`: the k-th nearest confirmed row against the (k x `KNN_SPREAD`)-th nearest other row (k=3, spread 5:
#: chosen on the development tables among k = 3, 5, 10 and spreads 1, 5, 10).
KNN_K = 3
KNN_SPREAD = 5
#: Above this many other rows, `knn_pu` measures against a random sample of them (the same for every row).
KNN_MAX_REFERENCE = 20_000


def _bag(decided: np.ndarray, unlabelled: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one bag: a bootstrap of the decided rows plus a sample of the unlabelled ones."""
    take = min(len(unlabelled), MAX_UNLABELLED, max(1, round(UNLABELLED_SHARE * len(unlabelled))))
    parts = [rng.choice(decided, len(decided), replace=True)] if len(decided) else []
    if len(unlabelled):
        parts.append(rng.choice(unlabelled, take, replace=False))
    return np.concatenate(parts)


def pu_forest(features: np.ndarray, decisions: np.ndarray, seed: int = 7,
              held_back: np.ndarray | None = None, kind: str = "extra") -> np.ndarray:
    """Out-of-bag probability of "abnormal" for every row.

    ``decisions``: 1 (confirmed abnormal), 0 (cleared) or NaN (not decided) per row; unlabelled rows are
    trained as normal, except ``held_back`` ones (indices), which are only scored. A row left out of no bag
    (odds about 1e-6) gets the mean of all bags. ``kind``: "extra" (random splits) or "random" (best splits
    among random features: Breiman's forest).
    """
    if kind not in FORESTS:
        raise CryptoscopeError(f"unknown forest {kind!r}; known: {', '.join(FORESTS)}")
    x = np.asarray(features, dtype=float)
    d = np.asarray(decisions, dtype=float)
    if len(x) != len(d):
        raise CryptoscopeError(f"decisions have {len(d)} rows, the features {len(x)}")
    target = np.where(np.isnan(d), 0, d).astype(int)
    if target.sum() == 0:
        raise CryptoscopeError("the forest needs at least one decision that says abnormal")
    decided, unlabelled = np.flatnonzero(~np.isnan(d)), np.flatnonzero(np.isnan(d))
    if held_back is not None:
        unlabelled = np.setdiff1d(unlabelled, held_back)
    rng = np.random.default_rng(seed)
    total, seen = np.zeros(len(x)), np.zeros(len(x))
    everywhere, fitted = np.zeros(len(x)), 0
    for b in range(BAGS):
        rows = _bag(decided, unlabelled, rng)
        if target[rows].min() == target[rows].max():  # a bootstrap that drew one class only: skip it
            continue
        model = FORESTS[kind](n_estimators=TREES_PER_BAG, min_samples_leaf=LEAF, max_features="sqrt",
                              class_weight="balanced_subsample", random_state=seed * 1000 + b, n_jobs=1)
        model.fit(x[rows], target[rows])
        proba = model.predict_proba(x)[:, 1]
        out = np.ones(len(x), dtype=bool)
        out[rows] = False
        total[out] += proba[out]
        seen[out] += 1
        everywhere += proba
        fitted += 1
    if not seen.any():
        raise CryptoscopeError("every bag drew one class only; the forest needs decisions of both kinds or "
                               "unlabelled rows")
    return np.where(seen > 0, total / np.maximum(seen, 1), everywhere / fitted)


def two_step_pu(features: np.ndarray, decisions: np.ndarray, seed: int = 7, kind: str = "extra") -> np.ndarray:
    """`pu_forest` twice: the undecided rows the first pass scores like the confirmed ones are held back from
    the "normal" side of the second (two-step PU learning: Liu et al., ICML 2002).

    "Like the confirmed ones": at or above the `SPY_QUANTILE` quantile of the confirmed rows' own out-of-bag
    scores (the confirmed rows act as the spies of Liu et al.). Held-back rows are still scored.
    """
    first = pu_forest(features, decisions, seed, kind=kind)
    d = np.asarray(decisions, dtype=float)
    threshold = np.quantile(first[d == 1], SPY_QUANTILE)
    held_back = np.flatnonzero(np.isnan(d) & (first >= threshold))
    return pu_forest(features, decisions, seed, held_back=held_back, kind=kind)


def _kth_distance(x: np.ndarray, reference: np.ndarray, k: int) -> np.ndarray:
    """Every row's distance to its k-th nearest row of ``reference`` (indices), the row itself not counted."""
    k = max(1, min(k, len(reference) - 1))
    dist, idx = NearestNeighbors(n_neighbors=min(k + 1, len(reference))).fit(x[reference]).kneighbors(x)
    dist = np.where(reference[idx] == np.arange(len(x))[:, None], np.inf, dist)
    return np.asarray(np.sort(dist, axis=1)[:, k - 1])


def knn_pu(features: np.ndarray, decisions: np.ndarray, seed: int = 7, k: int = KNN_K,
           spread: int = KNN_SPREAD) -> np.ndarray:
    """How much nearer a row lies to the confirmed rows than to the others: log of its distance to the
    (k x ``spread``)-th nearest row not confirmed minus log of its distance to the k-th nearest confirmed row
    (a k-nearest-neighbour estimate of the density ratio, which orders rows as P(abnormal | x) does). Columns
    standardized; no row counts as its own neighbour, so the decided rows are scored as if left out. Smooth
    where the forests cut axis-parallel boxes: it ranks differently, and the mean of the three ranks better.
    """
    x = StandardScaler().fit_transform(np.asarray(features, dtype=float))
    d = np.asarray(decisions, dtype=float)
    positive, other = np.flatnonzero(d == 1), np.flatnonzero(d != 1)
    if len(positive) < 2 or len(other) < 2:
        raise CryptoscopeError("the nearest-neighbour score needs two confirmed rows and two others")
    if len(other) > KNN_MAX_REFERENCE:
        other = np.sort(np.random.default_rng(seed).choice(other, KNN_MAX_REFERENCE, replace=False))
    tiny = 1e-9
    return np.asarray(np.log(_kth_distance(x, other, k * spread) + tiny) - np.log(_kth_distance(x, positive, k) + tiny))


#: The parts `part_scores` can compute, by name: the two two-step forests, the nearest-neighbour ratio and the
#: out-of-fold booster. Which of them the product blends, and how, is `feedback.DESIGN`.
PARTS = (*FORESTS, "knn", "catboost")


def part_scores(features: np.ndarray, decisions: np.ndarray, seed: int = 7,
                parts: tuple[str, ...] = PARTS) -> dict[str, np.ndarray]:
    """Each named part's score for every row (higher = more like the confirmed rows), every row scored by
    models that did not learn its decision. One entry point, so that the product and the benchmark that
    chose the blend compute the very same parts."""
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise CryptoscopeError(f"unknown part {unknown[0]!r}; known: {', '.join(PARTS)}")
    out: dict[str, np.ndarray] = {}
    for name in parts:
        if name in FORESTS:
            out[name] = two_step_pu(features, decisions, seed, name)
        elif name == "knn":
            out[name] = knn_pu(features, decisions, seed)
        else:
            out[name] = boosted_pu(features, decisions, seed)
    return out


#: `boosted_pu`: folds (every row is scored by the boosters that did not train on it), trees per booster (300:
#: CatBoost's default 1,000 ranked no better on the development tables, `catboost_iterations_check`), and at
#: most this many undecided rows in a booster's training set, as in a forest's bag (`MAX_UNLABELLED`): an
#: 8,000-row table is learnt in seconds; the development tables, at most 2,000 rows, never reach it.
BOOST_FOLDS = 3
BOOST_ITERATIONS = 300
MAX_BOOST_UNLABELLED = MAX_UNLABELLED


def _folds(decisions: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Each row's fold: the confirmed, the cleared and the undecided rows each dealt round-robin in a random
    order, so that every fold's training rows hold confirmed rows (a booster needs both classes)."""
    d = np.asarray(decisions, dtype=float)
    rng = np.random.default_rng(seed)
    out = np.zeros(len(d), dtype=int)
    for rows in (np.flatnonzero(d == 1), np.flatnonzero(d == 0), np.flatnonzero(np.isnan(d))):
        out[rows[rng.permutation(len(rows))]] = np.arange(len(rows)) % folds
    return out


def boosted_pu(features: np.ndarray, decisions: np.ndarray, seed: int = 7, folds: int = BOOST_FOLDS,
               iterations: int = BOOST_ITERATIONS) -> np.ndarray:
    """CatBoost's probability of "abnormal" for every row, out of fold: the confirmed rows against the cleared
    and the undecided ones (ADGym's unlabelled-as-normal booster, its strongest few-label baseline).

    Why: gradient-boosted oblivious trees find the one or two decisive columns of a table and their sharp
    thresholds, where the bagged forests (random features per split) and the nearest-neighbour ratio (every
    column counts in the distance) blur them; as a third kind of part its rank adds what the others miss.
    Out of fold, because a booster that scores rows it was told are normal remembers them as normal.
    """
    from catboost import CatBoostClassifier

    x = np.asarray(features, dtype=float)
    d = np.asarray(decisions, dtype=float)
    if len(x) != len(d):
        raise CryptoscopeError(f"decisions have {len(d)} rows, the features {len(x)}")
    if int((d == 1).sum()) < folds:
        raise CryptoscopeError(f"the booster needs at least {folds} decisions that say abnormal")
    target = np.where(np.isnan(d), 0, d).astype(int)
    fold = _folds(d, folds, seed)
    rng = np.random.default_rng(seed)
    out = np.zeros(len(x))
    for k in range(folds):
        train = _capped(np.flatnonzero(fold != k), d, rng)
        model = CatBoostClassifier(iterations=iterations, verbose=0, thread_count=-1, random_seed=seed,
                                   allow_writing_files=False)
        model.fit(x[train], target[train])
        out[fold == k] = model.predict_proba(x[fold == k])[:, 1]
    return out


def _capped(rows: np.ndarray, decisions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``rows`` with at most `MAX_BOOST_UNLABELLED` undecided ones (a random sample); every decided row stays."""
    undecided = rows[np.isnan(decisions[rows])]
    if len(undecided) <= MAX_BOOST_UNLABELLED:
        return rows
    keep = rng.choice(undecided, MAX_BOOST_UNLABELLED, replace=False)
    return np.sort(np.concatenate([rows[~np.isnan(decisions[rows])], keep]))
