"""Analysts' decisions teach the ensemble: a few confirmed and cleared cases, and everyone nobody decided.

Closed cases come back into the lake as labels (`cryptoscope.cases.labels`): 1 closed as fraud, 0 closed
as legitimate. They say what this exchange's abnormal users look like, which no unsupervised rule can
know. `learn_from_decisions` turns them into one score per row:

- positive-unlabelled forests (`cryptoscope.anomaly.pu`: extra trees and a random forest) learn
  "confirmed abnormal" against the cleared rows and the rows nobody decided, from the features, and score
  every row out of bag; the rows they then find most like the confirmed ones are taken out of the
  "normal" side and they learn once more (two-step PU learning, Liu et al., ICML 2002): hidden abnormal
  rows stop teaching them that they are normal;
- a nearest-neighbour density ratio (`pu.knn_pu`: how much nearer a row lies to the confirmed rows than to
  the others) ranks smoothly where the forests cut boxes;
- CatBoost trained the same way and scored out of fold (`pu.boosted_pu`) finds the one or two decisive
  columns and their thresholds, where the others blur them;
- the unsupervised members' mean z-score says who is a plain outlier;
- the score blends the ranks of these five, each weighted by how well it ranks the decided rows
  (`blend_parts`, `blend_by_decisions`): every part scores those rows out of bag or out of fold, so the
  decisions judge them honestly, and which part is right differs from table to table.

Why this design: chosen among candidates on the development tables of `benchmarks/anomaly_feedback.py`
(20 confirmed + 20 cleared rows per table) and judged on held-out tables against CatBoost, XGBoost,
LightGBM and XGBOD trained on the same decisions (docs/abnormal.md, "Learning from analysts"). The first
round's design (the mean rank of the forests and the nearest-neighbour ratio) led CatBoost on its
development tables and trailed it on its held-out ones, most where one or two columns decide; the second
round developed on both (73 tables) and judged on tables no learner had scored. Giving the forests the
members' scores as features (XGBOD's idea) ranked worse; the version before issue 22 (member weights and
a forest on the decided rows only) ranked far lower: it ignored the rows nobody decided, which hold most of
the information.

>>> learned = learn_from_decisions(x, scores, np.array([np.nan, 1, 0, np.nan, 0]))   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import roc_auc_score

from cryptoscope.anomaly.combine import rank_columns, standardize
from cryptoscope.anomaly.pu import part_scores
from cryptoscope.errors import CryptoscopeError

#: Fewer confirmed abnormal rows than this and nothing is learned: a handful of decisions is noise.
MIN_ABNORMAL = 3
#: Fewer cleared rows than this and a score is judged against every undecided row instead (`decided_auc`).
MIN_EACH = 3
#: A part's weight in `blend_by_decisions` is its lead over chance to this power: 40 decisions measure an
#: AUC to about +-0.05, so only a clear lead should take the blend over (4 chosen on the development tables).
POWER = 4.0
#: The learned score blends these parts of `pu.part_scores` and the members' mean z-score (``"members"``),
#: each weighted by how well it ranks the decided rows (`blend_by_decisions`). Chosen on the development
#: tables of `benchmarks/anomaly_feedback.py` (the candidate ``pu_pair+knn+catboost+zscore_by_decisions``).
DESIGN_PARTS = ("extra", "random", "knn", "catboost")


def decided(labels: np.ndarray) -> np.ndarray:
    """Which rows carry an analyst's decision (0 or 1; NaN = never decided)."""
    y = np.asarray(labels, dtype=float)
    bad = ~np.isnan(y) & ~np.isin(y, (0.0, 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CryptoscopeError(f"feedback row {row}: decision must be 0, 1 or empty, found {y[row]!r}")
    return ~np.isnan(y)


@dataclass(frozen=True)
class DecisionCounts:
    """How many rows were confirmed abnormal, cleared and left undecided, and whether that can teach."""

    abnormal: int
    cleared: int
    undecided: int

    @classmethod
    def of(cls, labels: np.ndarray) -> DecisionCounts:
        y = np.asarray(labels, dtype=float)
        known = decided(y)
        return cls(int((y[known] == 1).sum()), int((y[known] == 0).sum()), int((~known).sum()))

    @property
    def usable(self) -> bool:
        return self.abnormal >= MIN_ABNORMAL

    def note(self) -> str | None:
        """Why the decisions teach nothing, or what they lack; None when they are a normal mix."""
        if self.abnormal + self.cleared == 0:
            return "no decisions: unsupervised scores"
        if not self.usable:
            return (f"only {self.abnormal} decision(s) say abnormal (at least {MIN_ABNORMAL} needed to learn what "
                    f"abnormal looks like): unsupervised scores")
        if self.cleared == 0:
            return "no cleared decisions: learned from the confirmed rows against every undecided row"
        if self.undecided == 0:
            return "every row carries a decision: each row is scored by models that did not see it"
        return None


def member_weights(scores: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """Each member's weight, ``max(0, AUC - 0.5)`` on the decisions (`decided_auc`), summing to 1; None when
    the decisions cannot teach (`DecisionCounts.usable`). If no member beats chance, all weigh the same."""
    s = np.asarray(scores, dtype=float)
    s = s.reshape(-1, 1) if s.ndim == 1 else s
    if len(s) != len(labels):
        raise CryptoscopeError(f"feedback has {len(labels)} rows, the scores {len(s)}")
    if not DecisionCounts.of(labels).usable:
        return None
    lead = np.array([max(0.0, decided_auc(s[:, j], labels) - 0.5) for j in range(s.shape[1])])
    return lead / lead.sum() if lead.sum() > 0 else np.full(s.shape[1], 1.0 / s.shape[1])


def weighted_zscore(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The members' z-scores (`combine.standardize`) weighted by ``weights``: one score per row."""
    return np.asarray(standardize(scores) @ np.asarray(weights, dtype=float))


def decided_auc(score: np.ndarray, labels: np.ndarray) -> float:
    """How well a score ranks the confirmed abnormal rows above the rest: ROC-AUC against the cleared rows,
    or, with fewer than `MIN_EACH` cleared, against every row not confirmed (positive-unlabelled AUC, which
    rises and falls with the true one; Menon et al., ICML 2015)."""
    y = np.asarray(labels, dtype=float)
    known = decided(y)
    positive = known & (y == 1)
    cleared = known & (y == 0)
    negative = cleared if int(cleared.sum()) >= MIN_EACH else ~positive
    rows = positive | negative
    if positive.sum() == 0 or negative.sum() == 0:
        return 0.5
    return float(roc_auc_score(positive[rows].astype(int), np.asarray(score)[rows]))


def blend_by_decisions(parts: dict[str, np.ndarray], labels: np.ndarray, power: float = POWER
                       ) -> tuple[np.ndarray, dict[str, float]]:
    """Mean of the parts' percentile ranks, each weighted by its lead over chance on the decisions.

    ``parts``: scores (higher = more abnormal) that never saw the decided rows' labels, or scored them out
    of bag. Weight ``max(0, AUC - 0.5) ** power`` (`decided_auc`), normalized; a part no better than a coin
    gets no say, and if none is, all weigh the same. Returns the blend and the weights by name.
    """
    names = list(parts)
    lead = np.array([max(0.0, decided_auc(parts[n], labels) - 0.5) ** power for n in names])
    weights = lead / lead.sum() if lead.sum() > 0 else np.full(len(names), 1.0 / len(names))
    ranks = rank_columns(np.column_stack([parts[n] for n in names]))
    return np.asarray(ranks @ weights), dict(zip(names, weights.round(4).tolist(), strict=True))


def design_score(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted mean of the parts' percentile ranks (fixed weights by part name; a part weighing 0 is left
    out). Ranks, not raw scores: a forest's probability, a log density ratio and a booster's probability live
    on different scales, and a rank mean lets none of them dominate by its scale alone."""
    names = [n for n in weights if weights[n] > 0]
    w = np.array([weights[n] for n in names], dtype=float)
    ranks = rank_columns(np.column_stack([parts[n] for n in names]))
    return np.asarray(ranks @ (w / w.sum()))


def blend_parts(parts: dict[str, np.ndarray], scores: np.ndarray, labels: np.ndarray
                ) -> tuple[np.ndarray, dict[str, float]]:
    """The learned score from precomputed parts (`DESIGN_PARTS` of `pu.part_scores`) and the members' scores:
    `blend_by_decisions` over the parts and the members' mean z-score, and the weight each got.

    Why weigh by the decisions: which part ranks best differs from table to table (the booster where one or two
    columns decide, the nearest-neighbour ratio where the confirmed rows form a smooth region, the members where
    the abnormal rows are plain outliers), and every part scores the decided rows out of fold or out of bag,
    so their AUC on the decisions is an honest guide; the power keeps a noisy small lead from taking over.
    """
    columns = {n: parts[n] for n in DESIGN_PARTS}
    columns["members"] = standardize(np.asarray(scores, dtype=float).reshape(len(labels), -1)).mean(axis=1)
    return blend_by_decisions(columns, labels)


def learn_from_decisions(matrix: np.ndarray, scores: np.ndarray, labels: np.ndarray,
                         seed: int = 7) -> tuple[np.ndarray, np.ndarray] | None:
    """(score per row, member weights) from the decisions; None when they cannot teach (`DecisionCounts`).

    ``matrix``: the detectors' (scaled) feature matrix; ``scores``: rows x members, higher = more abnormal.
    The score is `blend_parts`: the two PU forests, the nearest-neighbour ratio, the out-of-fold booster and
    the members' mean z-score, each weighted by its lead on the decisions. The member weights (each member's
    own lead on the decisions) are reported, not used.
    """
    weights = member_weights(scores, labels)
    if weights is None:
        return None
    return blend_parts(part_scores(matrix, labels, seed, DESIGN_PARTS), scores, labels)[0], weights
