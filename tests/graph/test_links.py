"""The graph's lake reads: the same rows as the DuckDB SQL they replaced, and the same on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

from cryptoscope.features import engines
from cryptoscope.graph.links import known_bad_users, read_links, signup_times
from cryptoscope.graph.pipeline import lake_end
from cryptoscope.lake import Lake, connect
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.world import SimSummary, simulate

# pyspark 4.0 and ibis 12 still call pandas APIs that pandas 3 deprecates: noise, not our code
pytestmark = [pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
              pytest.mark.filterwarnings("ignore:The 'future.infer_string' option is deprecated")]

#: The DuckDB SQL `read_links` ran before it became an Ibis expression: the reference it must still match.
_SQL = {
    "device": ("SELECT user_id, device_id AS entity, event_time FROM sessions",
               "SELECT user_id, signup_device_id AS entity, event_time FROM accounts",
               "SELECT user_id, device_id AS entity, event_time FROM payments",
               "SELECT user_id, device_id AS entity, event_time FROM account_changes"),
    "ip": ("SELECT user_id, ip AS entity, event_time FROM sessions",
           "SELECT user_id, signup_ip AS entity, event_time FROM accounts",
           "SELECT user_id, ip AS entity, event_time FROM payments"),
    "card": ("SELECT user_id, instrument_hash AS entity, event_time FROM payments WHERE method = 'card'",),
    "bank": ("SELECT user_id, instrument_hash AS entity, event_time FROM payments WHERE method <> 'card'",),
    "address": ("SELECT user_id, address AS entity, event_time FROM chain_transfers",),
    "document": ("SELECT user_id, document_hash AS entity, event_time FROM kyc_submissions",
                 "SELECT user_id, 'selfie:' || selfie_hash AS entity, event_time FROM kyc_submissions"),
    "referrer": ("SELECT user_id, 'ref:' || CAST(referrer_user_id AS VARCHAR) AS entity, event_time FROM accounts "
                 "WHERE referrer_user_id IS NOT NULL",
                 "SELECT referrer_user_id AS user_id, 'ref:' || CAST(referrer_user_id AS VARCHAR) AS entity, "
                 "min(event_time) AS event_time FROM accounts WHERE referrer_user_id IS NOT NULL "
                 "GROUP BY referrer_user_id"),
}


def _reference_links(con: Any, cutoff: dt.datetime, window_s: int) -> pd.DataFrame:
    queries = []
    for kind, parts in _SQL.items():
        entity = f"entity || '@' || CAST(floor(epoch(event_time) / {window_s}) AS BIGINT)" if kind == "ip" else "entity"
        queries.append(
            f"SELECT CAST(user_id AS BIGINT) AS user_id, '{kind}' AS kind, '{kind}:' || {entity} AS entity, "
            f"min(event_time) AS first_seen, count(*) AS events FROM ({' UNION ALL '.join(parts)}) "
            f"WHERE entity IS NOT NULL AND user_id IS NOT NULL AND event_time < TIMESTAMPTZ '{cutoff.isoformat()}' "
            "GROUP BY ALL")
    frame: pd.DataFrame = con.sql(" UNION ALL ".join(f"({q})" for q in queries)).df()
    frame["events"] = frame["events"].astype("int64")
    return frame.sort_values(["kind", "entity", "user_id"], kind="stable").reset_index(drop=True)


def test_links_seeds_and_signups_are_the_rows_the_sql_read(small_world: tuple[Lake, SimConfig, SimSummary]) -> None:
    lake, cfg, _ = small_world
    backend = connect(lake)
    cut = cfg.start + dt.timedelta(days=60, microseconds=1)
    for window in (dt.timedelta(days=7), dt.timedelta(hours=6)):
        got = read_links(backend, cut, ip_window=window)
        pd.testing.assert_frame_equal(got, _reference_links(backend.con, cut, int(window.total_seconds())))
    assert set(got["kind"]) == set(_SQL)
    where = f"event_time < TIMESTAMPTZ '{cut.isoformat()}'"
    bad = backend.con.sql(f"SELECT DISTINCT user_id FROM labels WHERE label = 1 AND user_id IS NOT NULL AND {where}")
    assert known_bad_users(backend, cut) == {int(u) for (u,) in bad.fetchall()} != set()
    opened = backend.con.sql(f"SELECT user_id, event_time FROM accounts WHERE {where}").df()
    assert signup_times(backend, cut).sort_index().to_dict() == opened.set_index("user_id")["event_time"].to_dict()
    [(last,)] = backend.con.sql("SELECT max(event_time) FROM (SELECT event_time FROM sessions UNION ALL "
                                "SELECT event_time FROM payments UNION ALL SELECT event_time FROM chain_transfers)"
                                ).fetchall()
    assert lake_end(backend) == last + dt.timedelta(microseconds=1)


@pytest.mark.slow
def test_links_seeds_and_signups_are_the_same_on_duckdb_and_spark(tmp_path: Any, spark_session: Any) -> None:
    lake = Lake(tmp_path / "lake")
    simulate(SimConfig(users=400, days=14, seed=3, fraud_scale=3.0), lake)
    out = {}
    for name in ("duckdb", "spark"):
        backend = engines.connect(lake, name)
        end = lake_end(backend)
        cut = end - dt.timedelta(days=3)
        out[name] = (end, read_links(backend, cut), read_links(backend, ip_window=dt.timedelta(hours=6)),
                     known_bad_users(backend), signup_times(backend, cut).sort_index())
    duck, spark = out["duckdb"], out["spark"]
    assert duck[0] == spark[0] and duck[3] == spark[3]
    assert len(duck[1]) > 1000 and set(duck[1]["kind"]) >= {"device", "ip", "card", "document", "referrer"}
    for a, b in ((duck[1], spark[1]), (duck[2], spark[2])):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(duck[4], spark[4])
