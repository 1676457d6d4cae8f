"""The Bitcoin OTC trust network with REV2 labels: ranking users from the rating graph alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sklearn.metrics import roc_auc_score

from cryptoscope.errors import ValidationError
from cryptoscope.graph.signed import fairness_goodness, node_features, read_labels, read_signed

OTC = Path(__file__).resolve().parents[3] / "shared" / "data" / "bitcoin-otc"
needs_data = pytest.mark.skipif(not OTC.exists() and "CI" not in os.environ, reason="shared OTC data not available")


@needs_data
def test_fairness_goodness_ranks_fraudsters_below_benign_users() -> None:
    edges = read_signed(OTC / "soc-sign-bitcoinotc.csv")
    labels = read_labels(OTC / "rev2_otc_gt.csv")
    assert len(edges) == 35_592 and labels.sum() == 180 and len(labels) == 316
    goodness = fairness_goodness(edges)
    assert goodness.between(-1, 1).all()
    risk = -goodness.reindex(labels.index)
    auc = roc_auc_score(labels, risk)
    feats = node_features(edges).reindex(labels.index)
    baseline = roc_auc_score(labels, -feats["in_mean"])
    assert auc > 0.95 and auc >= baseline - 0.01


def test_fairness_discounts_a_rater_who_disagrees_with_everyone() -> None:
    import pandas as pd

    # users 1-3 rate 10 and 11 alike; user 4 rates them opposite to everyone else
    rows = [(r, 10, 8) for r in (1, 2, 3)] + [(r, 11, -8) for r in (1, 2, 3)] + [(4, 10, -10), (4, 11, 10)]
    edges = pd.DataFrame(rows, columns=["source", "target", "rating"]).assign(time=0)
    g = fairness_goodness(edges)
    assert g[10] > 0.4 > -0.4 > g[11]


def test_bad_lines_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "otc.csv"
    bad.write_text("1,2,5,100\n3,x,1,200\n")
    with pytest.raises(ValidationError, match=r"otc.csv, row 2 \(line 2\), column 'target': not a number"):
        read_signed(bad)
    labels = tmp_path / "gt.csv"
    labels.write_text("1,+1\n2,0\n")
    with pytest.raises(ValidationError, match=r"gt.csv, row 2 \(line 2\), column 'label'"):
        read_labels(labels)
