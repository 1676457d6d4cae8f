"""TreeSHAP from per-leaf tables equals LightGBM's own ``pred_contrib``, and the flat trees its ``predict``."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from cryptoscope.models.tree_shap import MAX_TABLE, TreeShap


def _data(rows: int = 2000, width: int = 8, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Numbers with missing values and exact zeros (the two cases LightGBM's decision rule treats apart)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, width))
    x[rng.random(x.shape) < 0.15] = np.nan
    x[rng.random(x.shape) < 0.15] = 0.0
    signal = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.nan_to_num(x[:, 2]) + np.isnan(x[:, 3])
    return x, (signal + rng.normal(size=rows) > 0.5).astype(int)


def _train(params: dict[str, object], rounds: int = 40, **data: int) -> tuple[lgb.Booster, np.ndarray]:
    x, y = _data(**data)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_threads": 1, **params}, lgb.Dataset(x, y), rounds)
    return booster, x


@pytest.mark.parametrize("params", [
    {"num_leaves": 7},
    {"num_leaves": 31, "max_depth": 10, "min_data_in_leaf": 5},  # deep paths that split on one feature twice
    {"num_leaves": 7, "zero_as_missing": True},  # zeros take the default way
    {"num_leaves": 4, "use_missing": False},  # NaN is 0
    {"num_leaves": 5, "learning_rate": 0.5, "min_gain_to_split": 50.0},  # later trees of one leaf
])
def test_values_equal_lightgbm_pred_contrib(params: dict[str, object]) -> None:
    booster, x = _train(params)
    tables = TreeShap(booster)
    expected = booster.predict(x, pred_contrib=True)
    assert np.allclose(tables.values(x), expected, rtol=0.0, atol=1e-12)
    assert np.allclose(tables.values(x[:1]), expected[:1], rtol=0.0, atol=1e-12)  # one row, as served


def test_probabilities_and_margins_are_lightgbms_to_the_bit() -> None:
    booster, x = _train({"num_leaves": 15, "zero_as_missing": True})
    tables = TreeShap(booster)
    assert np.array_equal(tables.margins(x), booster.predict(x, raw_score=True))
    assert np.array_equal(tables.probabilities(x), booster.predict(x))


def test_the_best_iteration_is_what_predict_uses() -> None:
    x, y = _data()
    fit, valid = lgb.Dataset(x[:1500], y[:1500]), lgb.Dataset(x[1500:], y[1500:])
    booster = lgb.train({"objective": "binary", "verbose": -1, "learning_rate": 0.3}, fit, 200, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(5, verbose=False)])
    assert 0 < booster.best_iteration < 200
    tables = TreeShap(booster)
    assert np.array_equal(tables.probabilities(x), booster.predict(x))
    assert np.allclose(tables.values(x), booster.predict(x, pred_contrib=True), rtol=0.0, atol=1e-12)


def test_what_the_tables_cannot_hold_is_refused() -> None:
    x, y = _data()
    cats = x.copy()
    cats[:, 0] = np.random.default_rng(1).integers(0, 6, size=len(x))
    categorical = lgb.train({"objective": "binary", "verbose": -1, "min_data_per_group": 5, "cat_smooth": 1},
                            lgb.Dataset(cats, y, categorical_feature=[0]), 20)
    with pytest.raises(TypeError, match="categorical"):
        TreeShap(categorical)
    multiclass = lgb.train({"objective": "multiclass", "num_class": 3, "verbose": -1},
                           lgb.Dataset(x, np.arange(len(x)) % 3), 3)
    with pytest.raises(TypeError, match="several trees per iteration"):
        TreeShap(multiclass)
    regression = lgb.train({"objective": "regression", "verbose": -1}, lgb.Dataset(x, y.astype(float)), 3)
    with pytest.raises(TypeError, match="objective"):
        TreeShap(regression).probabilities(x)
    assert np.allclose(TreeShap(regression).values(x), regression.predict(x, pred_contrib=True), atol=1e-12)


def test_tables_too_large_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    booster, _ = _train({"num_leaves": 7})
    monkeypatch.setattr("cryptoscope.models.tree_shap.MAX_TABLE", 10)
    with pytest.raises(TypeError, match="limit 10"):
        TreeShap(booster)
    assert MAX_TABLE > 10


def test_rows_of_another_width_are_an_error() -> None:
    booster, x = _train({"num_leaves": 4})
    with pytest.raises(ValueError, match="rows of 8 features"):
        TreeShap(booster).values(x[:, :5])
