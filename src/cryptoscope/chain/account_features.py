"""Per-address behaviour on an account chain, in the spirit of the Ethereum fraud dataset's columns.

Computed from `eth_transactions` and `eth_token_transfers` alone (never from labels), so the same
features describe real ethereum-etl exports and the simulated world.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from cryptoscope.chain.flows import lake_sql, lake_sql_with

_FEATURES_SQL = """
WITH moves AS (
  SELECT chain, from_address AS address, to_address AS other, 'sent' AS side, TRY_CAST(value AS DOUBLE) AS v,
         epoch(event_time) / 60 AS minute, 0 AS token FROM eth_transactions WHERE to_address IS NOT NULL
  UNION ALL SELECT chain, to_address, from_address, 'received', TRY_CAST(value AS DOUBLE), epoch(event_time) / 60, 0
  FROM eth_transactions WHERE to_address IS NOT NULL
  UNION ALL SELECT chain, from_address, to_address, 'sent', TRY_CAST(value AS DOUBLE), epoch(event_time) / 60, 1
  FROM eth_token_transfers
  UNION ALL SELECT chain, to_address, from_address, 'received', TRY_CAST(value AS DOUBLE), epoch(event_time) / 60, 1
  FROM eth_token_transfers),
wanted AS (SELECT * FROM moves WHERE (chain, address) IN (SELECT chain, address FROM targets))
SELECT chain, address,
  count(*) FILTER (WHERE side = 'sent') AS sent_tx, count(*) FILTER (WHERE side = 'received') AS received_tx,
  count(DISTINCT other) FILTER (WHERE side = 'sent') AS unique_sent_to,
  count(DISTINCT other) FILTER (WHERE side = 'received') AS unique_received_from,
  ln(1 + coalesce(sum(v) FILTER (WHERE side = 'sent'), 0)) AS log_total_sent,
  ln(1 + coalesce(sum(v) FILTER (WHERE side = 'received'), 0)) AS log_total_received,
  ln(1 + coalesce(max(v) FILTER (WHERE side = 'sent'), 0)) AS log_max_sent,
  ln(1 + coalesce(max(v) FILTER (WHERE side = 'received'), 0)) AS log_max_received,
  coalesce((max(minute) FILTER (WHERE side = 'sent') - min(minute) FILTER (WHERE side = 'sent'))
           / nullif(count(*) FILTER (WHERE side = 'sent') - 1, 0), 0) AS avg_min_between_sent,
  coalesce((max(minute) FILTER (WHERE side = 'received') - min(minute) FILTER (WHERE side = 'received'))
           / nullif(count(*) FILTER (WHERE side = 'received') - 1, 0), 0) AS avg_min_between_received,
  max(minute) - min(minute) AS active_minutes,
  avg(token) AS token_share,
  min(minute) AS first_minute
FROM wanted GROUP BY chain, address
"""

FEATURES = ("sent_tx", "received_tx", "unique_sent_to", "unique_received_from", "log_total_sent",
            "log_total_received", "log_max_sent", "log_max_received", "avg_min_between_sent",
            "avg_min_between_received", "active_minutes", "token_share")


def address_features(lake: str | os.PathLike[str], targets: pd.DataFrame) -> pd.DataFrame:
    """One row per (chain, address) of ``targets`` that moved funds: the FEATURES plus first_minute."""
    with lake_sql_with(lake, targets=targets[["chain", "address"]].drop_duplicates()) as con:
        return con.sql(_FEATURES_SQL).to_df()


def simulated_accounts(lake: str | os.PathLike[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Counterparties of the exchange's account-chain transfers, labelled illicit-linked from ground truth.

    Returns (features, labels, address groups, True where first seen in the later third of the window).
    """
    con = lake_sql(lake)
    targets = con.sql("""
        WITH truth AS (SELECT user_id, event_time, split_part(typology, '_', 2) AS direction FROM ground_truth
                       WHERE typology LIKE 'illicit_%hop')
        SELECT c.chain, c.address, max(t.user_id IS NOT NULL)::INT AS illicit
        FROM chain_transfers c LEFT JOIN truth t
          ON c.user_id = t.user_id AND c.event_time = t.event_time AND c.direction = t.direction
        WHERE c.chain IN (SELECT DISTINCT chain FROM eth_transactions) GROUP BY ALL""").to_df()
    feats = address_features(lake, targets).merge(targets, on=["chain", "address"])
    x = feats[list(FEATURES)].astype(float)
    x["is_ethereum"] = (feats["chain"] == "ethereum").astype(float)
    first = feats["first_minute"].to_numpy()
    cut = np.nanmin(first) + (np.nanmax(first) - np.nanmin(first)) * 2 / 3
    return x, feats["illicit"].to_numpy().astype(int), feats["address"].to_numpy(), first > cut
