"""The mule product on the harness, end to end on a small world: the time split of graph snapshots, the product's
own trees trained, calibrated and registered, the graph network trained from the CLI against them and promoted only
if it wins (its card saying the comparison either way), batch scoring into risk_scores with reasons in words, a
registered version re-judged, and a request's row refused with the reason.

A 3,000-user, 60-day world with fraud ten times as common (so that each 15-day window holds tens of mule and ring
labels); snapshots 15 days apart. The scoring writes to a copy of the lake.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cryptoscope.anomaly.mule_training import Draws, MuleFit, MuleTrainResult, Snapshots, notes, refusal, train
from cryptoscope.anomaly.mules import MODEL_NAME, MulePlan, labelled
from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import Registry
from cryptoscope.models.card import ModelCard
from cryptoscope.schema import get_table
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import simulate

HORIZON = 15
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated", "ignore:The given NumPy array")


@dataclass(frozen=True)
class World:
    lake: Lake
    root: Path
    data: Snapshots

    @property
    def registry(self) -> Path:
        return self.root / "registry"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    """The world and its three snapshots (each fixture below takes its own part of the time, none more than ~25 s)."""
    root = tmp_path_factory.mktemp("mules")
    lake = Lake(root / "lake")
    simulate(SimConfig(users=3_000, days=60, seed=5, fraud_scale=10.0), lake)
    return World(lake, root, Snapshots.build(lake, MulePlan(horizon_days=HORIZON)))


@pytest.fixture(scope="module")
def trees(world: World) -> MuleTrainResult:
    """The product's own trees, trained from Python on the snapshots already built, one seed: version 1."""
    return train(world.lake, world.registry, report_dir=world.root / "reports", data=world.data, seeds=1)


@pytest.fixture(scope="module")
def graph(world: World, trees: MuleTrainResult) -> tuple[ModelCard, str]:
    """The graph network trained from the CLI with two seeds (and the own trees beside it): version 2, and the
    output."""
    res = CliRunner().invoke(app, ["anomaly", "mules", "train", "--lake", str(world.lake.root), "--registry",
                                   str(world.registry), "--report-dir", str(world.root / "reports"), "--model",
                                   "graph", "--horizon-days", str(HORIZON), "--seeds", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return Registry(world.registry).show(MODEL_NAME, 2), " ".join(res.output.split())


def test_three_snapshots_a_horizon_apart_and_targets_learnt_after_each(world: World) -> None:
    con = connect(world.lake)
    cuts = [world.data.train.cut, world.data.valid.cut, world.data.test.cut]
    assert [c.name for c in cuts] == ["train", "valid", "test"]
    assert all(a.until == b.at == a.at + dt.timedelta(days=HORIZON) for a, b in itertools.pairwise(cuts))
    assert cuts[-1].until == dt.datetime(2025, 3, 2, tzinfo=dt.UTC), "the end of the 60-day world"
    for part in (world.data.train, world.data.valid, world.data.test):
        users = part.snap.user_ids
        assert set(users[part.y == 1].tolist()) == labelled(con, part.cut.at, part.cut.until) & set(users.tolist())
        known = np.isin(users, list(part.snap.result.known_bad))
        assert np.array_equal(part.keep, ~known), "users known bad at the snapshot are never judged"
        assert part.bad >= 10 and part.snap.as_of == part.cut.at
        assert (part.rings[part.rings >= 0] >= 0).all() and (part.rings >= 0).any()


def test_the_own_trees_are_calibrated_on_validation_judged_on_test_and_registered(world: World,
                                                                                 trees: MuleTrainResult) -> None:
    result, registry = trees, Registry(world.registry)
    card = registry.show(MODEL_NAME, result.version)
    assert result.version == 1 and card.estimator.startswith("LightGBM") and card.calibration == "sigmoid"
    assert [p.name for p in card.periods] == ["train", "valid", "test"]
    assert card.periods[-1].rows == world.data.test.judged and card.metrics_test is not None
    assert card.metrics_test.positives == world.data.test.bad and card.thresholds is not None
    assert {o.name for o in card.decisions_test} == {"model", "approve all", "block all"}
    for key in ("test_precision_at_100", "test_ring_recall_at_100", "graph_signals_test_precision_at_100"):
        assert 0 <= card.figures[key] <= 1
    run = registry.client.get_run(registry.client.get_model_version(MODEL_NAME, "1").run_id)
    assert run.data.metrics["test_precision_at_100"] == pytest.approx(card.figures["test_precision_at_100"])
    costs = {o.name: o.cost for o in card.decisions_test}
    assert result.promoted == (costs["model"] < costs["approve all"])
    assert "never per request" in card.notes and result.report.is_file()


def test_the_graph_model_is_promoted_only_if_it_beats_the_own_model_and_its_card_says_by_how_much(
        world: World, trees: MuleTrainResult, graph: tuple[ModelCard, str]) -> None:
    card, out = graph
    assert card.estimator.startswith("heterogeneous GraphSAGE") and card.estimator.endswith("seed 0")
    f = card.figures
    assert f["seeds"] == 2 and "(mean of seeds 0-1)" in card.notes
    costs = {o.name: o.cost for o in card.decisions_test}
    assert costs["own lightgbm model"] == pytest.approx(trees.fit.decisions.cost), "the same seed, the same trees"
    assert f"precision@100 {f['own_mean_test_precision_at_100']:.3f} (" in card.notes, "the own model's figures"
    wins = (f["mean_test_precision_at_100"] > f["own_mean_test_precision_at_100"]
            and f["mean_test_ring_recall_at_100"] >= f["own_mean_test_ring_recall_at_100"]
            and f["mean_test_decision_cost"] <= f["own_mean_test_decision_cost"]
            and f["mean_test_decision_cost"] < costs["approve all"])
    registry = Registry(world.registry)
    assert (registry.promoted(MODEL_NAME) == 2) == wins
    assert ("NOT promoted" in out) == (not wins), out
    if not wins:
        assert "Not promoted:" in card.notes
        with pytest.raises(CryptoscopeError, match=r"failed its evaluation.*--force"):
            registry.promote(MODEL_NAME, 2)


def test_a_challenger_that_ties_or_loses_on_the_seeds_mean_is_refused_saying_by_how_much(
        trees: MuleTrainResult) -> None:
    own = trees.draws
    assert "does not beat" in refusal(own, own) and "precision@100" in refusal(own, own), "a tie is no win"
    first = own.first
    f = first.figures

    def draw(precision: float, ring: float, cost: float) -> MuleFit:
        return dataclasses.replace(first, model="graph", figures={
            **f, "test_precision_at_100": precision, "test_ring_recall_at_100": ring},
            decisions=dataclasses.replace(first.decisions, cost=cost))

    p, r, c = f["test_precision_at_100"], f["test_ring_recall_at_100"], first.decisions.cost
    lucky_and_not = Draws("graph", (draw(p + 0.10, r + 0.2, c), draw(p - 0.16, r - 0.4, c + 500)))
    why = refusal(lucky_and_not, own)
    assert "(mean of seeds" in why and "(-0.030)" in why and "(-0.100)" in why and f"against ${c:,.0f}" in why
    text = notes(lucky_and_not, own, why)
    assert f"Not promoted: {why}." in text and "The product's own lightgbm model on the same snapshots" in text
    better = Draws("graph", (draw(p + 0.01, r, c),))
    assert refusal(better, own) == refusal(own, None), "the own gate alone is left"


def test_a_registered_version_is_rejudged_from_the_cli(world: World, graph: tuple[ModelCard, str]) -> None:
    res = CliRunner().invoke(app, ["anomaly", "mules", "evaluate", "--lake", str(world.lake.root), "--registry",
                                   str(world.registry), "--version", "2"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line.split() for line in res.output.splitlines() if line.startswith(("v2", "graph"))}
    assert set(rows) == {"v2", "graph"}, res.output
    assert float(rows["v2"][1]) == pytest.approx(graph[0].figures["test_precision_at_100"], abs=5e-4)


@pytest.fixture(scope="module")
def scored(world: World, graph: tuple[ModelCard, str], tmp_path_factory: pytest.TempPathFactory
           ) -> tuple[Path, str]:
    """A copy of the lake scored from the CLI by the graph network (the champion, forced if it lost)."""
    lake = tmp_path_factory.mktemp("scored") / "lake"
    shutil.copytree(world.lake.root, lake)
    Registry(world.registry).promote(MODEL_NAME, 2, force=True)
    args = ["anomaly", "mules", "score", "--lake", str(lake), "--registry", str(world.registry)]
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    again = CliRunner().invoke(app, args, catch_exceptions=False)
    assert "added 0 rows" in again.output, "the same snapshot and version add nothing"
    return lake, " ".join(res.output.split())


def test_batch_scoring_writes_risk_scores_rows_with_reasons_in_words(scored: tuple[Path, str]) -> None:
    lake, output = scored
    assert re.search(r"abnormal_mule v2: scored [\d,]+ users as of 2025-03-02 00:00", output), output
    rows = connect(lake).table("risk_scores").to_pandas()
    assert list(rows.columns) == get_table("risk_scores").column_names
    rows = rows[rows["kind"] == "mule"]
    assert len(rows) > 2_000 and rows["user_id"].is_unique and (rows["model_version"] == 2).all()
    assert (rows["entity_type"] == "user").all() and rows["score"].between(0, 1).all()
    assert (rows["event_time"] == pd.Timestamp("2025-03-02", tz="UTC")).all()
    assert rows["entity_id"].str.fullmatch(r"\d+@2025-03-02T00:00:00").all()
    assert set(rows["decision"]) <= {"approve", "review", "block"}
    explained = rows[rows["reasons"] != ""]
    flagged = rows[rows["decision"] != "approve"]
    assert len(explained) >= max(100, len(flagged)) and set(flagged.index) <= set(explained.index)
    assert explained["score"].min() >= rows.loc[rows["reasons"] == "", "score"].max()
    reasons = [r for text in explained["reasons"] for r in text.split("; ")]
    assert all(" " in r and "_" not in r for r in reasons)
    assert any("it shares an entity with" in r or "it shares with other accounts" in r for r in reasons), \
        "the network's reasons name its neighbourhood"


def test_the_graph_model_refuses_a_requests_row_saying_why(world: World, graph: tuple[ModelCard, str]) -> None:
    bundle = Registry(world.registry).load(MODEL_NAME, 2).bundle
    row = world.data.test.snap.table.head(1)
    with pytest.raises(CryptoscopeError, match=r"whole graph snapshot.*batch.*risk_scores"):
        bundle.score(row)
