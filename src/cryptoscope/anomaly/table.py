"""Score any feature table with every detector and the ensemble; judge them when labels are given.

``cryptoscope anomaly score-table FILE.parquet --label-column COL --out RESULT.json`` writes
``{"detectors": {name: {"roc_auc", "average_precision"}}, "ensemble": {...}}`` plus the row and
column counts. The label column (1 = abnormal) is never shown to the detectors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.metrics import average_precision_score, roc_auc_score

from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble
from cryptoscope.errors import CryptoscopeError, ValidationError


@dataclass(frozen=True)
class TableScores:
    """Scores of one table: per detector and the ensemble, and the labels when there were any."""

    scores: dict[str, np.ndarray]
    labels: np.ndarray | None
    columns: tuple[str, ...]

    def metrics(self) -> dict[str, Any]:
        if self.labels is None:
            return {}
        judge = {name: _judge(self.labels, s) for name, s in self.scores.items()}
        return {"detectors": {k: v for k, v in judge.items() if k != "ensemble"}, "ensemble": judge["ensemble"]}


def _judge(y: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return {"roc_auc": float(roc_auc_score(y, s)), "average_precision": float(average_precision_score(y, s))}


def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """A Parquet or CSV file as a frame; a missing or unreadable file is a clear error."""
    p = Path(path)
    if not p.exists():
        raise CryptoscopeError(f"file {p} does not exist")
    try:
        if p.suffix.lower() == ".csv":
            return pd.read_csv(p)
        return pq.read_table(p).to_pandas()
    except Exception as exc:  # pyarrow and pandas raise many kinds; the user needs the file and the reason
        raise ValidationError(f"cannot read it as {'CSV' if p.suffix.lower() == '.csv' else 'Parquet'}: {exc}",
                              file=str(p)) from None


def labels_of(frame: pd.DataFrame, column: str, file: str) -> np.ndarray:
    """The 0/1 label column; the first row with anything else is reported by number."""
    if column not in frame.columns:
        raise ValidationError(f"no such column; columns are: {', '.join(map(str, frame.columns[:20]))}",
                              file=file, column=column)
    raw = pd.to_numeric(frame[column], errors="coerce")
    bad = ~raw.isin([0, 1])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(f"labels must be 0 or 1, found {frame[column].iloc[row]!r}", file=file,
                              row=row + 1, column=column)
    y = raw.to_numpy(dtype=int)
    if y.min() == y.max():
        raise ValidationError("labels hold only one class; ROC-AUC needs both 0 and 1", file=file, column=column)
    return y


def feature_columns(frame: pd.DataFrame, drop: tuple[str, ...]) -> list[str]:
    """Numeric and boolean columns, minus the label and the excluded ones."""
    cols = [c for c in frame.columns if c not in drop
            and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    return cols


def score_frame(frame: pd.DataFrame, label_column: str | None = None, *, exclude: tuple[str, ...] = (),
                detectors: tuple[str, ...] = ENSEMBLE, file: str = "<table>", seed: int = 7) -> TableScores:
    """Score every row of ``frame`` with each detector and the ensemble (`RankEnsemble`, default design)."""
    y = labels_of(frame, label_column, file) if label_column else None
    drop = (*exclude, *((label_column,) if label_column else ()))
    cols = feature_columns(frame, drop)
    if not cols:
        raise ValidationError("no numeric feature columns to score", file=file)
    if len(frame) < 10:
        raise ValidationError(f"only {len(frame)} rows; the detectors need at least 10", file=file)
    ens = RankEnsemble(detectors, random_state=seed).fit(frame[cols])
    return TableScores(ens.scores_, y, tuple(cols))


def score_table(path: str | os.PathLike[str], label_column: str | None = None, *, exclude: tuple[str, ...] = (),
                detectors: tuple[str, ...] = ENSEMBLE) -> tuple[TableScores, dict[str, Any]]:
    """`score_frame` on a file; returns the scores and the JSON-ready result."""
    frame = read_table(path)
    scores = score_frame(frame, label_column, exclude=exclude, detectors=detectors, file=str(path))
    result: dict[str, Any] = {"file": str(path), "rows": len(frame), "features": len(scores.columns)}
    result.update(scores.metrics())
    return scores, result
