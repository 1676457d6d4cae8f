"""`cryptoscope models migrate`: a registry folder of the former format, copied into MLflow's registry."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import FolderRegistry, Registry, TrainedModel


def test_a_folder_registry_is_migrated_once_with_its_champion(trained: TrainedModel, tmp_path: Path) -> None:
    root = tmp_path / "models-registry"
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    old = FolderRegistry(root)
    old.register("risk_payment", trained.bundle, trained.card, files={"report": report})
    old.register("risk_payment", trained.bundle, dataclasses.replace(trained.card, notes="second"))
    old.promote("risk_payment", 2)
    with pytest.raises(CryptoscopeError, match=r"former folder format: .*cryptoscope models migrate"):
        Registry(root).load("risk_payment")

    done = subprocess.run([sys.executable, "-m", "cryptoscope.cli", "models", "migrate", "--registry", str(root)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "risk_payment v2 -> v2 (champion)" in done.stdout

    registry = Registry(root)
    assert [(v.name, v.version, v.promoted) for v in registry.list()] == [("risk_payment", 1, False),
                                                                         ("risk_payment", 2, True)]
    champion = registry.load("risk_payment")
    assert champion.card.notes == "second" and champion.card.metrics_test == trained.card.metrics_test
    first = registry.show("risk_payment", 1)
    assert (registry.path("risk_payment", 1) / first.artifacts["report"]).read_text() == "<html>report</html>"

    from cryptoscope.models.migrate import migrate

    again = migrate(FolderRegistry(root), registry)  # twice adds nothing
    assert [(m.old_version, m.new_version) for m in again] == [(1, 1), (2, 2)] and len(registry.list()) == 2
