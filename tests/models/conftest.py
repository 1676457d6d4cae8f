"""Synthetic risk data with a known signal, and one model trained on it for the whole session.

Fraud is driven by many devices in the last day, a recent security change and large amounts; the
rules baseline only looks at devices, so a model that sees everything should beat it.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.lake.cluster import free_port
from cryptoscope.models import Costs, SplitSpec, TrainedModel, train_and_evaluate
from cryptoscope.models.tracking import _fresh_store

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


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `mlflow server` (SQLite backend, proxied artifacts) on a free port, one per test module; its URL."""
    root = tmp_path_factory.mktemp("mlflow-server")
    _fresh_store(root / "mlflow.db")  # a store with MLflow's schema already: the server starts in seconds
    port = free_port()
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = open(root / "server.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
         "--artifacts-destination", str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(server.pid, 15)  # the server and its uvicorn worker: their own process group
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, 9)
            server.wait()
        log.close()


def crash_while_writing(value: object, path: Path) -> None:
    """A `joblib.dump` that dies halfway through the file, as on a full disk (both registries' crash tests)."""
    Path(path).write_bytes(b"half a pickle")
    raise OSError("disk full")
