"""Next-day volatility of a market from the exchange's net flows and chain activity, walk-forward.

Each day d the model is refitted on days before d only and forecasts day d+1's realised volatility
(log of the standard deviation of hourly log returns of the exchange's trade prices). It has to beat
two naive forecasts that need no model at all: yesterday's volatility, and its 7-day mean; and a
ridge on volatility lags alone, so any edge can be attributed to the flows and chain activity
rather than to volatility clustering. The difference in squared error against the best of those
three gets a Diebold-Mariano test; "no edge" is reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import Ridge

from cryptoscope.chain.backend import Source, backend_of, lake_table
from cryptoscope.errors import CryptoscopeError

LAG_FEATURES = ("log_vol", "log_vol_mean7")
FLOW_FEATURES = ("net_flow", "gross_flow", "chain_tx_change", "deposit_count", "withdrawal_count")
#: what the flows model must beat: no model at all, or a model of volatility lags alone
_BASELINES = ("yesterday", "mean7", "vol_lags")
_CHAIN_TABLE = {"BTC": ("chain_transactions", "bitcoin"), "ETH": ("eth_transactions", "ethereum"),
                "TRX": ("eth_transactions", "tron")}


@dataclass(frozen=True)
class Backtest:
    symbol: str
    days: int
    forecasts: int
    rmse: dict[str, float]  # forecaster -> RMSE of log volatility
    mae: dict[str, float]
    dm_pvalue: float  # flows model vs the best forecast without flows; small = a real difference
    edge: bool

    def summary(self) -> str:
        best = min(_BASELINES, key=lambda k: self.rmse[k])
        lines = [f"{self.symbol}: walk-forward over {self.forecasts} days (of {self.days}), log realised volatility"]
        for name in self.rmse:
            lines.append(f"  {name:<12} RMSE {self.rmse[name]:.4f}  MAE {self.mae[name]:.4f}")
        skill = 1 - self.rmse["flows"] / self.rmse[best]
        verdict = "an edge" if self.edge else "NO edge"
        lines.append(f"  flows model vs {best}: RMSE skill {skill:+.3f}, Diebold-Mariano p = {self.dm_pvalue:.3f} "
                     f"-> {verdict} from the flows and chain activity")
        return "\n".join(lines)


def daily_frame(source: Source, symbol: str) -> pd.DataFrame:
    """One row per day: realised volatility, the base asset's exchange flows and its chain activity."""
    base = symbol.split("-")[0]
    backend = backend_of(source)
    frame = backend.to_pandas(daily_volatility(symbol))
    frame = frame[frame["n"] >= 6].merge(backend.to_pandas(daily_flows(base)), on="day", how="left")
    if base in _CHAIN_TABLE:
        name, chain = _CHAIN_TABLE[base]
        activity = lake_table(name)
        mine = activity.filter(activity.chain == chain)
        chain_tx = mine.group_by(day=mine.event_time.date()).aggregate(chain_tx=mine.count())
        frame = frame.merge(backend.to_pandas(chain_tx), on="day", how="left")
    else:
        frame["chain_tx"] = 0.0
    return frame.sort_values("day").fillna(0.0).reset_index(drop=True)


def daily_volatility(symbol: str) -> ir.Table:
    """day, vol (standard deviation of hourly log returns of the last trade price each hour), n (returns)."""
    trades = lake_table("trades")
    trades = trades.filter(trades.symbol == symbol)
    hourly = trades.group_by(hour=trades.event_time.truncate("h")).aggregate(
        price=trades.price.argmax(trades.event_time))
    returns = hourly.select("hour", ret=(hourly.price / hourly.price.lag().over(order_by=hourly.hour)).ln())
    return returns.group_by(day=returns.hour.date()).aggregate(vol=returns.ret.std(how="sample"),
                                                               n=returns.ret.count())


def daily_flows(asset: str) -> ir.Table:
    """day, net_usd (deposits less withdrawals), gross_usd and the counts of ``asset``'s settled transfers."""
    transfers = lake_table("chain_transfers")
    moved = transfers.filter(transfers.asset == asset, transfers.status != "rejected")
    deposit = moved.direction == "deposit"
    return moved.group_by(day=moved.event_time.date()).aggregate(
        net_usd=deposit.ifelse(moved.amount_usd, -moved.amount_usd).sum(), gross_usd=moved.amount_usd.sum(),
        deposit_count=moved.count(where=deposit), withdrawal_count=moved.count(where=moved.direction == "withdrawal"))


def features(frame: pd.DataFrame) -> pd.DataFrame:
    """Features known at the end of day d, and the target: log volatility of day d+1."""
    out = pd.DataFrame({"day": frame["day"]})
    out["log_vol"] = np.log(frame["vol"].clip(lower=1e-6))
    out["log_vol_mean7"] = out["log_vol"].rolling(7, min_periods=1).mean()
    out["net_flow"] = np.sign(frame["net_usd"]) * np.log1p(frame["net_usd"].abs())
    out["gross_flow"] = np.log1p(frame["gross_usd"])
    chain = pd.Series(np.log1p(frame["chain_tx"].to_numpy(float)), index=frame.index)
    out["chain_tx_change"] = chain - chain.rolling(7, min_periods=1).mean()
    out["deposit_count"] = np.log1p(frame["deposit_count"].astype(float))
    out["withdrawal_count"] = np.log1p(frame["withdrawal_count"].astype(float))
    out["target"] = out["log_vol"].shift(-1)
    return out.iloc[:-1]


def backtest(source: Source, symbol: str, min_train_days: int = 30, alpha: float = 1.0) -> Backtest:
    frame = daily_frame(source, symbol)
    if len(frame) < min_train_days + 6:
        raise CryptoscopeError(f"lake {source}: {symbol} has only {len(frame)} days with hourly trades; the backtest "
                               f"needs at least {min_train_days + 6}")
    return backtest_frame(frame, symbol, min_train_days, alpha)


def backtest_frame(frame: pd.DataFrame, symbol: str, min_train_days: int = 30, alpha: float = 1.0) -> Backtest:
    """The walk-forward on a `daily_frame`-shaped table (day, vol, net_usd, gross_usd, counts, chain_tx)."""
    data = features(frame)
    preds: dict[str, list[float]] = {"yesterday": [], "mean7": [], "vol_lags": [], "flows": []}
    truth: list[float] = []
    for d in range(min_train_days, len(data)):
        train, today = data.iloc[:d], data.iloc[d]
        for name, cols in (("vol_lags", LAG_FEATURES), ("flows", LAG_FEATURES + FLOW_FEATURES)):
            model = Ridge(alpha=alpha).fit(_standardise(train[list(cols)], train[list(cols)]), train["target"])
            preds[name].append(float(model.predict(_standardise(today[list(cols)].to_frame().T,
                                                                train[list(cols)]))[0]))
        preds["yesterday"].append(float(today["log_vol"]))
        preds["mean7"].append(float(today["log_vol_mean7"]))
        truth.append(float(today["target"]))
    y = np.asarray(truth)
    err = {k: np.asarray(v) - y for k, v in preds.items()}
    rmse = {k: round(float(np.sqrt(np.mean(e ** 2))), 4) for k, e in err.items()}
    mae = {k: round(float(np.mean(np.abs(e))), 4) for k, e in err.items()}
    best = min(_BASELINES, key=lambda k: rmse[k])
    p = diebold_mariano(err["flows"], err[best])
    edge = rmse["flows"] < rmse[best] and p < 0.05
    return Backtest(symbol, len(data), len(y), rmse, mae, round(p, 4), edge)


def _standardise(x: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray:
    """Scale with the training window's mean and spread only (no peeking at the day forecast)."""
    sd = reference.std().replace(0, 1).fillna(1)
    return np.asarray((x - reference.mean()) / sd, dtype=float)


def diebold_mariano(e_model: np.ndarray, e_base: np.ndarray) -> float:
    """Two-sided p-value that the mean squared-error difference is zero (one-step forecasts, no lag terms)."""
    d = e_model ** 2 - e_base ** 2
    if np.allclose(d, 0):
        return 1.0
    t = d.mean() / (d.std(ddof=1) / np.sqrt(len(d)))
    return float(2 * stats.t.sf(abs(t), df=len(d) - 1))
