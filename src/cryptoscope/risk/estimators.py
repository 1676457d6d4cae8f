"""The two model families the risk products use, sized for a few dozen bad rows.

Labels are scarce here (a 90-day window with chargebacks that take weeks holds tens of bad rows,
not thousands) and the validation period, which the harness also uses to stop boosting early,
holds only a handful. Early stopping on a handful of bad rows stops at noise, so:

* ``boosted_trees``: LightGBM with a fixed number of small, shallow, regularised trees and no
  early stopping; the harness still calibrates and sets thresholds on the validation period;
* ``logistic``: an L2 logistic regression (median-imputed by the harness) for KYC, where a
  training period holds well under twenty bad rows and a monotone model generalises better.

* ``sequence`` and ``hybrid`` (the withdrawal product, chosen with ``model=``): a GRU over the account's
  events before the decision beside an MLP over the tabular features (`SequenceClassifier`), and the
  boosted trees above with that kind of GRU's logit as one feature more (`HybridClassifier`). They read the
  product's features followed by the flattened sequence (``risk/sequences.py``).

>>> boosted_trees(7).estimator.n_estimators
200
>>> sorted(MODELS)
['hybrid', 'lightgbm', 'sequence']
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

from cryptoscope.models import RiskClassifier
from cryptoscope.models.hybrid import HybridClassifier
from cryptoscope.models.sequence import SequenceClassifier


def boosted_trees(random_state: int = 0) -> RiskClassifier:
    """200 trees of at most 7 leaves with 10 rows a leaf, learning rate 0.05, rows and columns subsampled."""
    return RiskClassifier(estimator=LGBMClassifier(
        n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=10, subsample=0.8, subsample_freq=1,
        colsample_bytree=0.8, reg_lambda=1.0, random_state=random_state, n_jobs=1, deterministic=True,
        force_col_wise=True, verbosity=-1))


def logistic(random_state: int = 0) -> RiskClassifier:
    """L2-regularised logistic regression (C = 1) on the raw features."""
    return RiskClassifier(estimator=LogisticRegression(C=1.0, max_iter=2000, random_state=random_state))


#: The sequence models' settings, chosen on the validation period of the demo world (``benchmarks/deep.py``).
SEQUENCE_PARAMS: dict[str, Any] = {"hidden": 32, "epochs": 6, "batch_size": 512, "learning_rate": 3e-3,
                                   "weight_decay": 1e-5, "threads": 1}


def _gru(steps: int, event_features: int, random_state: int) -> SequenceClassifier:
    return SequenceClassifier(steps=steps, event_features=event_features, random_state=random_state,
                              **SEQUENCE_PARAMS)


def sequence(random_state: int = 0, *, steps: int, event_features: int) -> RiskClassifier:
    """A GRU over the last ``steps`` events beside an MLP over the tabular features, one logit."""
    return RiskClassifier(estimator=_gru(steps, event_features, random_state))


def hybrid(random_state: int = 0, *, steps: int, event_features: int) -> RiskClassifier:
    """``boosted_trees`` on the tabular features plus the out-of-fold logit of a GRU over the sequence alone."""
    trees = boosted_trees(random_state).estimator
    return RiskClassifier(estimator=HybridClassifier(trees, _gru(steps, event_features, random_state),
                                                     sequence_columns=steps * event_features))


#: the model families a product may be trained with (``risk train KIND --model NAME``); lightgbm = the product's own
MODELS: dict[str, Callable[..., RiskClassifier]] = {"lightgbm": boosted_trees, "sequence": sequence, "hybrid": hybrid}
