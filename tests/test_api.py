"""The public API (``cryptoscope.api``, re-exported as ``cryptoscope.<name>``) as a notebook uses it."""

from __future__ import annotations

import datetime as dt
import doctest
import pkgutil
from pathlib import Path

import pytest

import cryptoscope
import cryptoscope as cs
from cryptoscope import api
from cryptoscope.lake import Lake
from cryptoscope.models import Registry

World = tuple[Lake, object, object]


def test_the_docstring_examples_run() -> None:
    # the same check as `pytest --doctest-modules src/cryptoscope/api.py`
    result = doctest.testmod(api, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0


def test_every_public_name_is_importable_from_the_package_and_shadows_no_module() -> None:
    modules = {m.name for m in pkgutil.iter_modules(cryptoscope.__path__)}
    assert not set(api.__all__) & modules  # `cs.models` would turn into the subpackage once it is imported
    assert all(getattr(cryptoscope, name) is getattr(api, name) for name in api.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = cryptoscope.nothing  # type: ignore[attr-defined]


def test_docs_api_md_lists_every_public_name() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "api.md").read_text(encoding="utf-8")
    assert [name for name in api.__all__ if f"`{name}" not in text] == []


def test_a_notebook_session_on_the_small_world(small_world: World, tmp_path: Path) -> None:
    lake = cs.open_lake(small_world[0].root)
    assert lake.table("accounts").count().execute() > 1000
    cutoff = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    train_set = cs.training_set(lake, "kyc_fraud", cutoff, views=["user_logins", "account_security"])
    frame = train_set.to_pandas()
    assert len(frame) > 100 and frame["label"].isin([0, 1]).all() and "label_time" in frame

    registry, reports = tmp_path / "registry", tmp_path / "reports"
    result = cs.train("kyc", lake, registry, report_dir=reports)  # cs.fit is its first half, without registering
    run_id = cs.log_fit(result.trained, registry)  # a fit logged without registering: a second run, no version
    run = Registry(registry).client.get_run(run_id)
    assert run.data.metrics["test_roc_auc"] == pytest.approx(result.card.metrics_test.roc_auc)
    if not result.promoted:  # a near tie with the rules on this small world: force it, as an analyst would
        with pytest.raises(cs.CryptoscopeError, match="failed its evaluation"):
            cs.promote("risk_kyc", result.version, registry)
        cs.promote("risk_kyc", result.version, registry, force=True)
    assert [(m.name, m.promoted) for m in cs.list_models(registry)] == [("risk_kyc", True)]

    rows = cs.decisions("kyc", lake).tail(25)
    scored = cs.score("kyc", rows, registry)
    assert len(scored) == 25 and set(scored["decision"]) <= {"approve", "review", "block"}
    assert (scored["model_version"] == result.version).all() and scored["reasons"].map(len).max() > 0
    assert cs.case_queue(cs.open_lake(tmp_path / "empty")).list_cases() == []
