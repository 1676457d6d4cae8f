"""The Fraud Detection Handbook's protocol, end to end on a small slice of the real file.

The slice: customers 0..599, from 35 days before training to the end of the test week, so the
30-day windows are full. Everything goes through the mappings, the lake and Ibis, as the full run does.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cryptoscope.benchmarks.fdh import BOOK_DATES, MODELS, FdhResult, Periods, run_models, run_protocol, split
from cryptoscope.benchmarks.fdh_data import MAPPINGS, fdh_lake
from cryptoscope.benchmarks.fdh_deep import SEQUENCE_PARAMS
from cryptoscope.benchmarks.fdh_features import FEATURES, card_features, payment_spine
from cryptoscope.benchmarks.fdh_metrics import card_precision_at_k
from cryptoscope.cli import app
from cryptoscope.lake import Lake, connect
from cryptoscope.models import Registry
from cryptoscope.sources.importers import ingest_files

FDH = Path(__file__).resolve().parents[3] / "shared" / "data" / "fdh" / "transactions.parquet"
PERIODS = Periods(BOOK_DATES)
UTC = dt.UTC

needs_data = pytest.mark.skipif(not FDH.exists() and "CI" not in os.environ, reason="shared FDH data not available")


def utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    table = pq.read_table(FDH, filters=[("CUSTOMER_ID", "<", 600)])
    first = pd.Timestamp(PERIODS.train_start - dt.timedelta(days=35))
    frame = table.to_pandas()
    when = frame["TX_DATETIME"]
    return frame[(when >= first) & (when < pd.Timestamp(PERIODS.test_end))]


@pytest.fixture(scope="module")
def sliced(raw: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fdh") / "slice.parquet"
    raw.to_parquet(path, index=False)
    return path


@pytest.fixture(scope="module")
def lake(sliced: Path) -> Lake:
    return fdh_lake(sliced, sliced.parent / "lake")


@pytest.fixture(scope="module")
def frames(lake: Lake) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    return split(connect(lake), PERIODS)


@needs_data
def test_the_lake_is_built_once_per_data_file(sliced: Path, lake: Lake) -> None:
    version = lake.catalog().version
    assert fdh_lake(sliced, lake.root).catalog().version == version  # the marker: nothing read again
    assert {s.name: s.rows for s in lake.status()}.keys() == {"payments", "labels"}


@needs_data
def test_no_test_day_keeps_a_customer_known_to_be_compromised(raw: pd.DataFrame,
                                                               frames: tuple[pd.DataFrame, pd.DataFrame, int]) -> None:
    """Known on day d: a fraud from the training start on, whose label (7 days later) came before d."""
    train, test, removed = frames
    when = raw["TX_DATETIME"]
    frauds = raw[(raw["TX_FRAUD"] == 1) & (when >= pd.Timestamp(PERIODS.train_start))]
    expected = 0
    for i in range(PERIODS.test_days):
        day = PERIODS.test_start + dt.timedelta(days=i)
        known = set(frauds[frauds["TX_DATETIME"] + pd.Timedelta(days=7) < pd.Timestamp(day)].CUSTOMER_ID)
        on_day = raw[when.dt.date == day]
        kept = test[test.day == day]
        assert not set(kept.user_id) & known
        assert sorted(kept.payment_id) == sorted(on_day[~on_day.CUSTOMER_ID.isin(known)].TRANSACTION_ID)
        expected += int(on_day.CUSTOMER_ID.isin(known).sum())
    assert removed == expected > 0
    in_train = (when >= pd.Timestamp(PERIODS.train_start)) & (when < pd.Timestamp(PERIODS.train_end))
    assert sorted(train.payment_id) == sorted(raw[in_train].TRANSACTION_ID)
    assert (train.known_label.to_numpy() == train.fraud.to_numpy()).all()  # all known by the test start


def feature_rows(lake: Lake, start: dt.datetime, end: dt.datetime) -> pd.DataFrame:
    con = connect(lake)
    frame = card_features(con, payment_spine(con, start, end)).to_pandas()
    return frame.sort_values("payment_id").reset_index(drop=True)[["payment_id", *FEATURES]]


@needs_data
def test_features_use_only_the_past(sliced: Path, lake: Lake, tmp_path: Path) -> None:
    """A lake that ends at ``t`` (payments up to t, labels known before t) gives the same features at t."""
    t = dt.datetime(2018, 8, 10, 12, tzinfo=UTC)
    table = pq.read_table(sliced)
    times = table["TX_DATETIME"]
    naive_t = pa_naive(t)
    (past := tmp_path / "past.parquet").write_bytes(b"")
    pq.write_table(table.filter(pc.less_equal(times, naive_t)), past)
    known = table.filter(pc.less(times, pa_naive(t - dt.timedelta(days=7))))  # labels known before t
    pq.write_table(known, known_path := tmp_path / "known.parquet")
    cut = Lake(tmp_path / "cut")
    ingest_files(cut, "payments", [past], mapping=MAPPINGS / "fdh_payments.json")
    ingest_files(cut, "labels", [known_path], mapping=MAPPINGS / "fdh_labels.json")
    start, end = t - dt.timedelta(days=2), t + dt.timedelta(microseconds=1)
    full, truncated = feature_rows(lake, start, end), feature_rows(cut, start, end)
    assert len(full) > 200
    pd.testing.assert_frame_equal(full, truncated)
    assert full.terminal_risk_30d.gt(0).any() and full.customer_tx_30d.gt(0).all()


def pa_naive(t: dt.datetime) -> object:
    import pyarrow as pa

    return pa.scalar(t.replace(tzinfo=None), pa.timestamp("ns"))


def test_card_precision_at_k_on_a_hand_case() -> None:
    # day 1: cards by max score a .9 (fraud), b .8, c .7 (its fraud has the low score .2): top 2 = a, b -> 1/2
    # day 2: a (found on day 1, blocked) is left out; top 2 = c .6 (fraud), d .5 -> 1/2; without blocking a, c -> 2/2
    # day 3: one card only, compromised: 1 of k=2 -> 1/2
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.95, 0.6, 0.5, 0.1, 0.3])
    cards = np.array(["a", "b", "c", "c", "a", "c", "d", "d", "e"])
    days = np.array([1, 1, 1, 1, 2, 2, 2, 2, 3])
    frauds = np.array([1, 0, 0, 1, 1, 1, 0, 0, 1])
    blocked = card_precision_at_k(scores, cards, days, frauds, k=2)
    assert blocked.per_day == (0.5, 0.5, 0.5)
    assert card_precision_at_k(scores, cards, days, frauds, k=2, remove_found=False).per_day == (0.5, 1.0, 0.5)
    # k larger than the cards of a day: still divided by k; a and c found on day 1, d genuine, e found
    wide = card_precision_at_k(scores, cards, days, frauds, k=100)
    assert wide.per_day == (0.02, 0.0, 0.01) and wide.mean == pytest.approx(0.01)
    with pytest.raises(ValueError, match="k must be positive"):
        card_precision_at_k(scores, cards, days, frauds, k=0)


@needs_data
def test_the_protocol_runs_and_is_deterministic(lake: Lake) -> None:
    first = run_protocol(lake, PERIODS)
    assert isinstance(first, FdhResult)
    assert first.rows.train_frauds > 20 and first.rows.test_frauds > 10
    assert 0.5 < first.model.auc_roc <= 1 and 0 < first.model.average_precision <= 1
    assert len(first.card_precision_per_day) == 7
    again = run_protocol(lake, PERIODS)
    assert (again.model, again.baseline) == (first.model, first.baseline)


@needs_data
def test_the_command_writes_the_figures_and_the_books(sliced: Path, lake: Lake, tmp_path: Path) -> None:
    out = tmp_path / "fdh.json"
    done = CliRunner().invoke(app, ["risk", "benchmark", "fdh", "--data", str(sliced), "--train-start",
                                    "2018-07-25", "--out", str(out), "--lake", str(lake.root),
                                    "--registry", str(tmp_path / "registry")])
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text())
    client = Registry(tmp_path / "registry").client  # the benchmark is an MLflow run with its figures
    [run] = client.search_runs([client.get_experiment_by_name("benchmark_fdh").experiment_id])
    assert run.data.metrics["auc_roc"] == pytest.approx(result["auc_roc"])
    assert run.data.metrics["baseline_auc_roc"] == pytest.approx(result["baseline"]["auc_roc"])
    for key in ("auc_roc", "average_precision", "card_precision_at_100", "baseline", "book", "periods", "rows",
                "command", "card_precision_at_100_per_day", "features", "model"):
        assert key in result
    assert set(result["baseline"]) >= {"name", "auc_roc", "average_precision", "card_precision_at_100"}
    assert result["book"]["xgboost_model_selection"] == {"auc_roc": 0.869, "average_precision": 0.687,
                                                         "card_precision_at_100": 0.303}
    assert result["book"]["random_forest_model_selection"]["average_precision"] == 0.678
    assert result["periods"] == {"train": ["2018-07-25", "2018-07-31"], "delay": ["2018-08-01", "2018-08-07"],
                                 "test": ["2018-08-08", "2018-08-14"]}
    assert {"train", "test", "test_removed_known_compromised"} <= set(result["rows"])
    assert result["command"].startswith("cryptoscope risk benchmark fdh --data ")
    assert "--train-start 2018-07-25" in result["command"]


def test_a_bad_start_date_is_one_clear_line(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["risk", "benchmark", "fdh", "--data", str(tmp_path / "x.parquet"),
                                    "--train-start", "25/07/2018", "--out", str(tmp_path / "o.json")])
    assert done.exit_code != 0
    assert "--train-start must be a date like 2018-07-25" in str(done.exception)


@needs_data
def test_every_model_runs_on_the_same_split_and_the_command_writes_the_same_keys(
        sliced: Path, lake: Lake, tmp_path: Path) -> None:
    """lightgbm, sequence and hybrid in one run (a tiny network here); --model sequence writes the keys
    --model lightgbm does."""
    run = run_models(lake, PERIODS, MODELS, sequence_params={**SEQUENCE_PARAMS, "hidden": 8, "epochs": 2})
    assert list(run.runs) == list(MODELS)
    for r in run.runs.values():  # the tiny network learns little: only the trees must rank better than chance
        assert 0 <= r.scores.auc_roc <= 1 and 0 < r.scores.average_precision <= 1
        assert len(r.per_day) == 7 and r.cpu_seconds > 0
    assert run.runs["lightgbm"].scores.auc_roc > 0.5 and run.runs["hybrid"].scores.auc_roc > 0.5
    assert run.runs["hybrid"].params["learned_features"] == ["sequence_logit"]
    out = tmp_path / "sequence.json"
    done = CliRunner().invoke(app, ["risk", "benchmark", "fdh", "--data", str(sliced), "--train-start", "2018-07-25",
                                    "--out", str(out), "--lake", str(lake.root), "--model", "sequence",
                                    "--registry", str(tmp_path / "registry")])
    assert done.exit_code == 0, done.output
    result = json.loads(out.read_text())
    assert result["model"]["name"] == "sequence" and result["command"].endswith("--model sequence")
    assert result["model"]["params"]["steps"] == SEQUENCE_PARAMS["steps"]
    assert {"auc_roc", "average_precision", "card_precision_at_100", "baseline", "book"} <= set(result)
    bad = CliRunner().invoke(app, ["risk", "benchmark", "fdh", "--data", str(sliced), "--out", str(out),
                                   "--model", "transformer"])
    assert bad.exit_code != 0 and "--model must be one of lightgbm, sequence, hybrid" in str(bad.exception)
