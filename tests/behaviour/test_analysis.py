"""The whole behaviour analysis on the shared small world: segments recover the planted kinds, churn
beats recency on the later cut-off, the outputs land in the lake and the report is written."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import adjusted_rand_score

from cryptoscope.behaviour import analysis
from cryptoscope.behaviour.latent import WorldSettings, latent_kinds, world_settings
from cryptoscope.behaviour.report import write_report
from cryptoscope.behaviour.segments import fit_segments, segment_features
from cryptoscope.behaviour.store import write_outputs
from cryptoscope.behaviour.views import snapshots
from cryptoscope.errors import CryptoscopeError
from cryptoscope.features import engines
from cryptoscope.lake import Lake


@pytest.fixture(scope="module")
def result(small_world: Any) -> analysis.Analysis:
    lake, _, _ = small_world
    return analysis.run(lake.root)


def test_segments_recover_the_planted_user_kinds(small_world: Any, result: analysis.Analysis) -> None:
    lake, cfg, _ = small_world
    con = engines.connect(lake, "duckdb")
    assert world_settings(con) == WorldSettings(cfg.seed, cfg.users, cfg.days)
    labels = result.extras["profile_labels"]
    kinds = latent_kinds(con, labels.index)
    assert adjusted_rand_score(kinds, labels) > 0.45
    assert set(result.model.names) >= {"dormant", "travellers", "shared-home accounts"}
    assert min(result.stability) > 0.6, "re-fits on 80 % samples with other seeds must agree"


def test_refit_is_matched_to_the_reference_segments(small_world: Any, result: analysis.Analysis) -> None:
    lake, _, _ = small_world
    snap = snapshots(engines.connect(lake, "duckdb"), [result.end])
    feats = segment_features(snap, "90d", result.start)
    refit = fit_segments(feats, seed=7, reference=result.model)
    agree = (refit.assign(feats) == result.model.assign(feats)).mean()
    assert refit.names == result.model.names and agree > 0.85


def test_churn_beats_recency_on_the_later_cutoff(result: analysis.Analysis) -> None:
    churn = result.extras["churn"]
    assert churn.frame["decision_time"].min() >= result.extras["plan"].test.replace(tzinfo=churn.frame[
        "decision_time"].dt.tz)
    assert churn.metrics["roc_auc"] > churn.baseline["roc_auc"]
    assert churn.metrics["pr_auc"] > churn.baseline["pr_auc"]
    errors = result.extras["value_errors"]["all"]
    assert errors["mae_survival"] < errors["mean_value_usd"], "the value model must beat predicting nothing"


def test_funnel_only_narrows_and_patterns_have_lift(result: analysis.Analysis) -> None:
    fun = result.extras["funnel"]
    overall = fun[fun["segment"] == "all"]["users"].tolist()
    assert overall == sorted(overall, reverse=True) and overall[0] > 0
    top = result.extras["top_patterns"]
    assert len(top) and (top["support"] >= 0.05).all() and (top["lift"] > 0).all()


def test_outputs_are_idempotent_and_the_report_is_written(small_world: Any, result: analysis.Analysis,
                                                          tmp_path: Path) -> None:
    shared, _, _ = small_world
    # a copy: the shared world stays as the simulator wrote it for every other test
    lake = Lake(shutil.copytree(shared.root, tmp_path / "lake"))
    first = write_outputs(lake, result)
    assert first["behaviour_segments"] == len(result.membership) and first["churn_scores"] > 0
    assert write_outputs(lake, result) == {"behaviour_segments": 0, "churn_scores": 0}
    assert {s.name: s.rows for s in lake.status()}["churn_scores"] == first["churn_scores"]
    html = write_report(result, tmp_path / "behaviour.html").read_text()
    assert "Onboarding funnel" in html and "data:image/png;base64" in html


def test_a_lake_without_the_simulators_truth_is_refused(tmp_path: Path) -> None:
    lake = Lake(tmp_path / "lake")
    con = engines.connect(lake, "duckdb")
    with pytest.raises(CryptoscopeError, match="simulation_runs has no row"):
        world_settings(con)
    with pytest.raises(CryptoscopeError, match="no user_kinds"):
        latent_kinds(con, pd.Index([1, 2]))
    kinds = pa.table({"user_id": [1], "event_time": pa.array([0], pa.timestamp("us", tz="UTC")), "kind": ["idle"]})
    with lake.transaction() as tx:
        tx.append("user_kinds", kinds)
    with pytest.raises(CryptoscopeError, match=r"no kind for 1 of 2 users \(user_id 2 first\)"):
        latent_kinds(engines.connect(lake, "duckdb"), pd.Index([1, 2]))


def test_profiles_and_moves_add_up(result: analysis.Analysis) -> None:
    prof = result.profiles
    assert prof["users"].sum() == len(result.extras["profile_labels"])
    travellers = prof[prof["name"] == "travellers"].iloc[0]
    assert "login countries" in travellers["differs"]
    moves = result.moves
    assert len(moves) and set(moves["from_name"]) <= set(result.model.names)
    m = result.membership
    for month, part in moves.groupby("month"):
        times = sorted(m["decision_time"].unique())
        before = times[times.index(month) - 1]
        both = set(m[m.decision_time == before].user_id) & set(m[m.decision_time == month].user_id)
        assert part["users"].sum() == len(both)


def test_cli_funnel_and_a_bad_engine(small_world: Any) -> None:
    from typer.testing import CliRunner

    from cryptoscope.cli import app

    lake, _, _ = small_world
    ok = CliRunner().invoke(app, ["behaviour", "funnel", "--lake", str(lake.root)])
    assert ok.exit_code == 0, ok.output
    assert "first_trade" in ok.output
    bad = CliRunner().invoke(app, ["behaviour", "funnel", "--lake", str(lake.root), "--engine", "flink"])
    # main() turns a CryptoscopeError into one line and exit code 2 (tests/cli/test_abnormal.py checks that)
    assert isinstance(bad.exception, CryptoscopeError) and "unknown engine" in str(bad.exception)
