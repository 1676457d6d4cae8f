"""Each card's recent payments before a decision, as a fixed-length sequence for a sequence model.

Aggregates (counts and means over 1/7/30 days) lose the order of a card's payments: that the last three
were five times the card's usual amount, a few minutes apart, at new terminals. A sequence model can
read that order if it sees the payments one by one. For a decision at time ``t`` on card ``c``, the
sequence is the ``steps`` latest payments of ``c`` with ``event_time < t`` (strictly before: the
decision's own payment and anything at or after ``t`` never enter), oldest first, left-padded with
zeros when the card has fewer. Each step holds `EVENT_FEATURES`:

* ``present``: 1 for a real payment, 0 for padding;
* ``log_amount``: log(1 + amount);
* ``log_amount_over_mean``: log(1 + amount / the card's 30-day mean at ``t``), 0 when there is no mean;
* ``log_hours_before``: log(1 + hours from the payment to ``t``);
* ``same_terminal``: the payment was at the decision's terminal;
* ``label_known`` / ``known_fraud``: its label was known before ``t`` (and said fraud): later labels are
  invisible, as they were to an investigator at ``t``;
* ``is_night``: paid between 00:00 and 06:00 UTC.

>>> seq = event_sequences(history, decisions, steps=10)           # doctest: +SKIP
>>> seq.shape                                                      # (decisions, 10, len(EVENT_FEATURES))
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.benchmarks.fdh_features import card_labels
from cryptoscope.errors import CryptoscopeError
from cryptoscope.features.last_events import latest_before

EVENT_FEATURES = ("present", "log_amount", "log_amount_over_mean", "log_hours_before", "same_terminal",
                  "label_known", "known_fraud", "is_night")
HISTORY_COLUMNS = ("card", "event_time", "amount", "merchant_id", "known_time", "label")
DECISION_COLUMNS = ("card", "decision_time", "merchant_id")
_NEVER = np.iinfo(np.int64).max


def card_history(con: Any, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    """Card payments with ``start <= event_time < end`` and their label's ``known_time`` and value (NaN when
    no label): everything `event_sequences` may look back on."""
    import ibis

    p = con.table("payments")
    p = p.filter(p.method == "card", p.event_time >= ibis.literal(start), p.event_time < ibis.literal(end))
    lab = card_labels(con)
    lab = lab.select(_p=lab.payment_id, known_time=lab.known_time, label=lab.label)
    out = p.left_join(lab, p.payment_id == lab._p)
    return out.select(card=out.instrument_hash, event_time=out.event_time, amount=out.amount,
                      merchant_id=out.merchant_id, known_time=out.known_time, label=out.label).to_pandas()


def _micros(values: pd.Series) -> np.ndarray:
    """UTC microseconds as int64; missing times (a label not given yet) count as never."""
    times = pd.to_datetime(values, utc=True)
    out = times.to_numpy(dtype="datetime64[us]", na_value=np.datetime64("NaT")).astype(np.int64)
    out[times.isna().to_numpy()] = _NEVER
    return out


def event_sequences(history: pd.DataFrame, decisions: pd.DataFrame, steps: int = 10, *,
                    with_decision: bool = False) -> np.ndarray:
    """(len(decisions), steps, len(EVENT_FEATURES)) float32: each decision's card's latest ``steps`` payments
    strictly before its ``decision_time``, oldest first, left-padded with zeros.

    ``history`` has `HISTORY_COLUMNS`; ``decisions`` has `DECISION_COLUMNS` and optionally
    ``customer_mean_amount_30d`` (the reference for ``log_amount_over_mean``). With ``with_decision`` the
    last step is the decision's own payment (from ``decisions``, which then needs ``amount``: what is
    known at the decision, no label) after the ``steps - 1`` latest earlier ones, so a model compares
    the amount at stake with the card's recent amounts step by step.
    """
    if steps <= 0 or (with_decision and steps < 2):
        raise CryptoscopeError(f"steps must be positive (2 or more with the decision), got {steps}")
    if with_decision:
        if "amount" not in decisions.columns:
            raise CryptoscopeError("decisions lacks column amount (needed with_decision)")
        past = event_sequences(history, decisions, steps - 1)
        return np.concatenate([past, _decision_step(decisions)[:, None, :]], axis=1)
    for name, frame, cols in (("history", history, HISTORY_COLUMNS), ("decisions", decisions, DECISION_COLUMNS)):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise CryptoscopeError(f"{name} lacks columns {', '.join(missing)}")
    n = len(decisions)
    out = np.zeros((n, steps, len(EVENT_FEATURES)), dtype=np.float32)
    if n == 0 or len(history) == 0:
        return out
    codes, _ = pd.factorize(pd.concat([history.card, decisions.card], ignore_index=True).astype(str))
    h_t, d_t = _micros(history.event_time), _micros(decisions.decision_time)
    if (d_t == _NEVER).any() or (h_t == _NEVER).any():
        raise CryptoscopeError("every payment and decision needs a time")
    take, present = latest_before(codes[: len(history)], h_t, codes[len(history):], d_t, steps)

    amount = history.amount.to_numpy(dtype=np.float64)[take]
    when = h_t[take]
    known_at = _micros(history.known_time)[take]
    label = history.label.to_numpy(dtype=np.float64, na_value=np.nan)[take]
    terminal = history.merchant_id.astype(str).to_numpy()[take]
    ratio = _reference_ratio(decisions, amount)
    hours = np.maximum(d_t[:, None] - when, 0) / 3.6e9
    known = known_at < d_t[:, None]
    hour_of_day = (when // 3_600_000_000) % 24
    columns = {
        "present": np.ones_like(amount),
        "log_amount": np.log1p(np.maximum(amount, 0.0)),
        "log_amount_over_mean": np.log1p(np.maximum(ratio, 0.0)),
        "log_hours_before": np.log1p(hours),
        "same_terminal": terminal == decisions.merchant_id.astype(str).to_numpy()[:, None],
        "label_known": known,
        "known_fraud": known & (label == 1),
        "is_night": hour_of_day < 6,
    }
    for i, name in enumerate(EVENT_FEATURES):
        out[:, :, i] = np.where(present, columns[name], 0.0)
    return out


def _reference_ratio(decisions: pd.DataFrame, amount: np.ndarray) -> np.ndarray:
    """amount / the decision's 30-day mean (0 when there is none), as 2-D like ``amount``."""
    n = len(decisions)
    mean = (decisions.customer_mean_amount_30d.to_numpy(dtype=np.float64, na_value=np.nan)
            if "customer_mean_amount_30d" in decisions.columns else np.full(n, np.nan))
    has_mean = (np.isfinite(mean) & (mean > 0))[:, None]
    return np.where(has_mean, amount / np.where(has_mean[:, 0], mean, 1.0)[:, None], 0.0)


def _decision_step(decisions: pd.DataFrame) -> np.ndarray:
    """The decision's own payment as one step: its amount and time, no label (none is known at the decision)."""
    amount = decisions.amount.to_numpy(dtype=np.float64)[:, None]
    hour = pd.to_datetime(decisions.decision_time, utc=True).dt.hour.to_numpy()
    columns = {"present": np.ones(len(decisions)), "log_amount": np.log1p(np.maximum(amount[:, 0], 0.0)),
               "log_amount_over_mean": np.log1p(np.maximum(_reference_ratio(decisions, amount)[:, 0], 0.0)),
               "log_hours_before": np.zeros(len(decisions)), "same_terminal": np.ones(len(decisions)),
               "label_known": np.zeros(len(decisions)), "known_fraud": np.zeros(len(decisions)),
               "is_night": hour < 6}
    return np.column_stack([columns[name] for name in EVENT_FEATURES]).astype(np.float32)
