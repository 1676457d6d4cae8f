"""The deposit risk product on the small simulated world: chain exposure in, a judged model and risk_scores out.

The module fixture does what the demo does, on a copy of the shared world (these tests write to it):
the chain stage scores every transfer point in time into ``chain_exposure``, then ``train`` fits,
judges and registers ``risk_deposit`` and ``score`` writes its ``risk_scores``.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from cryptoscope.chain.scoring import score_transfers, write_scores
from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import APPROVE, BLOCK, REVIEW, Registry
from cryptoscope.products import ordered
from cryptoscope.risk.latency import SERVING_BUDGET_MS
from cryptoscope.risk.products import ALL_KINDS, KINDS, get_product
from cryptoscope.risk.scoring import ScoreRun, score
from cryptoscope.risk.spines import deposit_spine
from cryptoscope.risk.training import TrainResult, train
from cryptoscope.schema import get_table
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary

World = tuple[Lake, SimConfig, SimSummary]
pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")
_LEVEL = {APPROVE: 0, REVIEW: 1, BLOCK: 2}


@pytest.fixture(scope="module")
def trained(small_world: World, tmp_path_factory: pytest.TempPathFactory) -> tuple[Lake, TrainResult, ScoreRun]:
    """The copied lake (its registry beside it, in ``lake.root.parent / "registry"``), the result and the run."""
    root = tmp_path_factory.mktemp("deposit")
    lake = Lake(root / "lake")
    shutil.copytree(small_world[0].root, lake.root)
    write_scores(lake, score_transfers(lake, modes=("point_in_time",)))  # the chain stage, the mode models read
    result = train("deposit", lake, root / "registry", report_dir=root / "reports")
    if not result.promoted:  # a near tie with the rules (docs/risk.md): scoring is tested whichever side wins
        Registry(root / "registry").promote(result.card.name, result.version, force=True)
    since = result.boundaries.build_date  # the test period's deposits: enough to read, a third of the time
    return lake, result, score("deposit", lake, root / "registry", since=since)


def test_the_product_needs_the_chain_stage_first(small_world: World) -> None:
    with pytest.raises(CryptoscopeError, match="score-transfers"):
        deposit_spine(connect(small_world[0]))  # the shared world as simulated: no chain_exposure yet
    names = [line.name for line in ordered()]
    assert names.index("deposit") > names.index("chain")
    assert "deposit" in ALL_KINDS and "deposit" not in KINDS  # the event products the online scorer serves


def test_trains_judged_on_a_later_period_with_the_labels_known_then(trained: tuple[Lake, TrainResult, ScoreRun],
                                                                    small_world: World) -> None:
    _, result, _ = trained
    ev, bounds, split = result.evaluation, result.boundaries, result.trained.split
    end = connect(small_world[0]).table("sessions").event_time.max().to_pyarrow().as_py()
    assert bounds.test_end == end - dt.timedelta(days=20)  # exposure findings arrive up to ~20 days late
    assert (split.test["decision_time"] <= pd.Timestamp(bounds.test_end)).all()
    build = pd.Timestamp(bounds.build_date)
    for period in (split.train, split.valid):
        assert (period["decision_time"] < build).all() and (period["label_time"].dropna() <= build).all()
    assert ev.positives >= 5 and ev.model.pr_auc > ev.base_rate
    assert result.report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")
    assert result.promoted == (ev.saving > 0) and "Rules baseline" in result.card.notes
    # the serving-cost gate judged it too: its logistic regression on the numpy row path (FastLinear), with room
    assert 0 < result.card.serving["serving_p99_ms"] <= SERVING_BUDGET_MS / 2, result.card.serving


def test_exposure_drives_the_decisions_and_the_rules_are_its_floor(trained: tuple[Lake, TrainResult, ScoreRun]
                                                                   ) -> None:
    _, result, _ = trained
    test = result.trained.split.test
    decisions = result.trained.bundle.decide_scored(result.trained.p_test, test)
    level = np.vectorize(_LEVEL.__getitem__)
    assert (level(decisions) >= level(test["rule_decision"].to_numpy(dtype=str))).all()  # never waves an alert by
    p, exposed = result.trained.p_test, test["exposed"].to_numpy() == 1
    assert exposed.any() and np.median(p[exposed]) > np.quantile(p[~exposed], 0.999)  # it reads the exposure
    ev = result.evaluation
    assert ev.model.bad_stopped >= ev.rules.bad_stopped and ev.model.blocked >= ev.rules.blocked


def test_scores_land_in_risk_scores_with_reasons_in_words(trained: tuple[Lake, TrainResult, ScoreRun]) -> None:
    lake, result, run = trained
    assert run.scored > 0 and run.added == run.scored and run.model_version == result.version
    rows = connect(lake).table("risk_scores").to_pandas()
    assert rows["score_id"].str.fullmatch(rf"deposit:\d+:{result.version}").all() and (rows["kind"] == "deposit").all()
    flagged = rows[rows["decision"] != APPROVE]
    assert len(flagged) > 0 and flagged["reasons"].str.contains("illicit").all()
    again = score("deposit", lake, lake.root.parent / "registry", since=result.boundaries.build_date)
    assert (again.scored, again.added) == (run.scored, 0)  # scoring again adds nothing


def _con(transfers: list[dict[str, Any]], exposure: list[dict[str, Any]]) -> Any:
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    for name, rows in (("chain_transfers", transfers), ("chain_exposure", exposure), ("accounts", [])):
        schema = get_table(name).arrow_schema
        con.create_table(name, pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table())
    return con


def test_the_deposits_own_exposure_is_read_only_once_known() -> None:
    t = dt.datetime(2025, 2, 1, tzinfo=dt.UTC)
    transfers = [{"transfer_id": i, "user_id": 1, "event_time": t, "direction": "deposit", "chain": "bitcoin",
                  "asset": "BTC", "address": f"bc1q{i}", "exchange_address": "bc1qex", "tx_hash": f"{i:064x}",
                  "amount": 0.01, "amount_usd": 900.0, "fee": 0.0, "status": "completed"} for i in (1, 2)]
    exposure = [{"score_id": f"{i}:point_in_time", "transfer_id": i, "user_id": 1, "event_time": t,
                 "direction": "deposit", "chain": "bitcoin", "address": f"bc1q{i}", "mode": "point_in_time",
                 "haircut": 0.5, "poison": 0.5, "hops": 1, "category": "sanctioned", "evidence": "[]",
                 "known_at": t + dt.timedelta(seconds=late), "scored_at": t} for i, late in ((1, 0), (2, 3600))]
    rows = deposit_spine(_con(transfers, exposure)).to_pandas().set_index("entity_id")
    assert rows.loc["1", ["haircut", "hops", "category_sanctioned", "exposure_scored"]].tolist() == [0.5, 1, 1, 1]
    assert rows.loc["2", "exposure_scored"] == 0 and pd.isna(rows.loc["2", "haircut"])  # known an hour too late
    frame = get_product("deposit").prepare(rows.assign(max_haircut_30d=np.nan))
    assert frame.loc["2", ["exposed", "hops_to_source"]].tolist() == [0, 4.0]  # unknown reads as not exposed


def test_the_cli_judges_the_registered_deposit_model(trained: tuple[Lake, TrainResult, ScoreRun]) -> None:
    lake, result, _ = trained
    res = CliRunner().invoke(app, ["risk", "evaluate", "deposit", "--lake", str(lake.root), "--registry",
                                   str(lake.root.parent / "registry")])
    assert res.exit_code == 0, res.output
    assert f"{result.evaluation.positives} bad" in res.output and "saving vs rules" in res.output
    with pytest.raises(CryptoscopeError, match="deposit"):  # the entry point turns it into exit code 2
        CliRunner().invoke(app, ["risk", "evaluate", "nope", "--lake", str(lake.root)], catch_exceptions=False)
