"""The evaluation report: one HTML file, figures inside, the numbers a reviewer looks for."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import numpy as np
import pytest

from cryptoscope.errors import CryptoscopeError
from cryptoscope.models import ReportData, TrainedModel, evaluate, render_report, write_report

PNG = b"\x89PNG\r\n\x1a\n"


def test_the_report_is_one_file_with_its_figures_and_metrics(trained: TrainedModel, tmp_path: Path) -> None:
    path = trained.write_report(tmp_path / "out" / "card_fraud.html")
    page = path.read_text(encoding="utf-8")
    images = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 7  # PR, ROC, reliability, scores by label, importance, over time, decision costs
    assert all(base64.b64decode(img).startswith(PNG) for img in images)
    assert "http://" not in page and "https://" not in page and "<script" not in page  # self-contained
    test = trained.card.metrics_test
    assert test is not None
    for text in ("ROC-AUC", "PR-AUC", "Brier score", "expected calibration error", f"{test.roc_auc:.4f}",
                 f"{test.pr_auc:.4f}", "rules baseline", "approve all", "Saving against the rules baseline",
                 "devices_24h", "v0", "valid", "test"):
        assert text in page, text


def test_a_minimal_report_needs_only_labels_and_probabilities(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.1).astype(int)
    p = np.clip(0.1 + 0.4 * y + rng.normal(0, 0.1, y.size), 0, 1)
    page = write_report(ReportData(title="bare <model>", y=y, p=p, metrics={"test": evaluate(y, p)}),
                        tmp_path / "bare.html").read_text()
    assert "bare &lt;model&gt;" in page  # titles are escaped
    assert page.count("data:image/png;base64,") == 4 and "Decisions" not in page


def test_a_period_with_one_class_cannot_be_reported() -> None:
    with pytest.raises(CryptoscopeError, match="only one class"):
        render_report(ReportData(title="x", y=np.zeros(5), p=np.full(5, 0.1)))
