"""Which case an analyst should open next: the highest expected loss, with every few places kept for the case
whose decision would teach the most.

A queue ordered by score alone spends every decision confirming what the model already believes; the
forests (`cryptoscope.anomaly.feedback`) learn most from the cases they are least sure of. So the queue
mixes the two (an epsilon-greedy schedule of active learning, Settles, *Active Learning*, 2012, ch. 2):

- expected loss = P(abnormal) x the money at stake (`exposure`: the user's card deposits and chain
  withdrawals of the last 30 days), where P(abnormal) is the score calibrated on the decisions so far
  (`probability`: Platt scaling of the score's rank on the decided rows);
- every `EXPLORE_EVERY`-th place goes to the open case whose P(abnormal) is closest to one half.

Before analysts have decided at least `MIN_EACH` cases of each kind there is no calibration: the queue is
the score's order and P(abnormal) is unknown (None), not guessed. The same holds while the decisions do not
rank with the score (a fit that falls as the score rises): a few early decisions at the top of the queue can
confirm its lower end more often by chance, and a probability that falls with the score would turn the queue
upside down (the simulated analysts met it on ADBench's ada: ``docs/abnormal.md``).

>>> order = review_order(p * exposure, p * (1 - p))       # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from cryptoscope.anomaly.combine import rank_columns
from cryptoscope.anomaly.feedback import MIN_EACH, decided
from cryptoscope.cases.store import CaseStore, QueuePlace

#: Every this-many-th place in the queue goes to the most informative open case (1 in 5).
EXPLORE_EVERY = 5
#: The money a user can cost the exchange within a month: card deposits (charge-backs) and chain withdrawals.
EXPOSURE_COLUMNS = ("deposit_usd_30d", "withdrawal_usd_30d")


def probability(score: np.ndarray, labels: np.ndarray) -> np.ndarray | None:
    """P(abnormal) per row: a logistic fit of the decisions on the logit of the score's percentile rank.

    None when fewer than `MIN_EACH` decisions of either kind exist, or when the fit does not rise with the
    score. Ranks, not raw scores, so any score scale calibrates alike; decided rows are the top of earlier
    queues, so the probability is the share of cases like it that analysts confirmed, which is what an
    analyst weighs.
    """
    y = np.asarray(labels, dtype=float)
    known = decided(y)
    if min(int((y[known] == 1).sum()), int((y[known] == 0).sum())) < MIN_EACH:
        return None
    r = np.clip(rank_columns(np.asarray(score, dtype=float))[:, 0], 1e-6, 1 - 1e-6)
    logit = np.log(r / (1 - r)).reshape(-1, 1)
    model = LogisticRegression(C=1.0).fit(logit[known], y[known].astype(int))
    if model.coef_[0, 0] <= 0:  # abnormal no likelier higher up: no calibration yet (see the module doc)
        return None
    return np.asarray(model.predict_proba(logit)[:, 1])


def exposure(features: pd.DataFrame) -> np.ndarray:
    """Money at stake per row: the sum of the `EXPOSURE_COLUMNS` present (0 where none is)."""
    present = [c for c in EXPOSURE_COLUMNS if c in features.columns]
    if not present:
        return np.zeros(len(features))
    return np.asarray(features[present].clip(lower=0).sum(axis=1).to_numpy(dtype=float))


def review_order(value: np.ndarray, uncertainty: np.ndarray | None, explore_every: int = EXPLORE_EVERY
                 ) -> np.ndarray:
    """Row indices in review order: highest ``value`` first, every ``explore_every``-th place the row of
    highest ``uncertainty`` not yet placed (no exploring when ``uncertainty`` is None)."""
    by_value = np.argsort(-np.asarray(value, dtype=float), kind="stable")
    if uncertainty is None or explore_every < 1:
        return by_value
    by_doubt = np.argsort(-np.asarray(uncertainty, dtype=float), kind="stable")
    placed = np.zeros(len(by_value), dtype=bool)
    out, v, u = [], 0, 0
    for place in range(1, len(by_value) + 1):
        queue, i = (by_doubt, u) if place % explore_every == 0 else (by_value, v)
        while placed[queue[i]]:
            i += 1
        out.append(queue[i])
        placed[queue[i]] = True
        if queue is by_doubt:
            u = i + 1
        else:
            v = i + 1
    return np.asarray(out)


def queue_places(store: CaseStore, users: pd.Index | np.ndarray, scores: np.ndarray, decisions: np.ndarray,
                 money: np.ndarray) -> list[QueuePlace]:
    """Every open case's place in the review queue from one run's user scores.

    ``users``: the run's user ids in the order of ``scores`` (higher = more abnormal), ``decisions``
    (1 / 0 / NaN per user, the analysts' so far) and ``money`` (`exposure`). A case is as likely abnormal as
    its likeliest member, stands to lose the sum of its members' expected losses, and ranks as its best member.
    """
    index = pd.Series(np.arange(len(users)), index=np.asarray(users))
    p = probability(scores, decisions)
    rank = np.empty(len(scores), dtype=int)
    rank[np.argsort(-np.asarray(scores), kind="stable")] = np.arange(1, len(scores) + 1)
    cases = store.list_cases("open")
    rows = [index.reindex(store.member_ids(c.id)).dropna().to_numpy(dtype=int) for c in cases]
    best = np.array([rank[r].min() if len(r) else len(scores) + 1 for r in rows])
    chance = np.array([p[r].max() if p is not None and len(r) else np.nan for r in rows])
    loss = np.array([float(p[r] @ money[r]) if p is not None and len(r) else np.nan for r in rows])
    value = loss + chance * 1e-9 if p is not None else -best.astype(float)  # chance breaks ties of no money
    order = review_order(value, chance * (1 - chance) if p is not None else None)
    explore = np.zeros(len(cases), dtype=bool)
    if p is not None:
        explore[order[EXPLORE_EVERY - 1::EXPLORE_EVERY]] = True
    return [QueuePlace(cases[i].id, position + 1, int(best[i]), len(scores),
                       None if p is None else round(float(chance[i]), 4),
                       round(float(money[rows[i]].sum()), 2) if len(rows[i]) else 0.0,
                       None if p is None else round(float(loss[i]), 2), bool(explore[i]))
            for position, i in enumerate(order)]
