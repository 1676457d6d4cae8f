"""The withdrawal product's sequence model end to end on the small world: `risk train --model sequence` through the
promotion gates (cost and serving cost), batch scoring with `risk score`, and a server that answers with it and
agrees with the batch scores.

One training (the CLI, as an operator runs it) feeds every test; its serving budget is lowered to 2 ms so that a
GRU forward and backward pass per request (~20 ms) is over it on any machine. Scoring writes to a copy of the lake.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cryptoscope.cli import app
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake, connect
from cryptoscope.models import Registry
from cryptoscope.models.card import ModelCard
from cryptoscope.risk import latency
from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import ServeConfig, Service
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary
from serve.fixtures import bearer
from serve.world import add_people

World = tuple[Lake, SimConfig, SimSummary]
NAME = "risk_withdrawal"
TEST_BUDGET_MS = 2.0
pytestmark = pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated",
                                        "ignore:The given NumPy array is not writable")


@dataclass(frozen=True)
class Trained:
    registry: Path
    output: str
    card: ModelCard


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("deep")


@pytest.fixture(scope="module")
def trained(small_world: World, workdir: Path) -> Trained:
    registry = workdir / "registry"
    res = CliRunner().invoke(app, ["risk", "train", "withdrawal", "--lake", str(small_world[0].root), "--registry",
                                   str(registry), "--report-dir", str(workdir / "reports"), "--model", "sequence"],
                             env={latency.BUDGET_ENV: str(TEST_BUDGET_MS)}, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return Trained(registry, " ".join(res.output.split()), Registry(registry).show(NAME, 1))


@pytest.fixture(scope="module")
def scored(small_world: World, trained: Trained, workdir: Path) -> tuple[Path, str]:
    """A copy of the lake with the last 15 days of withdrawals batch-scored by the sequence model (forced champion),
    and the CLI's output."""
    lake = workdir / "lake"
    shutil.copytree(small_world[0].root, lake)
    Registry(trained.registry).promote(NAME, 1, force=True)
    end = connect(lake).table("chain_transfers").event_time.max().to_pyarrow().as_py()
    since = f"{end - dt.timedelta(days=15):%Y-%m-%d}"
    res = CliRunner().invoke(app, ["risk", "score", "withdrawal", "--lake", str(lake), "--registry",
                                   str(trained.registry), "--since", since], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return lake, res.output


@pytest.fixture(scope="module")
def service(scored: tuple[Path, str], trained: Trained, workdir: Path) -> Service:
    """A withdrawal server over the whole lake (90 days: every novelty and sequence complete, as in batch)."""
    return Service(ServeConfig(lake=scored[0], registry=trained.registry, work=workdir / "serve", lookback_days=120,
                               kinds=("withdrawal",)))


def test_cli_trains_registers_and_the_gate_follows_the_recorded_figures(trained: Trained) -> None:
    card, registry = trained.card, Registry(trained.registry)
    assert card.estimator.startswith("SequenceClassifier")
    costs = {o.name: o.cost for o in card.decisions_test}
    own = re.search(r"vs \$([\d,]+) \(the product's own lightgbm model\)", card.notes)
    assert own is not None, card.notes
    own_cost = float(own.group(1).replace(",", ""))
    p99, budget = card.serving["serving_p99_ms"], card.serving["serving_budget_ms"]
    assert budget == TEST_BUDGET_MS and 0 < card.serving["serving_p50_ms"] <= p99
    cheaper_than_rules = costs["model"] < costs["rules baseline"]
    cheaper_than_own = round(costs["model"]) < own_cost  # the notes hold whole dollars
    promoted = cheaper_than_rules and cheaper_than_own and p99 <= budget
    assert registry.promoted(NAME) == (1 if promoted else None)
    assert ("NOT promoted" in trained.output) == (not promoted), trained.output
    assert ("no less than the rules'" in trained.output) == (not cheaper_than_rules)
    assert ("no less than the product's own model's" in trained.output) == (not cheaper_than_own)
    assert (f"over the serving budget of {budget:.1f} ms" in trained.output) == (p99 > budget)
    run = registry.client.get_run(registry.client.get_model_version(NAME, "1").run_id)
    assert run.data.metrics["serving_p99_ms"] == pytest.approx(p99)


def test_a_model_over_the_serving_budget_is_refused_saying_why_and_force_promotes_it(trained: Trained) -> None:
    registry = Registry(trained.registry)
    p99 = trained.card.serving["serving_p99_ms"]
    assert p99 > TEST_BUDGET_MS, "a GRU's forward and backward pass per row costs more than 2 ms"
    assert f"one row costs {p99:.1f} ms at p99" in trained.output
    if registry.promoted(NAME) is None:  # the scoring fixture forces it later in the module
        with pytest.raises(CryptoscopeError, match=rf"over the serving budget of {TEST_BUDGET_MS:.1f} ms.*--force"):
            registry.promote(NAME, 1)
        registry.promote(NAME, 1, force=True)
    assert registry.promoted(NAME) == 1


def test_the_budget_comes_from_the_option_the_environment_or_the_constant(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(latency.BUDGET_ENV, raising=False)
    assert latency.serving_budget_ms() == latency.SERVING_BUDGET_MS == 5.0
    monkeypatch.setenv(latency.BUDGET_ENV, "7.5")
    assert latency.serving_budget_ms() == 7.5 and latency.serving_budget_ms(3) == 3.0
    monkeypatch.setenv(latency.BUDGET_ENV, "fast")
    with pytest.raises(CryptoscopeError, match="number of milliseconds"):
        latency.serving_budget_ms()
    with pytest.raises(CryptoscopeError, match="positive"):
        latency.serving_budget_ms(0)


def test_a_registered_sequence_model_batch_scores_with_reasons_in_words(scored: tuple[Path, str]) -> None:
    lake, output = scored
    assert re.search(r"risk_withdrawal v1: scored [\d,]+ decisions", output), output
    rows = connect(lake).table("risk_scores").to_pandas()
    rows = rows[rows["model_version"] == 1]
    assert len(rows) >= 500 and rows["score"].between(0, 1).all()
    assert set(rows["decision"]) <= {"approve", "review", "block"}
    reasons = [r for text in rows["reasons"] for r in text.split("; ")]
    assert all(" " in r and "_" not in r for r in reasons)
    assert any("among the account's last events" in r for r in reasons)  # the sequence's own reasons, in words


def test_a_server_with_the_sequence_model_answers_and_agrees_with_batch(service: Service,
                                                                         scored: tuple[Path, str]) -> None:
    assert service.scorer.sequence_steps["withdrawal"] > 0  # it builds each account's sequence online
    live = service.scorer.live("withdrawal")
    # the withdrawals the server replayed from the lake, each decided on the row it built online before the event
    online = {d.entity_id: d for d in live.finish(live.prepare_rows([dict(r) for r in
                                                                    service._background["withdrawal"]]))}
    batch = connect(scored[0]).table("risk_scores").to_pandas().set_index("entity_id")
    shared = sorted(set(online) & set(batch.index))
    assert len(shared) >= 500
    gap = np.abs(np.array([online[e].score for e in shared]) - batch.loc[shared, "score"].to_numpy())
    assert gap.max() <= 1e-9
    assert [online[e].decision for e in shared] == batch.loc[shared, "decision"].tolist()
    assert ["; ".join(online[e].reasons) for e in shared] == batch.loc[shared, "reasons"].tolist()

    keys = add_people(service.config.work_dir)
    clock = service.scorer.clock
    assert clock is not None
    user = int(pd.Series([online[e].user_id for e in shared]).iloc[0])
    body = {"user_id": user, "event_time": (clock + dt.timedelta(seconds=1)).isoformat(), "transfer_id": 9_100_000_001,
            "address": "bc1qdeepmodelexample", "amount_usd": 30_000.0}
    with TestClient(create_app(service.config, service)) as client:
        r = client.post("/v1/score/withdrawal", json=body, headers=bearer(keys["service"]))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model"] == NAME and out["model_version"] == 1 and 0.0 <= out["score"] <= 1.0
    assert out["decision"] in {"approve", "review", "block"}
    assert 1 <= len(out["reasons"]) <= 3 and all(" " in x and "_" not in x for x in out["reasons"])
