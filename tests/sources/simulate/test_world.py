"""The simulated world: every typology present, labelled late and incompletely, deterministic."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.population import KINDS, build_population
from cryptoscope.sources.simulate.settings import settings_table
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.world import SIMULATED_TABLES, SimSummary, simulate

World = tuple[Lake, SimConfig, SimSummary]


def sql(lake: Lake, query: str) -> list[tuple]:
    return connect(lake).con.execute(query).fetchall()  # type: ignore[no-any-return]


@pytest.mark.parametrize("table", SIMULATED_TABLES)
def test_every_table_is_written_with_unique_keys(small_world: World, table: str) -> None:
    from cryptoscope.schema import get_table

    lake, _, summary = small_world
    assert summary.rows[table] > 0
    key = ", ".join(get_table(table).primary_key)
    dupes = sql(lake, f"SELECT count(*) FROM (SELECT {key} FROM {table} GROUP BY {key} HAVING count(*) > 1)")
    assert dupes == [(0,)]


TYPOLOGIES = ["synthetic_identity", "account_takeover", "card_fraud", "friendly_fraud", "multi_accounting",
              "wash_trading", "spoofing", "pump_and_dump", "loan_default", "illicit_deposit_0hop",
              "illicit_deposit_1hop", "illicit_deposit_2hop", "illicit_deposit_3hop", "illicit_withdrawal_0hop"]


@pytest.mark.parametrize("typology", TYPOLOGIES)
def test_every_typology_is_present_in_ground_truth(small_world: World, typology: str) -> None:
    (count,) = sql(small_world[0], f"SELECT count(*) FROM ground_truth WHERE typology = '{typology}'")[0]
    assert count > 0


def test_mules_include_structuring(small_world: World) -> None:
    rows = dict(sql(small_world[0], "SELECT typology, count(*) FROM ground_truth WHERE typology LIKE 'money_mule%' "
                                    "GROUP BY 1"))
    assert rows.get("money_mule", 0) > 0 and rows.get("money_mule_structuring", 0) > 0
    (under,) = sql(small_world[0], """
        SELECT avg((p.amount_usd BETWEEN 9000 AND 10000)::INT) FROM payments p
        JOIN ground_truth g ON g.user_id = p.user_id AND g.typology = 'money_mule_structuring'
        WHERE p.direction = 'deposit'""")[0]
    assert under > 0.5  # the rest are the mule's own, ordinary deposits


# label type -> (shortest, longest) delay in days between the decision and learning of it
DELAYS = {"card_fraud": (7, 56), "account_takeover": (0.5, 14), "money_mule": (14, 90),
          "kyc_fraud": (7, 60), "multi_accounting": (10, 60), "wash_trading": (3, 30), "spoofing": (2, 20),
          "pump_and_dump": (2, 20), "illicit_exposure": (1, 400), "loan_default": (0, 400)}


@pytest.mark.parametrize(("label_type", "bounds"), DELAYS.items())
def test_labels_arrive_late_within_the_typology_delay(small_world: World, label_type: str,
                                                      bounds: tuple[float, float]) -> None:
    rows = sql(small_world[0], f"""
        SELECT count(*), min(epoch(event_time) - epoch(decision_time)) / 86400,
               max(epoch(event_time) - epoch(decision_time)) / 86400
        FROM labels WHERE label_type = '{label_type}'""")
    count, lo, hi = rows[0]
    assert count > 0
    assert bounds[0] - 0.01 <= lo and hi <= bounds[1] + 0.01


def test_labels_are_never_known_after_the_world_ends(small_world: World) -> None:
    lake, cfg, _ = small_world
    (late,) = sql(lake, f"SELECT count(*) FROM labels WHERE epoch_us(event_time) >= {cfg.t1}")[0]
    assert late == 0


def test_not_every_fraud_is_labelled(small_world: World) -> None:
    rows = dict(sql(small_world[0], "SELECT typology, avg(labelled::INT) FROM ground_truth GROUP BY 1"))
    assert 0.2 < rows["multi_accounting"] < 1.0 or 0.2 < rows["money_mule"] < 1.0
    assert rows["account_takeover"] < 1.0


def test_chargebacks_point_at_real_payments(small_world: World) -> None:
    (orphans,) = sql(small_world[0], """
        SELECT count(*) FROM labels l LEFT JOIN payments p ON l.entity_id = p.payment_id::VARCHAR
        WHERE l.label_type = 'card_fraud' AND p.payment_id IS NULL""")[0]
    assert orphans == 0


def test_trades_reference_orders_of_both_sides(small_world: World) -> None:
    (bad,) = sql(small_world[0], """
        SELECT count(*) FROM trades t
        LEFT JOIN orders b ON b.order_id = t.buy_order_id AND b.user_id = t.buyer_user_id AND b.side = 'buy'
        LEFT JOIN orders s ON s.order_id = t.sell_order_id AND s.user_id = t.seller_user_id AND s.side = 'sell'
        WHERE b.order_id IS NULL OR s.order_id IS NULL""")[0]
    assert bad == 0


def test_card_testers_decline_far_more_than_everyone_else(small_world: World) -> None:
    rows = dict(sql(small_world[0], """
        SELECT g.user_id IS NOT NULL, avg((status = 'declined')::INT) FROM payments p
        LEFT JOIN (SELECT DISTINCT user_id FROM ground_truth WHERE typology = 'card_fraud') g USING (user_id)
        WHERE method = 'card' GROUP BY 1"""))
    assert rows[True] > 0.4 > 0.1 > rows[False] > 0.0  # honest users are declined too, just less


def test_takeover_starts_from_a_device_the_victim_never_used(small_world: World) -> None:
    (share,) = sql(small_world[0], """
        WITH ato AS (SELECT user_id, event_time AS t FROM ground_truth WHERE typology = 'account_takeover'),
        first_login AS (SELECT s.user_id, s.device_id, s.event_time FROM sessions s JOIN ato USING (user_id)
                        WHERE s.event_time = ato.t AND s.success)
        SELECT avg((NOT EXISTS (SELECT 1 FROM sessions o WHERE o.user_id = f.user_id AND o.device_id = f.device_id
                                AND o.event_time < f.event_time - INTERVAL 1 HOUR))::INT) FROM first_login f""")[0]
    assert share > 0.95


def test_travellers_trip_the_new_country_rule_too(small_world: World) -> None:
    """A weak signal by design: many honest logins come from abroad."""
    (honest_abroad,) = sql(small_world[0], """
        SELECT count(DISTINCT s.user_id) FROM sessions s JOIN accounts a USING (user_id)
        WHERE s.ip_country <> a.country AND s.user_id NOT IN (SELECT user_id FROM ground_truth)""")[0]
    assert honest_abroad > 50


def test_ring_members_share_devices(small_world: World) -> None:
    (shared,) = sql(small_world[0], """
        WITH ring AS (SELECT user_id, group_id FROM ground_truth WHERE typology = 'multi_accounting')
        SELECT avg(n) FROM (SELECT r.group_id, s.device_id, count(DISTINCT s.user_id) AS n FROM sessions s
                            JOIN ring r USING (user_id) GROUP BY 1, 2) WHERE n > 1""")[0]
    assert shared is not None and shared >= 2


def test_wash_trades_stay_inside_the_group(small_world: World) -> None:
    (inside,) = sql(small_world[0], """
        WITH g AS (SELECT user_id, group_id FROM ground_truth WHERE typology = 'wash_trading')
        SELECT count(*) FROM trades t JOIN g b ON b.user_id = t.buyer_user_id
        JOIN g s ON s.user_id = t.seller_user_id AND s.group_id = b.group_id""")[0]
    assert inside >= 10


def test_spoof_orders_are_large_and_cancelled_within_seconds(small_world: World) -> None:
    (fast,) = sql(small_world[0], """
        SELECT avg((epoch(cancel_time) - epoch(o.event_time) < 10)::INT) FROM orders o
        JOIN ground_truth g ON g.user_id = o.user_id AND g.typology = 'spoofing'
        WHERE o.status = 'cancelled' AND o.event_time BETWEEN g.event_time AND g.end_time""")[0]
    assert fast > 0.8


def test_market_makers_also_cancel_fast_a_false_positive_for_naive_rules(small_world: World) -> None:
    (mm_fast,) = sql(small_world[0], """
        SELECT avg((epoch(cancel_time) - epoch(o.event_time) < 10)::INT) FROM orders o
        JOIN accounts a USING (user_id) WHERE a.segment = 'institutional' AND o.status = 'cancelled'""")[0]
    assert mm_fast > 0.5


def test_illicit_deposits_can_be_traced_hop_by_hop(small_world: World) -> None:
    """Two-hop deposits: the sender received from an address that received from a labelled one."""
    (traced,) = sql(small_world[0], """
        WITH moves AS (SELECT from_address AS src, to_address AS dst FROM eth_transactions
                       WHERE value <> '0' UNION ALL SELECT from_address, to_address FROM eth_token_transfers
                       UNION ALL SELECT i.address, o.address FROM chain_inputs i JOIN chain_outputs o
                       ON o.txid = i.txid AND o.output_index = 0),
        deposits AS (SELECT c.address FROM chain_transfers c JOIN ground_truth g ON g.user_id = c.user_id
                     AND g.typology = 'illicit_deposit_2hop' AND c.direction = 'deposit'
                     AND c.event_time = g.event_time)
        SELECT count(*) FROM deposits d JOIN moves m1 ON m1.dst = d.address JOIN moves m2 ON m2.dst = m1.src
        JOIN address_labels l ON l.address = m2.src""")[0]
    assert traced > 0


def test_loan_defaults_follow_leverage(small_world: World) -> None:
    rows = dict(sql(small_world[0], """SELECT leverage >= 5, avg((outcome = 'defaulted')::INT) FROM loans
                                       WHERE outcome <> 'open' GROUP BY 1"""))
    assert rows[True] > rows[False]


def test_tickets_follow_experience_and_slow_resolution_hurts(small_world: World) -> None:
    rows = sql(small_world[0], """SELECT resolution_hours > 48, avg(csat) FROM tickets WHERE csat IS NOT NULL
                                  GROUP BY 1 ORDER BY 1""")
    assert rows[0][1] > rows[1][1]
    (kyc,) = sql(small_world[0], """
        SELECT count(*) FROM tickets t JOIN kyc_submissions k ON k.user_id = t.user_id AND k.decision = 'rejected'
        WHERE t.category = 'verification'""")[0]
    assert kyc > 0


def _fingerprint(lake: Lake) -> str:
    con = connect(lake).con  # views over exactly the committed files; a table may be empty in a tiny world
    digest = hashlib.sha256()
    for table in SIMULATED_TABLES:
        rows = con.execute(f'SELECT * FROM "{table}" ORDER BY ALL').fetchall()
        digest.update(f"{table}:{rows!r}".encode())
    return digest.hexdigest()


def test_same_seed_same_world_other_seed_other_world(tmp_path: Path) -> None:
    cfg = SimConfig(users=600, days=14, seed=3, chunk_users=300)
    a, b, c = Lake(tmp_path / "a"), Lake(tmp_path / "b"), Lake(tmp_path / "c")
    simulate(cfg, a)
    simulate(cfg, b)
    simulate(SimConfig(users=600, days=14, seed=4, chunk_users=300), c)
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_simulating_again_replaces_the_world(tmp_path: Path) -> None:
    cfg = SimConfig(users=300, days=7, seed=5)
    lake = Lake(tmp_path / "lake")
    first = simulate(cfg, lake)
    simulate(cfg, lake)
    assert {s.name: s.rows for s in lake.status()} == first.rows
    assert first.rows["simulation_runs"] == 1 and first.rows["user_kinds"] == cfg.users


def test_the_settings_row_makes_the_same_world_again(small_world: World) -> None:
    lake, cfg, _ = small_world
    rows = connect(lake).table("simulation_runs").to_pyarrow().to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert (row["seed"], row["users"], row["days"], row["chunk_users"], row["fraud_scale"]) == (
        cfg.seed, cfg.users, cfg.days, cfg.chunk_users, cfg.fraud_scale)
    assert (row["event_time"], row["end_time"]) == (cfg.start, cfg.start + dt.timedelta(days=cfg.days))
    assert json.loads(row["typology_rates"]) == PREVALENCE
    assert row["run_id"] == settings_table(cfg)["run_id"][0].as_py()


def test_user_kinds_are_the_kinds_the_population_drew(small_world: World) -> None:
    lake, cfg, _ = small_world
    kinds = connect(lake).table("user_kinds").order_by("user_id").to_pyarrow()
    accounts = connect(lake).table("accounts").select("user_id").order_by("user_id").to_pyarrow()
    assert kinds["user_id"].equals(accounts["user_id"])
    pop = build_population(np.random.default_rng([cfg.seed, 0]), cfg, 0, cfg.chunk_users)  # chunk 0, replayed
    assert kinds["kind"].to_pylist()[:cfg.chunk_users] == [KINDS[k] for k in pop.kind]


def test_every_product_users_touch_is_in_the_catalogue_but_the_signup_promotion(small_world: World) -> None:
    unknown = sql(small_world[0], """SELECT DISTINCT product_id FROM product_events
        WHERE product_id NOT IN (SELECT product_id FROM product_catalog)""")
    assert unknown == [("promo-welcome-bonus",)]  # claimed by bonus-abuse rings, never offered or recommended
    assert sql(small_world[0], "SELECT count(DISTINCT product_type) FROM product_catalog") == [(4,)]
