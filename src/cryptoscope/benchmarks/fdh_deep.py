"""The sequence model and the hybrid on the FDH protocol: what `cryptoscope.benchmarks.fdh` fits besides trees.

* ``sequence``: `SequenceClassifier` (a GRU over the card's last payments before the decision, see
  `cryptoscope.benchmarks.fdh_sequences`, plus an MLP over the same tabular features the trees get);
* ``hybrid``: the trees with one learned feature more, the logit of a GRU that reads only the sequence
  (not the aggregates, which the trees already have: on the validation folds this beat feeding the
  full sequence model's logit, AP -0.003 against -0.007 under LightGBM on average). On training rows that
  logit comes from models fitted on the other customers (out of fold, by customer), so the trees do not
  learn to trust a score that saw the row's own label; on test rows it comes from the same network
  fitted on the whole training week.

Both learn from exactly the training rows and labels the trees learn from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.benchmarks.fdh_sequences import EVENT_FEATURES, card_history, event_sequences
from cryptoscope.models.sequence import SequenceClassifier

#: Chosen on the validation folds (training 14 and 21 days before a start date), never on a test week.
SEQUENCE_PARAMS: dict[str, Any] = {"steps": 11, "hidden": 32, "epochs": 6, "batch_size": 512,
                                   "learning_rate": 3e-3, "weight_decay": 1e-5, "threads": 1}
HYBRID_FOLDS = 3
HISTORY_DAYS = 30  # how far back the card's payments are read: ten steps are a few days of a card's life
#: The last step is the decision's own payment (amount and time, no label), after the 10 latest earlier ones.
WITH_DECISION = True
LOGIT = "sequence_logit"


def sequence_inputs(con: Any, start: dt.datetime, end: dt.datetime, frames: list[pd.DataFrame],
                    features: tuple[str, ...], steps: int) -> list[np.ndarray]:
    """For each frame of decisions: its tabular ``features`` then its flattened event sequence, as one matrix."""
    history = card_history(con, start - dt.timedelta(days=HISTORY_DAYS), end)
    out = []
    for frame in frames:
        seq = event_sequences(history, frame, steps=steps, with_decision=WITH_DECISION)
        out.append(np.hstack([frame[list(features)].astype("float64").to_numpy(), seq.reshape(len(frame), -1)]))
    return out


def sequence_model(seed: int, params: dict[str, Any] | None = None) -> SequenceClassifier:
    return SequenceClassifier(event_features=len(EVENT_FEATURES), random_state=seed,
                              **(params if params is not None else SEQUENCE_PARAMS))


def out_of_fold_logits(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int, folds: int = HYBRID_FOLDS,
                       params: dict[str, Any] | None = None) -> np.ndarray:
    """Each training row's sequence logit from a model fitted on the other customers' rows (``groups``)."""
    uniq = np.unique(groups)
    fold_of = dict(zip(uniq, np.random.default_rng(seed).permutation(len(uniq)) % folds, strict=True))
    fold = np.array([fold_of[g] for g in groups])
    out = np.zeros(len(y))
    for k in range(folds):
        held = fold == k
        out[held] = sequence_model(seed + k + 1, params).fit(x[~held], y[~held]).decision_function(x[held])
    return out


def hybrid_scores(tree: Callable[[], Any], x_train: np.ndarray, y: np.ndarray, groups: np.ndarray,
                  x_test: np.ndarray, n_tabular: int, seed: int, params: dict[str, Any] | None = None) -> np.ndarray:
    """The trees on the first ``n_tabular`` columns plus the logit of a GRU over the sequence columns alone
    (out of fold on training rows)."""
    seq_train, seq_test = x_train[:, n_tabular:], x_test[:, n_tabular:]
    train_logit = out_of_fold_logits(seq_train, y, groups, seed, params=params)
    test_logit = sequence_model(seed, params).fit(seq_train, y).decision_function(seq_test)
    model = tree().fit(np.column_stack([x_train[:, :n_tabular], train_logit]), y)
    return np.asarray(model.predict_proba(np.column_stack([x_test[:, :n_tabular], test_logit])))[:, 1]
