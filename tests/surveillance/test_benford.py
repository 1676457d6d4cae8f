"""The Cong et al. statistical tests: Benford's first-digit law and clustering at round trade sizes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from cryptoscope.surveillance import benford


def test_first_digits_and_round_sizes() -> None:
    assert benford.first_digits(np.array([0.0312, 7.0, 123.4, 999.0, -3.0])).tolist() == [3, 7, 1, 9, 0]
    assert benford.round_share(np.array([1.0, 25.0, 0.5, 300.0, 1.234, 0.0317])) == 4 / 6


def test_benford_holds_for_multiplicative_sizes_and_fails_for_a_narrow_band() -> None:
    rng = np.random.default_rng(3)
    honest = rng.lognormal(0, 2.5, 5_000)  # spans several orders of magnitude: close to Benford
    washed = rng.uniform(0.2, 1.0, 5_000) * 37.0  # a program's sizes in one band: first digits 7..9, 1..3
    assert not benford.benford_test(honest)["benford_rejected"]
    assert benford.benford_test(washed)["benford_rejected"]
    assert benford.benford_test(washed[:10])["p_value"] is None  # too few trades to judge


def test_tests_run_per_symbol_and_week() -> None:
    t0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)  # a Monday
    rows = 200
    trades = pa.table({"symbol": ["A-USDT"] * rows, "event_time": [t0 + dt.timedelta(hours=i) for i in range(rows)],
                       "quantity": np.random.default_rng(1).lognormal(0, 2.5, rows)})
    cells = benford.symbol_tests(trades)
    assert [c["week_start"] for c in cells] == ["2025-03-03", "2025-03-10"]
    assert benford.week_of(t0 + dt.timedelta(days=6)) == "2025-03-03"


def test_the_test_sees_wash_trading_only_when_it_is_a_large_part_of_the_volume() -> None:
    """Cong et al. found most of the volume washed on unregulated exchanges; a few percent is invisible."""
    rng = np.random.default_rng(5)
    honest = rng.lognormal(0, 2.5, 2_000)
    washed = rng.uniform(0.2, 1.0, 4_000) * 37.0
    assert benford.benford_test(np.concatenate([honest, washed[:4_000]]))["benford_rejected"]  # two thirds washed
    assert not benford.benford_test(np.concatenate([honest, washed[:60]]))["benford_rejected"]  # 3 % washed


def typed(rng: np.random.Generator, n: int) -> np.ndarray:
    """Sizes as people type them: lognormal amounts, half truncated to one or two significant digits."""
    from cryptoscope.sources.simulate.trading import round_down

    return round_down(rng.lognormal(0, 2.0, n), rng.choice([0, 1, 2], n, p=[0.5, 0.3, 0.2]))


def test_round_size_clustering_flags_the_symbol_a_bot_trades() -> None:
    """Cong et al.: human books cluster at round sizes, a wash bot's random sizes do not. Four honest
    symbols and one where a bot makes 40 % of the trades at random, non-round sizes (drawn, like
    people's amounts, over several orders of magnitude, so Benford's law cannot tell them apart)."""
    rng = np.random.default_rng(11)
    t0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
    sizes = {f"H{i}-USDT": typed(rng, 3_000) for i in range(4)}
    sizes["W-USDT"] = np.concatenate([typed(rng, 1_800), rng.lognormal(0, 2.0, 1_200)])
    minutes = [i for x in sizes.values() for i in range(len(x))]  # all within the week of t0
    trades = pa.table({"symbol": [s for s, x in sizes.items() for _ in x],
                       "event_time": [t0 + dt.timedelta(minutes=m) for m in minutes],
                       "quantity": np.concatenate(list(sizes.values()))})
    verdict = {c["symbol"]: c for c in benford.whole_window_tests(trades)}
    assert [s for s, c in verdict.items() if c["flagged"]] == ["W-USDT"]
    w = verdict["W-USDT"]
    assert w["round_rejected"] and not w["benford_rejected"]
    assert 0.45 < w["round_reference"] < 0.55 and w["round_share"] < 0.35
    assert [c["symbol"] for c in benford.symbol_tests(trades) if c["flagged"]] == ["W-USDT"]  # one week, same


def test_few_trades_or_a_missing_reference_are_not_judged() -> None:
    assert benford.clustering_test(np.ones(10), 0.5)["round_p_value"] is None
    assert not benford.clustering_test(np.full(100, 1.234), 0.0)["round_rejected"]
