"""The registry: versions, promotion, and no way to load something half-written."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ModelCard, Registry, TrainedModel
from cryptoscope.models import registry as registry_module


def test_register_two_versions_promote_one_and_load_it(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
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


def test_registering_the_same_model_again_adds_no_version(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "registry")
    first = registry.register("card_fraud", trained.bundle, trained.card)
    again = registry.register("card_fraud", trained.bundle, dataclasses.replace(trained.card, created="2030-01-01"))
    assert first == again == 1 and [v.version for v in registry.list()] == [1]


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
    version = trained.register(registry, report=report)
    card = registry.show("card_fraud", version)
    assert card.artifacts == {"report": "artifacts/report.html"}
    assert (registry.path("card_fraud", version) / card.artifacts["report"]).read_text() == "<html>report</html>"


def test_a_registration_that_crashes_halfway_is_invisible(trained: TrainedModel, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    registry = Registry(tmp_path)

    def crash_while_writing(value: object, path: Path) -> None:
        Path(path).write_bytes(b"half a pickle")
        raise OSError("disk full")

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


def test_unknown_names_versions_and_bad_names_are_refused(trained: TrainedModel, tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    registry.register("kyc", trained.bundle, trained.card)
    with pytest.raises(CryptoscopeError, match="known versions: 1"):
        registry.promote("kyc", 7)
    with pytest.raises(CryptoscopeError, match=r"model name '\.\./escape'"):
        registry.register("../escape", trained.bundle, trained.card)
    assert registry.show("kyc", 1).name == "kyc"  # the registry's name is the card's name
