"""The former folder registry, still read to migrate old registries: what only its format does (plain files, nothing
half-written); the contract it shares with MLflow's runs on both in `test_registry.py`."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import joblib
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import FolderRegistry as Registry
from cryptoscope.models import ModelCard, TrainedModel
from cryptoscope.models import folder_registry as registry_module

from .conftest import crash_while_writing


def test_the_card_is_plain_json_and_round_trips(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    version = registry.register("card_fraud", trained.bundle, trained.card)
    raw = json.loads((tmp_path / "card_fraud" / "v0001" / "card.json").read_text())
    assert raw["version"] == version and raw["features"] == list(trained.card.features)
    assert [p["name"] for p in raw["periods"]] == ["train", "valid", "test"]
    assert set(raw["metrics_test"]) >= {"roc_auc", "pr_auc", "brier", "ece", "cost"}
    card = registry.show("card_fraud", version)
    assert card == dataclasses.replace(trained.card, version=version)
    assert ModelCard.from_json(card.to_json()) == card


def test_artifacts_are_copied_in_and_the_card_points_at_them(trained: TrainedModel, tmp_path: Path) -> None:
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    registry = Registry(tmp_path / "registry")
    version = registry.register("card_fraud", trained.bundle, trained.card, files={"report": report})
    card = registry.show("card_fraud", version)
    assert card.artifacts == {"report": "artifacts/report.html"}
    assert (registry.path("card_fraud", version) / card.artifacts["report"]).read_text() == "<html>report</html>"


def test_a_registration_that_crashes_halfway_is_invisible(trained: TrainedModel, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path)

    monkeypatch.setattr(joblib, "dump", crash_while_writing)
    with pytest.raises(CryptoscopeError, match=r"could not register 'card_fraud' .*: disk full"):
        registry.register("card_fraud", trained.bundle, trained.card)
    monkeypatch.undo()

    # a process killed mid-write leaves its hidden temporary folder behind
    leftover = tmp_path / "card_fraud" / ".tmp-killed"
    leftover.mkdir()
    (leftover / "card.json").write_text(trained.card.to_json())
    (leftover / "bundle.joblib").write_bytes(b"half a pickle")

    assert registry.list() == []
    with pytest.raises(CryptoscopeError, match=r"no model 'card_fraud' version 1 .* none registered"):
        registry.load("card_fraud", 1)
    assert registry.register("card_fraud", trained.bundle, trained.card) == 1  # the number was never taken


def test_a_crashed_promotion_keeps_the_previous_one(trained: TrainedModel, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path)
    for notes in ("first", "second"):
        registry.register("card_fraud", trained.bundle, dataclasses.replace(trained.card, notes=notes))
    registry.promote("card_fraud", 1)

    def crash(src: object, dst: object) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(registry_module.os, "replace", crash)
    with pytest.raises(OSError, match="power cut"):
        registry.promote("card_fraud", 2)
    monkeypatch.undo()
    assert registry.promoted("card_fraud") == 1
    assert [p.name for p in (tmp_path / "card_fraud").iterdir() if p.is_file()] == ["promoted.json"]
