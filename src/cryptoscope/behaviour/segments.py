"""Behavioural segments: a Gaussian mixture over a few behaviour rates, stable across runs and re-fits.

Why these features: each says how a user behaves, per day they could have been active, so a month
and a quarter of history land on the same scale and one fitted model labels every snapshot:
how often they are active, through the API or the apps, from how many countries, whether their
home IP is shared with a few other accounts, and how much they move at a time. Trading volume and
product use describe the segments afterwards (`profiles.py`) but do not define them: they vary as
much inside a kind of user as between kinds.

Why a Gaussian mixture: in log space the bulk of ordinary users is one elongated blob; k-means cuts
it into slices, a full-covariance mixture keeps it whole. Stability: fixed seeds and several
initialisations; a re-fit (new data, new seed) is matched to the previous model's segments by the
Hungarian method on centroids, so "segment 3" keeps meaning the same users.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from cryptoscope.errors import CryptoscopeError

FEATURES = ("activity", "api", "countries", "shared_home", "deposit_size")
N_SEGMENTS = 6
#: more accounts than this on one IP is a carrier NAT, an office or a VPN exit, not a shared home
MAX_HOME = 6
#: rows a fit uses at most (a seeded sample): 6 components in 5 dimensions need far fewer
MAX_FIT_ROWS = 200_000
#: (feature, direction) -> words, for naming a segment after what sets it apart most
_NAMES = {("activity", 1): "highly active", ("activity", -1): "dormant", ("api", 1): "API traders",
          ("api", -1): "app users", ("countries", 1): "travellers", ("countries", -1): "home-based",
          ("shared_home", 1): "shared-home accounts", ("shared_home", -1): "single-home",
          ("deposit_size", 1): "big depositors", ("deposit_size", -1): "small depositors"}


def exposure_days(frame: pd.DataFrame, window_days: int, world_start: dt.datetime) -> pd.Series:
    """Days of the window each row could have been active: not before sign-up or the data's start."""
    start = pd.concat([pd.to_datetime(frame["signup_time"], utc=True),
                       pd.Series(pd.Timestamp(world_start), index=frame.index)], axis=1).max(axis=1)
    days = (pd.to_datetime(frame["decision_time"], utc=True) - start).dt.total_seconds() / 86_400
    return days.clip(lower=1.0, upper=float(window_days))


def segment_features(frame: pd.DataFrame, window: str, world_start: dt.datetime) -> pd.DataFrame:
    """The clustering inputs per row of a snapshot frame, from its ``window`` (30d or 90d) columns."""
    days = exposure_days(frame, int(window.rstrip("d")), world_start)
    size = frame[f"deposit_size_usd_{window}"].astype(float)
    home = frame["home_ip_accounts"].astype(float).fillna(1.0)
    home = home.where(home <= MAX_HOME, 1.0)  # dozens of accounts on one IP: carrier NAT or public, not a home
    out = pd.DataFrame({
        # sessions, not active days: days saturate for busy users and the blob of ordinary users skews
        "activity": np.log((frame[f"sessions_{window}"].astype(float) + 0.5) / days),
        "api": frame[f"api_share_{window}"].astype(float).fillna(0.0),
        "countries": np.log(frame[f"login_countries_{window}"].astype(float).clip(lower=1.0)),
        "shared_home": np.log(home),
        # no deposit in the window says nothing about wealth: the typical size (median) stands in
        "deposit_size": np.log(size.where(size > 0)),
    }, index=frame.index)
    out["deposit_size"] = out["deposit_size"].fillna(np.nanmedian(out["deposit_size"]) if size.gt(0).any() else 0.0)
    return out


@dataclass
class SegmentModel:
    """A fitted mixture, its scaling, and the name of every segment (index = segment id)."""

    mixture: GaussianMixture
    mean: np.ndarray
    scale: np.ndarray
    names: list[str] = field(default_factory=list)

    @property
    def centroids(self) -> np.ndarray:
        """Segment centres in standard units (segments x FEATURES)."""
        return np.asarray(self.mixture.means_)

    def assign(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.mixture.predict(self._z(features)))

    def probabilities(self, features: pd.DataFrame) -> np.ndarray:
        return np.asarray(self.mixture.predict_proba(self._z(features)))

    def _z(self, features: pd.DataFrame) -> np.ndarray:
        missing = [c for c in FEATURES if c not in features]
        if missing:
            raise CryptoscopeError(f"segment features missing: {', '.join(missing)}")
        return (features[list(FEATURES)].to_numpy(dtype=float) - self.mean) / self.scale


def fit_segments(features: pd.DataFrame, *, k: int = N_SEGMENTS, seed: int = 0, n_init: int = 5,
                 reference: SegmentModel | None = None) -> SegmentModel:
    """Fit ``k`` segments; with ``reference``, relabel them to match its segments (Hungarian matching)."""
    if len(features) < k * 10:
        raise CryptoscopeError(f"{len(features)} users are too few for {k} segments (need {k * 10})")
    if len(features) > MAX_FIT_ROWS:  # the mixture's shape is settled long before; labels use every row
        features = features.sample(MAX_FIT_ROWS, random_state=seed)
    x = features[list(FEATURES)].to_numpy(dtype=float)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    mixture = GaussianMixture(k, covariance_type="full", reg_covar=1e-3, n_init=n_init, random_state=seed)
    with threadpool_limits(1):  # 5x5 matrices: BLAS threads only fight each other (10x slower on 2 cores)
        mixture.fit((x - mean) / scale)
    model = SegmentModel(mixture, mean, scale)
    order = match_to(model, reference) if reference is not None else _canonical_order(model)
    _reorder(model, order)
    model.names = reference.names if reference is not None else _names(model.centroids)
    return model


def match_to(model: SegmentModel, reference: SegmentModel) -> np.ndarray:
    """Order of ``model``'s segments that best matches ``reference``'s (least total centroid distance).

    Centroids are compared in the reference's units, so a re-fit on new data is judged on one scale.
    """
    own = model.centroids * model.scale + model.mean
    ref = reference.centroids * reference.scale + reference.mean
    cost = np.linalg.norm(((ref[:, None, :] - own[None, :, :]) / reference.scale), axis=2)
    _, cols = linear_sum_assignment(cost)
    return np.asarray(cols)


def _canonical_order(model: SegmentModel) -> np.ndarray:
    """Largest segment first, so the first fit numbers segments the same way on every run."""
    return np.argsort(-np.asarray(model.mixture.weights_), kind="stable")


def _reorder(model: SegmentModel, order: np.ndarray) -> None:
    m = model.mixture
    m.weights_ = m.weights_[order]
    m.means_ = m.means_[order]
    m.covariances_ = m.covariances_[order]
    m.precisions_ = m.precisions_[order]
    m.precisions_cholesky_ = m.precisions_cholesky_[order]


def _names(centroids: np.ndarray) -> list[str]:
    """Each segment named after the feature that sets it apart most (the largest segment: 'core users')."""
    names: list[str] = []
    for i, c in enumerate(centroids):
        if i == 0:
            names.append("core users")
            continue
        j = int(np.argmax(np.abs(c)))
        name = _NAMES[(FEATURES[j], 1 if c[j] > 0 else -1)]
        while name in names:
            name += " (2)" if not name.endswith(")") else ""
            if name in names:
                name = f"{name[:-4]} ({i})"
        names.append(name)
    return names


def refit_agreement(features: pd.DataFrame, reference: SegmentModel, seeds: tuple[int, ...] = (1, 2),
                    sample: float = 0.8) -> list[float]:
    """ARI between the reference labels and re-fits on random 80 % samples with other seeds."""
    from sklearn.metrics import adjusted_rand_score

    base = reference.assign(features)
    out = []
    for s in seeds:
        rows = features.sample(frac=sample, random_state=s)
        refit = fit_segments(rows, k=len(reference.names), seed=s, reference=reference)
        out.append(float(adjusted_rand_score(base, refit.assign(features))))
    return out


def transitions(labels: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Users moving from one segment to another between consecutive snapshots: (month, from, to, users).

    ``labels`` has user_id, decision_time and segment; a user is counted in a pair of months only
    when present in both (new accounts enter later, and their first month is not a move).
    """
    times = sorted(labels["decision_time"].unique())
    rows = []
    for a, b in itertools.pairwise(times):
        left = labels[labels.decision_time == a].set_index("user_id")["segment"]
        right = labels[labels.decision_time == b].set_index("user_id")["segment"]
        both = pd.concat([left.rename("from"), right.rename("to")], axis=1, join="inner")
        counts = both.value_counts().rename("users").reset_index()
        counts.insert(0, "month", pd.Timestamp(b))
        rows.append(counts)
    if not rows:
        return pd.DataFrame(columns=["month", "from", "to", "users", "from_name", "to_name"])
    out = pd.concat(rows, ignore_index=True)
    out["from_name"] = [names[i] for i in out["from"]]
    out["to_name"] = [names[i] for i in out["to"]]
    return out.sort_values(["month", "from", "to"]).reset_index(drop=True)
