"""Simulated analysts working a review queue: how many abnormal rows the first 100 decisions find, and how well
the ensemble taught by them ranks rows nobody may decide, after 20, 50 and 100 decisions.

Each table's rows are split once (seeded, stratified): `EVAL_SHARE` are never offered to the analysts and
judge the ranking (ROC-AUC); the rest is the pool they review. The analyst decides rows in rounds
(`ROUNDS`: 10 at a time up to 50, then 25), answering with the truth, and after each round the ensemble
learns from every decision so far (`learn_from_decisions`, as `anomaly run` does). Three ways to choose:

- ``unsupervised_order``: the unsupervised ensemble's order, never re-ranked (reviewing without learning);
  the ensemble still learns from those decisions for the ROC-AUC;
- ``greedy``: after each round, the undecided rows the taught ensemble ranks highest;
- ``review_queue``: the product's queue (`cryptoscope.anomaly.review`): expected loss (calibrated
  P(abnormal) x money at stake; on tables without money, P(abnormal)), every 5th place for the row nearest
  50/50; the unsupervised order until decisions of both kinds can calibrate.

Every re-ranking is the product's full learner (`learn_from_decisions`, CatBoost part included): nothing
cheaper stands in for it. What makes a table affordable is that identical decisions are learnt once
(`Teacher`): the three policies review the same rows until the first learned score or calibration sets them
apart, and the detectors' scores and the scaled matrix are computed once per table, not per refit.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np

from cryptoscope.anomaly.detectors import scaled
from cryptoscope.anomaly.evidence import roc_auc
from cryptoscope.anomaly.feedback import learn_from_decisions
from cryptoscope.anomaly.review import probability, review_order

EVAL_SHARE = 0.3
ROUNDS = (10, 10, 10, 10, 10, 25, 25)
CHECKPOINTS = (20, 50, 100)
POLICIES = ("unsupervised_order", "greedy", "review_queue")


def split(y: np.ndarray, seed: int = 0) -> np.ndarray:
    """A stratified, seeded mask of the rows that judge (never offered for review)."""
    rng = np.random.default_rng(seed)
    judge = np.zeros(len(y), dtype=bool)
    for cls in (0, 1):
        rows = np.flatnonzero(y == cls)
        judge[rng.choice(rows, round(EVAL_SHARE * len(rows)), replace=False)] = True
    return judge


def _next(policy: str, score: np.ndarray, unsup: np.ndarray, decisions: np.ndarray, pool: np.ndarray,
          money: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` pool rows the policy offers next."""
    open_rows = np.flatnonzero(pool & np.isnan(decisions))
    if policy == "unsupervised_order":
        return open_rows[np.argsort(-unsup[open_rows], kind="stable")[:n]]
    if policy == "greedy":
        return open_rows[np.argsort(-score[open_rows], kind="stable")[:n]]
    p = probability(score, decisions)
    if p is None:
        return open_rows[np.argsort(-score[open_rows], kind="stable")[:n]]
    value = p * money if money.any() else p
    order = review_order(value[open_rows], (p * (1 - p))[open_rows])
    return open_rows[order[:n]]


class Teacher:
    """`learn_from_decisions` on one table, remembered by the decisions it learnt from.

    The policies of one table share the matrix and the members' scores, and often their first decisions;
    a refit the product would make on the same decisions gives the same score (its seeds are fixed), so it is
    made once. ``refits`` counts the learner's real runs, ``seconds`` their time.
    """

    def __init__(self, x: np.ndarray, members: np.ndarray) -> None:
        self.matrix = scaled(x)
        self.members = members
        self.refits = 0
        self.seconds = 0.0
        self._memo: dict[bytes, np.ndarray | None] = {}

    def score(self, decisions: np.ndarray) -> np.ndarray | None:
        """The learned score (None: the decisions cannot teach yet), as `anomaly run` computes it."""
        key = np.asarray(decisions, dtype=float).tobytes()
        if key not in self._memo:
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                learned = learn_from_decisions(self.matrix, self.members, decisions)
            self._memo[key] = None if learned is None else learned[0]
            self.refits += learned is not None
            self.seconds += time.perf_counter() - t0
        return self._memo[key]


def simulate(teacher: Teacher, unsup: np.ndarray, y: np.ndarray, money: np.ndarray, policy: str) -> dict[str, Any]:
    """One policy on one table: abnormal rows found in the first 100 decisions, ROC-AUC at each checkpoint."""
    judge = split(y)
    pool = ~judge
    decisions = np.full(len(y), np.nan)
    score, taken, auc = unsup, [], {}
    for n in ROUNDS:
        picked = _next(policy, score, unsup, decisions, pool, money, n)
        decisions[picked] = y[picked]
        taken.extend(picked.tolist())
        if policy != "unsupervised_order" or len(taken) in CHECKPOINTS:
            learned = teacher.score(decisions)
            score = learned if learned is not None else unsup
        if len(taken) in CHECKPOINTS:
            auc[str(len(taken))] = round(roc_auc(y[judge], score[judge]), 4)
    first = np.asarray(taken[:100])
    return {"found_in_100": int(y[first].sum()), "usd_found_in_100": round(float((money[first] * y[first]).sum()), 2),
            "roc_auc_after": auc, "unsupervised_roc_auc": round(roc_auc(y[judge], unsup[judge]), 4)}


def review_table(x: np.ndarray, members: np.ndarray, unsup: np.ndarray, y: np.ndarray,
                 money: np.ndarray | None = None) -> dict[str, Any]:
    """Every policy on one table, and the learner's real refits and their seconds (``learner``)."""
    money = money if money is not None else np.zeros(len(y))
    teacher = Teacher(x, members)
    out: dict[str, Any] = {policy: simulate(teacher, unsup, y, money, policy) for policy in POLICIES}
    out["learner"] = {"refits": teacher.refits, "seconds": round(teacher.seconds, 1)}
    return out


def summarize(per: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Per policy: mean abnormal rows found in 100 decisions and mean ROC-AUC at each checkpoint."""
    out: dict[str, Any] = {}
    for policy in POLICIES:
        rows = [r[policy] for r in per.values()]
        out[policy] = {"found_in_100": round(float(np.mean([r["found_in_100"] for r in rows])), 1),
                       "roc_auc_after": {c: round(float(np.mean([r["roc_auc_after"][str(c)] for r in rows])), 4)
                                         for c in CHECKPOINTS}}
    out["unsupervised_roc_auc"] = round(float(np.mean([r[POLICIES[0]]["unsupervised_roc_auc"]
                                                       for r in per.values()])), 4)
    return out


def plot(review: dict[str, Any], path: Any) -> None:
    """ROC-AUC on the rows nobody may decide against decisions taken, per policy: public tables and the world."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [(k, v) for k, v in (("public tables (mean)", review.get("tables_mean")),
                                  ("simulated world", review.get("world_summary"))) if v]
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 3.6), squeeze=False)
    for ax, (title, summary) in zip(axes[0], panels, strict=True):
        for policy in POLICIES:
            s = summary[policy]
            ax.plot([0, *CHECKPOINTS], [summary["unsupervised_roc_auc"], *(s["roc_auc_after"][c] for c in CHECKPOINTS)],
                    marker="o", label=f"{policy.replace('_', ' ')} ({s['found_in_100']:g} found in 100)")
        ax.set_title(title)
        ax.set_xlabel("analyst decisions")
        ax.set_ylabel("ROC-AUC, rows never offered")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
