"""Trade sizes as Cong et al. (2021) describe them: people type round sizes, wash bots do not, and wash
trading is concentrated in a few small coins at a large share of their trades."""

from __future__ import annotations

import numpy as np
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.market import ILLIQUID, MARKETS, Pump, build_market, pump_shape
from cryptoscope.sources.simulate.trading import round_down
from cryptoscope.sources.simulate.world import SimSummary
from cryptoscope.surveillance.benford import round_share

World = tuple[Lake, SimConfig, SimSummary]


def test_round_down_keeps_the_first_digit() -> None:
    x = np.array([0.0374, 0.0374, 0.0374, 987.6, 5.0, 0.0])
    assert np.allclose(round_down(x, np.array([1, 2, 0, 1, 2, 1])), [0.03, 0.037, 0.0374, 900.0, 5.0, 0.0])


def test_people_trade_round_sizes_and_wash_bots_do_not(small_world: World) -> None:
    con = connect(small_world[0]).con
    wash = "(SELECT DISTINCT user_id FROM ground_truth WHERE typology = 'wash_trading')"
    rows = con.execute(f"""
        SELECT buyer_user_id IN {wash} AND seller_user_id IN {wash} AS washed, quantity FROM trades""").fetchnumpy()
    washed, qty = np.asarray(rows["washed"], dtype=bool), np.asarray(rows["quantity"], dtype=float)
    assert washed.sum() > 1_000
    assert 0.4 < round_share(qty[~washed]) < 0.55  # half the orders typed round, some of them partly filled
    assert round_share(qty[washed]) < 0.01


def test_wash_trading_is_most_of_a_small_coins_trades_while_a_bot_runs(small_world: World) -> None:
    con = connect(small_world[0]).con
    shares = con.execute("""
        WITH w AS (SELECT DISTINCT user_id FROM ground_truth WHERE typology = 'wash_trading')
        SELECT symbol, date_trunc('week', event_time) AS week,
               avg((buyer_user_id IN (SELECT user_id FROM w) AND seller_user_id IN (SELECT user_id FROM w))::INT) AS s
        FROM trades GROUP BY 1, 2""").fetchall()
    small = {str(MARKETS[i]) for i in ILLIQUID}
    assert max(s for sym, _, s in shares if sym in small) > 0.4
    assert max(s for sym, _, s in shares if sym not in small) < 0.1


def test_a_pump_starts_rising_when_the_group_starts_buying() -> None:
    market = build_market(SimConfig(users=1_000, days=30, seed=3))
    p: Pump = market.pumps[0]
    sym = np.full(4, p.symbol)
    before, start, peak = market.price(sym[:1], np.array([p.start - 1]))[0], *market.price(
        sym[:2], np.array([p.start, p.peak]))
    assert before == pytest.approx(start) and peak / start == pytest.approx(p.gain, rel=0.05)
    assert pump_shape(p, np.array([p.start - 1, p.start, p.peak, p.peak + 10**12])).tolist()[:3] == [0.0, 0.0, 1.0]
