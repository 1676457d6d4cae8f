"""The registry of record, MLflow's (a local SQLite store here): versions, the champion, nothing half-registered.

The contract both registries keep (versions, promotion, the same model registered twice, refusals) runs on each
of them: MLflow's and the former folder format, still read to migrate old registries (`test_folder_registry.py`
holds what only the folder format does)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import FolderRegistry, ModelCard, Registry, TrainedModel

from .conftest import crash_while_writing

BOTH = pytest.mark.parametrize("kind", [Registry, FolderRegistry], ids=["mlflow", "folder"])


@BOTH
def test_register_two_versions_promote_one_and_load_it(kind: type[Registry | FolderRegistry], trained: TrainedModel,
                                                        tmp_path: Path) -> None:
    registry = kind(tmp_path / "registry")
    first = registry.register("card_fraud", trained.bundle, trained.card)
    second = registry.register("card_fraud", trained.bundle, dataclasses.replace(trained.card, notes="retrained"))
    assert (first, second) == (1, 2)
    assert [(v.name, v.version, v.promoted) for v in registry.list()] == [("card_fraud", 1, False),
                                                                         ("card_fraud", 2, False)]
    with pytest.raises(CryptoscopeError, match="no version of 'card_fraud' is promoted"):
        registry.load("card_fraud")

    registry.promote("card_fraud", 1)
    loaded = registry.load("card_fraud")
    assert loaded.version == 1 and loaded.card.notes == "" and [v.promoted for v in registry.list()] == [True, False]
    assert registry.load("card_fraud", 2).card.notes == "retrained"
    test = trained.split.test
    np.testing.assert_allclose(loaded.bundle.score(test), trained.p_test)
    assert (loaded.bundle.decide(test) == trained.bundle.decide(test)).all()

    registry.promote("card_fraud", 2)
    assert registry.load("card_fraud").version == 2
    if kind is Registry:  # the champion is MLflow's alias: any MLflow client sees it
        assert int(registry.client.get_model_version_by_alias("card_fraud", "champion").version) == 2


@BOTH
def test_registering_the_same_model_again_adds_no_version(kind: type[Registry | FolderRegistry], trained: TrainedModel,
                                                           tmp_path: Path) -> None:
    registry = kind(tmp_path / "registry")
    first = registry.register("card_fraud", trained.bundle, trained.card)
    again = registry.register("card_fraud", trained.bundle, dataclasses.replace(trained.card, created="2030-01-01"))
    assert first == again == 1 and [v.version for v in registry.list()] == [1]
    if kind is Registry:
        experiment = registry.client.get_experiment_by_name("card_fraud").experiment_id
        assert len(registry.client.search_runs([experiment])) == 1


def test_each_registration_is_a_run_with_params_metrics_card_and_plots(trained: TrainedModel, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    registry = Registry(tmp_path / "registry")
    version = trained.register(registry, report=report)
    assert (tmp_path / "registry" / "mlflow.db").is_file()  # the default store: inside the registry folder
    client = registry.client
    run = client.get_run(client.get_model_version("card_fraud", str(version)).run_id)
    assert run.info.status == "FINISHED" and run.data.params["label"] == "label"
    assert run.data.params["features"] == ",".join(trained.card.features)
    assert run.data.metrics["test_roc_auc"] == pytest.approx(trained.card.metrics_test.roc_auc)
    assert run.data.metrics["valid_pr_auc"] == pytest.approx(trained.card.metrics_valid.pr_auc)
    assert {"test_decision_cost_model", "test_decision_cost_rules_baseline"} <= set(run.data.metrics)
    logged = {a.path for a in client.list_artifacts(run.info.run_id)} | {
        a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"card.json", "model", "plots/calibration.png", "plots/costs.png"} <= logged

    card = registry.show("card_fraud", version)
    assert card == dataclasses.replace(trained.card, version=version, artifacts={"report": "artifacts/report.html"})
    assert ModelCard.from_json(card.to_json()) == card
    raw = json.loads((registry.path("card_fraud", version) / "card.json").read_text())
    assert [p["name"] for p in raw["periods"]] == ["train", "valid", "test"]
    assert (registry.path("card_fraud", version) / card.artifacts["report"]).read_text() == "<html>report</html>"


def test_a_registration_that_crashes_halfway_leaves_nothing(trained: TrainedModel, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path)

    monkeypatch.setattr(joblib, "dump", crash_while_writing)
    with pytest.raises(CryptoscopeError, match=r"could not register 'card_fraud' .*: disk full"):
        registry.register("card_fraud", trained.bundle, trained.card)
    monkeypatch.undo()
    assert registry.list() == []
    with pytest.raises(CryptoscopeError, match=r"no model 'card_fraud' version 1 .* none registered"):
        registry.load("card_fraud", 1)

    # the store fails once the run is logged: the run is deleted, the new registered model too
    def refuse(*args: object, **kwargs: object) -> None:
        from mlflow.exceptions import MlflowException

        raise MlflowException("the database is locked")

    monkeypatch.setattr(registry.client, "create_model_version", refuse)
    with pytest.raises(CryptoscopeError, match="could not register card_fraud: the database is locked"):
        registry.register("card_fraud", trained.bundle, trained.card)
    monkeypatch.undo()
    assert registry.list() == [] and registry.client.search_registered_models() == []
    experiment = registry.client.get_experiment_by_name("card_fraud").experiment_id
    assert registry.client.search_runs([experiment]) == []  # active runs: none
    assert registry.register("card_fraud", trained.bundle, trained.card) == 1


def test_a_run_without_metrics_is_refused_before_anything_is_logged(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    with pytest.raises(CryptoscopeError, match=r"no validation and test metrics, .*; nothing was logged"):
        registry.register("card_fraud", trained.bundle, dataclasses.replace(trained.card, metrics_test=None))
    assert registry.list() == [] and registry.client.get_experiment_by_name("card_fraud") is None


def test_a_version_that_failed_evaluation_is_promoted_only_when_forced(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    good = registry.register("kyc", trained.bundle, trained.card, evaluation="passed")
    worse = dataclasses.replace(trained.card, notes="worse")
    bad = registry.register("kyc", trained.bundle, worse, evaluation="failed")
    registry.promote("kyc", good)
    with pytest.raises(CryptoscopeError, match=r"kyc v2 failed its evaluation .* --force"):
        registry.promote("kyc", bad)
    assert registry.promoted("kyc") == good
    registry.promote("kyc", bad, force=True)
    assert registry.promoted("kyc") == bad


def test_a_failed_version_is_refused_with_the_reason_it_was_registered_with(trained: TrainedModel,
                                                                            tmp_path: Path) -> None:
    """The serving-cost gate's reason (``risk/latency.py``) is what the refusal says; the card keeps the timing,
    which is no part of the model's identity (a refit that measures differently is the same model)."""
    registry = Registry(tmp_path)
    timed = dataclasses.replace(trained.card, serving={"serving_p99_ms": 23.5, "serving_budget_ms": 5.0})
    why = "scoring and explaining one row costs 23.5 ms at p99, over the serving budget of 5.0 ms"
    version = registry.register("risk_withdrawal", trained.bundle, timed, evaluation="failed", reason=why)
    with pytest.raises(CryptoscopeError, match=rf"failed its evaluation \({why}\), so it is not promoted.*--force"):
        registry.promote("risk_withdrawal", version)
    assert registry.show("risk_withdrawal", version).serving == timed.serving
    run = registry.client.get_run(registry.client.get_model_version("risk_withdrawal", str(version)).run_id)
    assert run.data.metrics["serving_p99_ms"] == 23.5
    retimed = dataclasses.replace(timed, serving={"serving_p99_ms": 1.0, "serving_budget_ms": 5.0})
    assert registry.register("risk_withdrawal", trained.bundle, retimed, evaluation="failed", reason=why) == version


@BOTH
def test_unknown_names_versions_and_bad_names_are_refused(kind: type[Registry | FolderRegistry], trained: TrainedModel,
                                                          tmp_path: Path) -> None:
    registry = kind(tmp_path)
    registry.register("kyc", trained.bundle, trained.card)
    with pytest.raises(CryptoscopeError, match="known versions: 1"):
        registry.promote("kyc", 7)
    with pytest.raises(CryptoscopeError, match=r"model name '\.\./escape'"):
        registry.register("../escape", trained.bundle, trained.card)
    assert registry.show("kyc", 1).name == "kyc"  # the registry's name is the card's name
    assert registry.promoted("nobody") is None


def test_the_tracking_uri_comes_from_the_environment(trained: TrainedModel, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = tmp_path / "team" / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{elsewhere}")
    registry = Registry(tmp_path / "registry")
    registry.register("kyc", trained.bundle, trained.card)
    assert elsewhere.is_file() and not (tmp_path / "registry" / "mlflow.db").exists()
    assert [v.name for v in Registry(tmp_path / "other").list()] == ["kyc"]  # same store, whatever the folder
