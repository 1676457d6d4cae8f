"""The volatility backtest: finds an edge where flows drive volatility, reports none where they do not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cryptoscope.chain.forecast import backtest, backtest_frame, diebold_mariano
from cryptoscope.errors import CryptoscopeError
from cryptoscope.lake import Lake


def synthetic(days: int, flows_matter: bool, seed: int = 0) -> pd.DataFrame:
    """Log volatility mean-reverting around -4; with ``flows_matter`` yesterday's net outflow raises it."""
    rng = np.random.default_rng(seed)
    net = rng.normal(0, 1e6, days)
    log_vol = np.empty(days)
    log_vol[0] = -4
    for d in range(1, days):
        push = -0.8 * np.sign(net[d - 1]) * np.log1p(abs(net[d - 1])) / 14 if flows_matter else 0.0
        log_vol[d] = -4 + 0.3 * (log_vol[d - 1] + 4) + push + rng.normal(0, 0.1)
    return pd.DataFrame({"day": pd.date_range("2025-01-01", periods=days), "vol": np.exp(log_vol), "net_usd": net,
                         "gross_usd": np.abs(net) * 3, "deposit_count": rng.poisson(50, days),
                         "withdrawal_count": rng.poisson(50, days), "chain_tx": rng.poisson(3000, days)})


def test_an_edge_is_found_when_flows_drive_volatility() -> None:
    result = backtest_frame(synthetic(150, flows_matter=True), "SYN-USDT")
    assert result.edge
    assert result.rmse["flows"] < 0.8 * min(result.rmse["yesterday"], result.rmse["mean7"])


def test_no_edge_is_reported_when_flows_are_noise() -> None:
    result = backtest_frame(synthetic(150, flows_matter=False), "SYN-USDT")
    assert not result.edge
    assert "NO edge" in result.summary()


def test_diebold_mariano_tells_equal_from_different_errors() -> None:
    rng = np.random.default_rng(1)
    e = rng.normal(0, 1, 200)
    assert diebold_mariano(e, e) == 1.0
    assert diebold_mariano(e * 0.5, e) < 0.001


def test_backtest_on_the_simulated_exchange(small_world: tuple[Lake, object, object], tmp_path: Path) -> None:
    lake = small_world[0]
    result = backtest(lake, "BTC-USDT", min_train_days=30)
    assert result.forecasts == result.days - 30 > 40
    assert set(result.rmse) == {"yesterday", "mean7", "vol_lags", "flows"}
    assert all(np.isfinite(v) for v in result.rmse.values())
    with pytest.raises(CryptoscopeError, match="days"):
        backtest(lake, "BTC-USDT", min_train_days=200)
