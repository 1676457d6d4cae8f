"""Token recommendations from similar wallets, on real Ethereum token transfers and the simulated world."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from cryptoscope.chain.reco import WalletTokenRecommender, leave_one_out
from cryptoscope.lake import Lake

TRANSFERS = (Path(__file__).resolve().parents[3] / "shared" / "data" / "ethereum" / "ethereum-etl" / "test_stream"
             / "blocks_17173049_17173050" / "expected_token_transfers.json")
needs_data = pytest.mark.skipif(not TRANSFERS.exists() and "CI" not in os.environ, reason="shared data missing")


def counts(pairs: list[tuple[str, str]]) -> pd.DataFrame:
    frame = pd.DataFrame(pairs, columns=["wallet", "token"])
    return frame.groupby(["wallet", "token"]).size().rename("n").reset_index()


def test_similar_wallets_vote_for_what_the_user_has_not_used() -> None:
    data = counts([("w1", "UNI"), ("w1", "AAVE"), ("w1", "COMP"), ("w2", "UNI"), ("w2", "AAVE"), ("w2", "COMP"),
                   ("w3", "PEPE"), ("w3", "SHIB"), ("w4", "PEPE"), ("w4", "DOGE"), ("me", "UNI"), ("me", "AAVE")])
    model = WalletTokenRecommender().fit(data)
    assert model.recommend(["me"], k=1)[0][0] == "COMP"
    assert model.recommend(["unknown"]) == []
    assert "UNI" not in {t for t, _ in model.recommend(["me"], k=5)}


@needs_data
def test_leave_one_out_on_real_token_transfers_is_not_worse_than_popularity() -> None:
    rows = [json.loads(line) for line in TRANSFERS.read_text().splitlines()]
    pairs = [(r["from_address"], r["token_address"]) for r in rows] + [(r["to_address"], r["token_address"])
                                                                        for r in rows]
    result = leave_one_out(counts(pairs), k=3)
    assert result.wallets > 50
    assert result.hit_rate >= result.popularity_hit_rate - 0.02


def test_recommend_for_a_simulated_user_leaves_out_what_their_wallets_moved(
        small_world: tuple[Lake, object, object]) -> None:
    from cryptoscope.lake import connect

    lake = small_world[0]
    con = connect(lake).con
    model = WalletTokenRecommender().fit_lake(lake)
    user, chain = con.sql("SELECT user_id, chain FROM chain_transfers WHERE asset = 'USDT' AND chain = 'ethereum' "
                          "AND status = 'completed' ORDER BY transfer_id LIMIT 1").fetchall()[0]
    moved = {t for (t,) in con.sql(
        "SELECT DISTINCT token_address FROM eth_token_transfers WHERE from_address IN (SELECT address FROM "
        "chain_transfers WHERE user_id = $u) OR to_address IN (SELECT address FROM chain_transfers WHERE "
        "user_id = $u)", params={"u": user}).fetchall()}
    assert moved  # the user's wallet moved USDT on ethereum
    offered = model.recommend_user(lake, user, k=3)
    assert len(offered) <= 3 and not moved & {t for t, _ in offered}
    assert not [t for t, _ in offered if not t.startswith("0x")]  # nothing from Tron for an Ethereum user
    assert chain == "ethereum"
