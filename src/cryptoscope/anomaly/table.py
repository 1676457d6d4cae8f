"""Score any feature table with every detector and the ensemble; judge them when labels are given.

``cryptoscope anomaly score-table FILE.parquet --label-column COL --out RESULT.json`` writes
``{"detectors": {name: {"roc_auc", "average_precision"}}, "ensemble": {...}}`` plus the row and
column counts, and ``ensemble_lead``: the ensemble's lead over each detector with a 95 % bootstrap
interval (`cryptoscope.anomaly.evidence`), since on one table small differences are often noise. The
label column (1 = abnormal) is never shown to the detectors.

``--feedback-column COL`` is the semi-supervised mode (`cryptoscope.anomaly.feedback`): COL holds
analysts' decisions (1, 0, or empty for rows nobody reviewed) and teaches the ensemble (two
positive-unlabelled forests and a nearest-neighbour ratio); with labels too, the rows that carry a decision
are left out of the judging, so the figures are on unseen rows only. Bad decisions:

- anything but 0, 1 or empty: an error naming the file, the row and the column;
- a decision on every row while ``--label-column`` is given: an error (no row is left to judge);
- fewer than 3 rows confirmed abnormal (all cleared, say): nothing to learn "abnormal" from, so the
  scores stay unsupervised and ``feedback.note`` says why (``feedback.learned`` is false);
- no cleared row: the confirmed rows are learned against every undecided row (noted, not an error).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble
from cryptoscope.anomaly.evidence import judge, paired_leads
from cryptoscope.anomaly.feedback import DecisionCounts, decided
from cryptoscope.errors import CryptoscopeError, ValidationError


@dataclass(frozen=True)
class TableScores:
    """Scores of one table: per detector and the ensemble, and the labels when there were any."""

    scores: dict[str, np.ndarray]
    labels: np.ndarray | None
    columns: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)
    decided: np.ndarray | None = None  # rows carrying an analyst's decision (feedback mode)
    counts: DecisionCounts | None = None
    file: str = "<table>"

    def metrics(self, resamples: int = 200) -> dict[str, Any]:
        """Each detector's and the ensemble's figures on the judged rows; ``resamples`` > 0 adds the
        ensemble's lead over each detector with its bootstrap interval."""
        out: dict[str, Any] = {}
        if self.decided is not None and self.counts is not None:
            out["feedback"] = {"decided_rows": int(self.decided.sum()), "abnormal": self.counts.abnormal,
                               "cleared": self.counts.cleared, "learned": self.counts.usable,
                               "weights": self.weights, "note": self.counts.note()}
        if self.labels is None:
            return out
        rows = ~self.decided if self.decided is not None else np.ones(len(self.labels), dtype=bool)
        y = self.labels[rows]
        if y.min() == y.max():
            raise ValidationError("the rows without a decision hold one class only; nothing left to judge",
                                  file=self.file)
        judged = {name: judge(y, s[rows]) for name, s in self.scores.items()}
        out.update({"judged_rows": int(rows.sum()), "detectors": {k: v for k, v in judged.items() if k != "ensemble"},
                    "ensemble": judged["ensemble"]})
        if resamples > 0:
            out["ensemble_lead"] = paired_leads(y, {n: s[rows] for n, s in self.scores.items()}, resamples=resamples)
            out["resamples"] = resamples
        return out


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


def _require_column(frame: pd.DataFrame, column: str, file: str) -> None:
    if column not in frame.columns:
        raise ValidationError(f"no such column; columns are: {', '.join(map(str, frame.columns[:20]))}",
                              file=file, column=column)


def labels_of(frame: pd.DataFrame, column: str, file: str) -> np.ndarray:
    """The 0/1 label column; the first row with anything else is reported by number."""
    _require_column(frame, column, file)
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


def decisions_of(frame: pd.DataFrame, column: str, file: str) -> np.ndarray:
    """The feedback column as 1 / 0 / NaN (empty = not reviewed); anything else is reported by row."""
    _require_column(frame, column, file)
    raw = pd.to_numeric(frame[column], errors="coerce")
    bad = (raw.notna() & ~raw.isin([0, 1])) | (raw.isna() & frame[column].notna()
                                                & frame[column].astype(str).str.strip().ne(""))
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(f"decisions must be 0, 1 or empty, found {frame[column].iloc[row]!r}", file=file,
                              row=row + 1, column=column)
    return raw.to_numpy(dtype=float)


def feature_columns(frame: pd.DataFrame, drop: tuple[str, ...]) -> list[str]:
    """Numeric and boolean columns, minus the label and the excluded ones."""
    cols = [c for c in frame.columns if c not in drop
            and (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]))]
    return cols


def score_frame(frame: pd.DataFrame, label_column: str | None = None, *, exclude: tuple[str, ...] = (),
                detectors: tuple[str, ...] = ENSEMBLE, file: str = "<table>", seed: int = 7,
                feedback_column: str | None = None) -> TableScores:
    """Score every row of ``frame`` with each detector and the ensemble (`RankEnsemble`, default design)."""
    if feedback_column and feedback_column == label_column:
        raise ValidationError("the feedback column cannot be the label column: the figures would judge the "
                              "ensemble on the answers it was given", file=file, column=feedback_column)
    y = labels_of(frame, label_column, file) if label_column else None
    feedback = decisions_of(frame, feedback_column, file) if feedback_column else None
    counts = DecisionCounts.of(feedback) if feedback is not None else None
    if counts is not None and y is not None and counts.undecided == 0:
        raise ValidationError("every row carries a decision, so no row is left to judge the scores on; leave "
                              "the rows to judge empty, or drop --label-column", file=file, column=feedback_column)
    drop = (*exclude, *(c for c in (label_column, feedback_column) if c))
    cols = feature_columns(frame, drop)
    if not cols:
        raise ValidationError("no numeric feature columns to score", file=file)
    if len(frame) < 10:
        raise ValidationError(f"only {len(frame)} rows; the detectors need at least 10", file=file)
    ens = RankEnsemble(detectors, random_state=seed).fit(frame[cols], feedback=feedback)
    return TableScores(ens.scores_, y, tuple(cols), ens.weights_,
                       decided(feedback) if feedback is not None else None, counts, file)


def score_table(path: str | os.PathLike[str], label_column: str | None = None, *, exclude: tuple[str, ...] = (),
                detectors: tuple[str, ...] = ENSEMBLE, feedback_column: str | None = None, resamples: int = 200
                ) -> tuple[TableScores, dict[str, Any]]:
    """`score_frame` on a file; returns the scores and the JSON-ready result (`TableScores.metrics`)."""
    frame = read_table(path)
    scores = score_frame(frame, label_column, exclude=exclude, detectors=detectors, file=str(path),
                         feedback_column=feedback_column)
    result: dict[str, Any] = {"file": str(path), "rows": len(frame), "features": len(scores.columns)}
    result.update(scores.metrics(resamples))
    return scores, result
