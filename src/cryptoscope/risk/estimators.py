"""The two model families the risk products use, sized for a few dozen bad rows.

Labels are scarce here (a 90-day window with chargebacks that take weeks holds tens of bad rows,
not thousands) and the validation period, which the harness also uses to stop boosting early,
holds only a handful. Early stopping on a handful of bad rows stops at noise, so:

* ``boosted_trees``: LightGBM with a fixed number of small, shallow, regularised trees and no
  early stopping; the harness still calibrates and sets thresholds on the validation period;
* ``logistic``: an L2 logistic regression (median-imputed by the harness) for KYC, where a
  training period holds well under twenty bad rows and a monotone model generalises better.

>>> boosted_trees(7).estimator.n_estimators
200
"""

from __future__ import annotations

from lightgbm import LGBMClassifier
from sklearn.linear_model import LogisticRegression

from cryptoscope.models import RiskClassifier


def boosted_trees(random_state: int = 0) -> RiskClassifier:
    """200 trees of at most 7 leaves with 10 rows a leaf, learning rate 0.05, rows and columns subsampled."""
    return RiskClassifier(estimator=LGBMClassifier(
        n_estimators=200, learning_rate=0.05, num_leaves=7, min_child_samples=10, subsample=0.8, subsample_freq=1,
        colsample_bytree=0.8, reg_lambda=1.0, random_state=random_state, n_jobs=1, deterministic=True,
        force_col_wise=True, verbosity=-1))


def logistic(random_state: int = 0) -> RiskClassifier:
    """L2-regularised logistic regression (C = 1) on the raw features."""
    return RiskClassifier(estimator=LogisticRegression(C=1.0, max_iter=2000, random_state=random_state))
