"""Synthetic risk data with a known signal, and one model trained on it for the whole session.

Fraud is driven by many devices in the last day, a recent security change and large amounts; the
rules baseline only looks at devices, so a model that sees everything should beat it.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cryptoscope.models import Costs, SplitSpec, TrainedModel, train_and_evaluate

START = pd.Timestamp("2025-01-06", tz="UTC")  # a Monday
FEATURES = ["devices_24h", "since_security_change_7d", "amount_usd", "noise_a", "noise_b"]
COSTS = Costs(missed_fraud="amount_usd", review=3.0, friction=1.0, block_good=15.0)
SPLIT = SplitSpec(train_end=START + pd.Timedelta(days=56), valid_end=START + pd.Timedelta(days=77),
                  gap=dt.timedelta(days=2))


def make_risk_frame(rows: int = 6000, days: int = 98, seed: int = 7) -> pd.DataFrame:
    """``rows`` decisions over ``days`` days; about 6% are bad."""
    rng = np.random.default_rng(seed)
    times = START + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, rows)), unit="s")
    devices = rng.poisson(1.3, rows).astype(float)
    changed = rng.random(rows) < 0.3
    since_change = np.where(changed, rng.uniform(0, 7 * 86400, rows), np.nan)  # seconds, NaN: no change
    amount = np.round(rng.lognormal(4.0, 1.0, rows), 2)
    recent = np.nan_to_num(since_change, nan=np.inf) < 24 * 3600
    logit = -5.5 + 1.1 * devices + 2.5 * recent + 0.6 * (np.log(amount) - 4.0)
    label = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(int)
    rule = np.where(devices >= 5, "block", np.where(devices >= 3, "review", "approve"))
    return pd.DataFrame({"decision_time": times, "devices_24h": devices, "since_security_change_7d": since_change,
                         "amount_usd": amount, "noise_a": rng.normal(size=rows), "noise_b": rng.normal(size=rows),
                         "rule_decision": rule, "label": label})


@pytest.fixture(scope="session")
def risk_frame() -> pd.DataFrame:
    return make_risk_frame()


@pytest.fixture(scope="session")
def trained(risk_frame: pd.DataFrame) -> TrainedModel:
    """The pipeline run once; registry, report and pipeline tests share it."""
    return train_and_evaluate(risk_frame, FEATURES, "label", "decision_time", SPLIT, COSTS,
                              rules_baseline="rule_decision", name="card_fraud")
