"""The recommender end to end on the shared 8k-user simulated world: CLI training, constraints, reasons,
cold start, the lake batch, the warm single-user path, and the time-split evaluation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.reco import serve as reco_serve
from cryptoscope.reco.candidates import _impute_cold
from cryptoscope.reco.data import LakeData, load
from cryptoscope.reco.evaluate import evaluate
from cryptoscope.reco.model import Recommender
from cryptoscope.reco.serve import write_batch
from cryptoscope.reco.suitability import violations


@pytest.fixture(scope="module")
def data(small_world: tuple[Lake, object, object]) -> LakeData:
    return load(small_world[0])


@pytest.fixture(scope="module")
def trained(small_world: tuple[Lake, object, object], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`cryptoscope reco train` on the world (no batch: the shared lake stays as the simulator wrote it)."""
    path = tmp_path_factory.mktemp("reco") / "recommender.pkl"
    result = CliRunner().invoke(app, ["reco", "train", "--lake", str(small_world[0].root), "--model", str(path),
                                      "--no-batch"])
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture(scope="module")
def model(trained: Path) -> Recommender:
    return Recommender.load(trained)


def test_every_list_respects_the_hard_constraints_and_has_reasons(model: Recommender, data: LakeData) -> None:
    users = np.flatnonzero(model.snap.state.exists)
    tops = model.top(users, 10)
    lists = {int(u): [i for i, _ in top] for u, top in zip(users, tops, strict=True)}
    assert violations(data, model.snap.state, lists) == {"suitability_violation_share": 0.0,
                                                         "availability_violation_share": 0.0}
    consumed = model.snap.state.consumed
    assert not any(consumed[u, i] for u, items in lists.items() for i in items)
    assert sum(len(v) for v in lists.values()) > 9 * len(users)  # almost everyone gets a full list
    sample = model.explain(users[:200], tops[:200])
    assert all(r.reason and r.item_risk <= r.level for recs in sample for r in recs)
    assert any(r.reason.startswith("users who ") for recs in sample for r in recs)


def test_a_user_without_history_gets_segment_and_trend_recommendations(model: Recommender) -> None:
    weights = np.asarray(model.snap.history.weights.sum(1)).ravel()
    cold = np.flatnonzero((weights == 0) & model.snap.state.exists)
    assert len(cold), "the world has idle and brand-new users"
    recs = model.recommend(int(model.user_ids[cold[0]]))
    assert len(recs) == 10
    assert all(r.reason.startswith(("popular with users in", "trending")) for r in recs)
    assert all(r.item_risk <= r.level for r in recs)


def test_a_new_item_borrows_the_scores_of_its_product_type(model: Recommender) -> None:
    cat = model.catalog
    block = model.snap.cf.als.scores(np.arange(5))
    cold = np.zeros(cat.n, dtype=bool)
    cold[cat.index()["earn-sol-staking"]] = True
    filled = _impute_cold(block, cold, cat.item_type)
    warm_earn = (cat.item_type == "earn") & ~cold
    assert np.allclose(filled[:, cold].ravel(), block[:, warm_earn].mean(1))
    assert np.array_equal(filled[:, ~cold], block[:, ~cold])


def test_batch_goes_to_the_lake_once_per_day(model: Recommender, trained: Path, tmp_path: Path) -> None:
    lake = Lake(tmp_path / "out")
    first = write_batch(model, lake, show_progress=False)
    again = CliRunner().invoke(app, ["reco", "batch", "--lake", str(lake.root), "--model", str(trained)])
    assert first.added == first.rows > 0
    assert again.exit_code == 0 and f"{first.rows:,} recommendations" in again.output and " 0 new rows" in again.output
    rows = connect(lake).con.sql("SELECT count(*), max(rank), sum(item_risk > suitability_level), "
                                 "count(DISTINCT user_id) FROM recommendations").fetchall()[0]
    assert rows == (first.rows, 10, 0, first.users)


def test_spark_scores_the_in_process_chunks_and_writes_their_rows(model: Recommender, spark_session: Any,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Each Spark task gets exactly one in-process chunk (here of 700 users, so chunks end mid-partition
    anywhere else): the lists come out of the same matrix products, the same rows to the last bit."""
    monkeypatch.setattr(reco_serve, "CHUNK_USERS", 700)
    users = np.flatnonzero(model.snap.state.exists)
    at = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    here = reco_serve._in_process(model, users, 10, "v", at, show_progress=False)
    there = reco_serve._on_spark(SimpleNamespace(_session=spark_session), model, users, 10, "v", at)
    assert there.num_rows == here.num_rows > 10 * 700 and there.equals(here)


def test_the_warm_model_answers_one_user_like_the_batch(model: Recommender, trained: Path) -> None:
    user = int(model.user_ids[np.flatnonzero(model.snap.state.exists)[7]])
    single = model.recommend(user)
    row = int(np.searchsorted(model.user_ids, user))
    batch = model.top(np.array([row - 1, row, row + 1]), 10)[1]
    assert [r.item_id for r in single] == [str(model.catalog.item_id[i]) for i, _ in batch]
    result = CliRunner().invoke(app, ["reco", "recommend", str(user), "--model", str(trained)])
    assert result.exit_code == 0 and single[0].item_id in result.output
    unknown = CliRunner().invoke(app, ["reco", "recommend", "99999999", "--model", str(trained)])
    assert isinstance(unknown.exception, CryptoscopeError)  # `cryptoscope` maps it to exit code 2
    assert "user 99999999 is unknown" in str(unknown.exception)


def test_time_split_evaluation_beats_popularity_without_violations(data: LakeData) -> None:
    result = evaluate(data)
    ranker, popular = result.models["lightgbm_rerank"], result.models["most_popular"]
    assert result.users > 1_000
    assert ranker["suitability_violation_share"] == 0.0 and ranker["availability_violation_share"] == 0.0
    assert ranker["ndcg_at_10"] > popular["ndcg_at_10"] + 0.02
    assert ranker["recall_at_10"] > popular["recall_at_10"]
    assert result.models["als_unconstrained"]["suitability_violation_share"] > 0.0  # what the filters prevent
    assert 0.0 < ranker["coverage"] <= 1.0 and ranker["novelty"] > 0.0


def test_the_preview_page_shows_levels_and_lists_with_reasons(model: Recommender) -> None:
    from cryptoscope.reco.preview import preview_page
    from cryptoscope.reco.serve import BatchRun, day_to_date

    page = preview_page(model, BatchRun(10, 100, 100, day_to_date(model.as_of), "v"), 1.0)
    assert "Suitability levels" in page and page.count("<li>") >= 20 and "within your level" in page
