"""MovieLens-100k on Microsoft Recommenders' protocol, on the real file; the CLI on a tiny file of the same shape."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cryptoscope.benchmarks.movielens import PUBLISHED, evaluate_model, load_ratings, protocol_split, stratified_split
from cryptoscope.cli import app
from cryptoscope.errors import ValidationError
from cryptoscope.models import Registry
from cryptoscope.reco.cf import EASE, Popular

ML = Path(__file__).resolve().parents[3] / "shared" / "data" / "movielens-100k"
needs_data = pytest.mark.skipif(not (ML / "u.data").exists() and "CI" not in os.environ,
                                reason="shared MovieLens data not available")


@needs_data
def test_the_stratified_split_keeps_three_quarters_of_each_user_in_training() -> None:
    ratings = load_ratings(ML)
    assert len(ratings) == 100_000 and ratings["user"].nunique() == 943
    train, test = stratified_split(ratings, 0.75, seed=42)
    assert len(train) + len(test) == len(ratings)
    assert not set(zip(train.user, train.item, strict=True)) & set(zip(test.user, test.item, strict=True))
    kept = train.groupby("user").size()
    total = ratings.groupby("user").size()
    assert ((kept - 0.75 * total).abs() <= 0.5).all()  # 75 % of every user's ratings, rounded
    assert (total - kept >= 5).all()  # every user has >= 20 ratings, so >= 5 to test on
    again, _ = stratified_split(ratings, 0.75, seed=42)
    assert train.index.equals(again.index)


@needs_data
def test_ease_beats_the_published_bpr_and_popularity_on_the_protocol() -> None:
    split = protocol_split(load_ratings(ML))
    ease = evaluate_model(EASE(lam=500.0), split)
    popular = evaluate_model(Popular(), split)
    assert ease["ndcg_at_10"] > PUBLISHED["BPR"]["ndcg_at_10"]
    assert ease["ndcg_at_10"] > popular["ndcg_at_10"] + 0.15
    assert 0 < ease["map_at_10"] < ease["precision_at_10"] < 1


def test_a_bad_line_names_the_file_line_and_field(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_text("1\t2\t5\t881250949\n1\tx\t4\t881250950\n")
    with pytest.raises(ValidationError, match=r"u.data, row 2 \(line 2\), column 'item'"):
        load_ratings(tmp_path)


def test_cli_writes_the_four_figures_per_model(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lines = {(u, i) for u in range(1, 41) for i in rng.choice(np.arange(1, 61), 12, replace=False)}
    (tmp_path / "u.data").write_text("".join(f"{u}\t{i}\t4\t88125{u:04d}\n" for u, i in sorted(lines)))
    out = tmp_path / "result.json"
    result = CliRunner().invoke(app, ["reco", "benchmark", "movielens", "--data", str(tmp_path), "--out", str(out),
                                      "--registry", str(tmp_path / "registry")])
    assert result.exit_code == 0, result.output
    models = json.loads(out.read_text())["models"]
    client = Registry(tmp_path / "registry").client  # the benchmark is an MLflow run with every figure
    [run] = client.search_runs([client.get_experiment_by_name("benchmark_movielens").experiment_id])
    assert run.data.metrics["ease_ndcg_at_10"] == pytest.approx(models["ease"]["ndcg_at_10"])
    assert run.data.params["command"].startswith("cryptoscope reco benchmark movielens --data ")
    assert set(models) == {"most_popular", "als", "bpr", "ease", "lightgbm_rerank"}
    for figures in models.values():
        assert set(figures) == {"ndcg_at_10", "map_at_10", "precision_at_10", "recall_at_10"}
        assert all(0.0 <= v <= 1.0 for v in figures.values())


def test_cli_exits_2_when_the_data_is_missing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["reco", "benchmark", "movielens", "--data", str(tmp_path)])
    assert result.exit_code == 2 or isinstance(result.exception, ValidationError)
