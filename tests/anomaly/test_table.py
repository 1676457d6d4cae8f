"""Scoring any feature table: detectors and ensemble judged on labels, and clear errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer
from typer.testing import CliRunner

from cryptoscope.anomaly.detectors import ENSEMBLE, RankEnsemble, percentile_ranks, prepare
from cryptoscope.anomaly.table import score_frame, score_table
from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError, ValidationError


@pytest.fixture(scope="module")
def cancer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Breast-cancer cells (UCI, bundled with scikit-learn) with malignant ones made rare: 5 % outliers."""
    data = load_breast_cancer()
    frame = pd.DataFrame(data.data, columns=data.feature_names)
    frame["malignant"] = (data.target == 0).astype(int)
    rng = np.random.default_rng(0)
    bad = np.flatnonzero(frame["malignant"] == 1)
    keep = np.concatenate([np.flatnonzero(frame["malignant"] == 0), rng.choice(bad, 19, replace=False)])
    frame = frame.iloc[np.sort(keep)].reset_index(drop=True)
    frame.insert(0, "cell_id", np.arange(len(frame)))
    path = tmp_path_factory.mktemp("table") / "cancer.parquet"
    frame.to_parquet(path)
    return path


def test_score_table_judges_every_detector_and_the_ensemble(cancer: Path) -> None:
    scores, result = score_table(cancer, "malignant", exclude=("cell_id",))
    assert set(result["detectors"]) == set(ENSEMBLE)
    assert "cell_id" not in scores.columns and "malignant" not in scores.columns
    for m in (*result["detectors"].values(), result["ensemble"]):
        assert set(m) == {"roc_auc", "average_precision"}
    # malignant cells are far from the benign ones: every detector finds them, the ensemble too
    assert result["ensemble"]["roc_auc"] > 0.9
    assert result["ensemble"]["average_precision"] > 0.4
    # how sure each lead is: the interval brackets the lead measured on the whole table
    assert set(result["ensemble_lead"]) == set(ENSEMBLE) and result["resamples"] == 200
    for name, lead in result["ensemble_lead"].items():
        roc = lead["roc_auc"]
        assert roc["lead"] == pytest.approx(result["ensemble"]["roc_auc"] - result["detectors"][name]["roc_auc"],
                                            abs=1e-4)
        assert roc["ci95"][0] <= roc["lead"] <= roc["ci95"][1]


def test_cli_writes_the_result_json(cancer: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    res = CliRunner().invoke(app, ["anomaly", "score-table", str(cancer), "--label-column", "malignant",
                                   "--exclude", "cell_id", "--out", str(out)])
    assert res.exit_code == 0, res.output
    result = json.loads(out.read_text())
    assert set(result) >= {"detectors", "ensemble", "rows", "features"}
    assert result["rows"] == 376 and result["features"] == 30
    # without labels there is nothing to judge, but every row is still scored
    res = CliRunner().invoke(app, ["anomaly", "score-table", str(cancer), "--out", str(out)])
    assert res.exit_code == 0 and "ensemble" not in json.loads(out.read_text())
    res = CliRunner().invoke(app, ["anomaly", "score-table", str(cancer), "--label-column", "malignant",
                                   "--resamples", "0", "--out", str(out)])
    assert res.exit_code == 0 and "ensemble_lead" not in json.loads(out.read_text())


def test_bad_input_names_file_row_and_column(cancer: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"cancer.parquet, column 'fraud': no such column"):
        score_table(cancer, "fraud")
    frame = pd.read_parquet(cancer)
    frame.loc[7, "malignant"] = 2
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad)
    with pytest.raises(ValidationError, match=r"bad.parquet, row 8, column 'malignant': labels must be 0 or 1"):
        score_table(bad, "malignant")
    with pytest.raises(CryptoscopeError, match="does not exist"):
        score_table(tmp_path / "missing.parquet")
    (tmp_path / "junk.parquet").write_text("not parquet")
    with pytest.raises(ValidationError, match=r"junk\.parquet: cannot read it as Parquet"):
        score_table(tmp_path / "junk.parquet")
    with pytest.raises(ValidationError, match="no numeric feature columns"):
        score_frame(pd.DataFrame({"name": list("abcdefghijkl")}))
    res = CliRunner().invoke(app, ["anomaly", "score-table", str(bad), "--label-column", "malignant",
                                   "--out", str(tmp_path / "x.json")])
    assert res.exit_code != 0 and not (tmp_path / "x.json").exists()


def test_ensemble_combines_its_members_and_survives_gaps() -> None:
    rng = np.random.default_rng(1)
    x = pd.DataFrame(rng.normal(size=(300, 4)), columns=list("abcd"))
    x.iloc[:5] += 8  # five far-away rows
    x.iloc[10, 1] = np.nan
    x.iloc[11, 2] = np.inf
    x["constant"] = 1.0
    ranked = RankEnsemble(random_state=3, combination="rank", refine=False).fit(x)
    ranks = np.column_stack([percentile_ranks(ranked.scores_[d]) for d in ENSEMBLE])
    assert np.allclose(ranked.scores_["ensemble"], ranks.mean(axis=1))
    assert set(np.argsort(-ranked.scores_["ensemble"])[:5]) == set(range(5))
    default = RankEnsemble(random_state=3).fit(x)  # z-scores, refined by a forest
    assert np.isfinite(default.scores_["ensemble"]).all()
    # refinement blends in a forest's out-of-fold view, which can lift a few ordinary rows among the
    # surest ones on a table this small: the five stay in the top 5 %, not necessarily the top 5
    assert set(range(5)) <= set(np.argsort(-default.scores_["ensemble"])[:15])
    alone = RankEnsemble(("hbos",), random_state=3).fit(x)  # one detector is not refined: its own order
    assert np.array_equal(np.argsort(alone.scores_["ensemble"], kind="stable"),
                          np.argsort(alone.scores_["hbos"], kind="stable"))
    assert prepare(x).shape == (300, 4) and np.isfinite(prepare(x)).all()
    with pytest.raises(CryptoscopeError, match="unknown detector 'svm'"):
        RankEnsemble(("svm",)).fit(x)
    with pytest.raises(CryptoscopeError, match="unknown combination 'vote'"):
        RankEnsemble(combination="vote").fit(x)


def test_feedback_weights_the_detectors_and_is_left_out_of_the_judging(cancer: Path, tmp_path: Path) -> None:
    frame = pd.read_parquet(cancer)
    plain, _ = score_table(cancer, exclude=("cell_id",))
    # the analysts reviewed the 40 cells the plain ensemble ranked highest; nobody looked at the rest
    top = np.argsort(-plain.scores["ensemble"])[:40]
    frame["reviewed"] = np.nan
    frame.loc[top, "reviewed"] = frame.loc[top, "malignant"]
    path = tmp_path / "reviewed.parquet"
    frame.to_parquet(path)
    out = tmp_path / "fed.json"
    res = CliRunner().invoke(app, ["anomaly", "score-table", str(path), "--label-column", "malignant",
                                   "--feedback-column", "reviewed", "--exclude", "cell_id", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "taught by 40 decisions" in res.output
    result = json.loads(out.read_text())
    assert result["feedback"]["decided_rows"] == 40 and result["judged_rows"] == len(frame) - 40
    assert sum(result["feedback"]["weights"].values()) == pytest.approx(1.0)
    assert set(result["detectors"]) == set(ENSEMBLE) and 0.5 < result["ensemble"]["roc_auc"] <= 1.0


def test_bad_feedback_gets_a_clear_error(cancer: Path, tmp_path: Path) -> None:
    frame = pd.read_parquet(cancer)
    with pytest.raises(ValidationError, match="cannot be the label column"):
        score_frame(frame, "malignant", feedback_column="malignant", exclude=("cell_id",))
    frame["reviewed"] = pd.Series([None] * len(frame), dtype=object)
    frame.loc[7, "reviewed"] = "maybe"
    with pytest.raises(ValidationError, match=r"row 8.*decisions must be 0, 1 or empty, found 'maybe'"):
        score_frame(frame, "malignant", feedback_column="reviewed", exclude=("cell_id",))


def test_decisions_that_cannot_teach_fall_back_to_the_detectors_and_say_so(cancer: Path) -> None:
    frame = pd.read_parquet(cancer)
    plain = score_frame(frame, "malignant", exclude=("cell_id",))
    frame["reviewed"] = np.nan
    frame.loc[frame.index[frame["malignant"] == 0][:30], "reviewed"] = 0  # the analysts only cleared cells
    cleared = score_frame(frame, "malignant", feedback_column="reviewed", exclude=("cell_id",))
    fed = cleared.metrics(resamples=0)["feedback"]
    assert (fed["abnormal"], fed["cleared"], fed["learned"]) == (0, 30, False)
    assert "only 0 decision(s) say abnormal" in fed["note"]
    assert np.array_equal(cleared.scores["ensemble"], plain.scores["ensemble"])


def test_decisions_on_every_row_leave_nothing_to_judge(cancer: Path) -> None:
    frame = pd.read_parquet(cancer)
    frame["reviewed"] = frame["malignant"]
    with pytest.raises(ValidationError, match=r"column 'reviewed': every row carries a decision"):
        score_frame(frame, "malignant", feedback_column="reviewed", exclude=("cell_id",))
    # without labels to judge there is nothing to leave out: every row is scored out of bag
    scores = score_frame(frame.drop(columns="malignant"), feedback_column="reviewed", exclude=("cell_id",))
    assert "every row carries a decision" in scores.metrics(resamples=0)["feedback"]["note"]
    bad = scores.scores["ensemble"][frame["malignant"] == 1]
    assert np.median(bad) > np.quantile(scores.scores["ensemble"], 0.9)
