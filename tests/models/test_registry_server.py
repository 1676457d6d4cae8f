"""The registry against a real `mlflow server` (SQLite backend) started for this module, and what goes wrong.

An unreachable server, a run without metrics, promoting a version that does not exist or failed evaluation: each
is one clear error, and the server holds nothing half-registered afterwards.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake.cluster import free_port
from cryptoscope.models import Registry, TrainedModel


def models(*args: str, uri: str, registry: Path) -> subprocess.CompletedProcess[str]:
    """`cryptoscope models ...` as a user runs it, with the server in MLFLOW_TRACKING_URI."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    return subprocess.run([sys.executable, "-m", "cryptoscope.cli", "models", *args, "--registry", str(registry)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_models_are_registered_promoted_and_loaded_through_the_server(
        trained: TrainedModel, mlflow_server: str, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "cache", tracking_uri=mlflow_server)
    report = tmp_path / "report.html"
    report.write_text("<html>report</html>")
    first = registry.register("risk_withdrawal", trained.bundle, trained.card, files={"report": report},
                              figures=trained.figures(), evaluation="passed")
    second = registry.register("risk_withdrawal", trained.bundle, dataclasses.replace(trained.card, notes="worse"),
                               evaluation="failed")
    assert (first, second) == (1, 2)
    assert registry.register("risk_withdrawal", trained.bundle, trained.card, evaluation="passed") == 1
    assert not (tmp_path / "cache" / "mlflow.db").exists()  # the server is the store; the folder only caches

    listed = models("list", uri=mlflow_server, registry=tmp_path / "elsewhere")
    assert listed.returncode == 0, listed.stderr
    assert "risk_withdrawal" in listed.stdout and "*" not in listed.stdout
    promoted = models("promote", "risk_withdrawal", "1", uri=mlflow_server, registry=tmp_path / "elsewhere")
    assert promoted.returncode == 0, promoted.stderr
    loaded = Registry(tmp_path / "fresh", tracking_uri=mlflow_server).load("risk_withdrawal")
    assert loaded.version == 1 and (loaded.path / loaded.card.artifacts["report"]).read_text() == "<html>report</html>"

    # promoting a version that failed its evaluation, or one that does not exist: one line, exit 2, champion kept
    refused = models("promote", "risk_withdrawal", "2", uri=mlflow_server, registry=tmp_path)
    assert refused.returncode == 2 and "failed its evaluation" in refused.stderr + refused.stdout
    missing = models("promote", "risk_withdrawal", "9", uri=mlflow_server, registry=tmp_path)
    assert missing.returncode == 2 and "known versions: 1, 2" in missing.stderr + missing.stdout
    assert "Traceback" not in refused.stderr + missing.stderr
    assert registry.promoted("risk_withdrawal") == 1


def test_a_run_without_metrics_leaves_the_server_untouched(trained: TrainedModel, mlflow_server: str,
                                                           tmp_path: Path) -> None:
    registry = Registry(tmp_path, tracking_uri=mlflow_server)
    with pytest.raises(CryptoscopeError, match="no validation and test metrics"):
        registry.register("risk_kyc", trained.bundle, dataclasses.replace(trained.card, metrics_test=None))
    assert "risk_kyc" not in {m.name for m in registry.client.search_registered_models()}
    assert registry.client.get_experiment_by_name("risk_kyc") is None


def test_an_unreachable_server_is_one_clear_error_at_once(trained: TrainedModel, tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    registry = Registry(tmp_path, tracking_uri=uri)
    started = time.monotonic()
    with pytest.raises(CryptoscopeError, match=rf"the MLflow tracking server at {uri} is unreachable"):
        registry.register("risk_kyc", trained.bundle, trained.card)
    with pytest.raises(CryptoscopeError, match="unreachable"):
        registry.load("risk_kyc")
    assert time.monotonic() - started < 20  # no minutes of retries
    listed = models("list", uri=uri, registry=tmp_path)
    assert listed.returncode == 2 and "unreachable" in listed.stderr + listed.stdout
