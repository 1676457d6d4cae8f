"""Per-address behaviour on an account chain, in the spirit of the Ethereum fraud dataset's columns.

Computed from `eth_transactions` and `eth_token_transfers` alone (never from labels), so the same
features describe real ethereum-etl exports and the simulated world.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from cryptoscope.chain.backend import Source, backend_of, lake_table
from cryptoscope.chain.planted import planted_paths

FEATURES = ("sent_tx", "received_tx", "unique_sent_to", "unique_received_from", "log_total_sent",
            "log_total_received", "log_max_sent", "log_max_received", "avg_min_between_sent",
            "avg_min_between_received", "active_minutes", "token_share")


def moves() -> ir.Table:
    """Each payment seen from both ends: chain, address, other, side, v (amount), minute, token (0 or 1)."""
    tx = lake_table("eth_transactions")
    tx = tx.filter(tx.to_address.notnull())
    tok = lake_table("eth_token_transfers")
    ends = (("from_address", "to_address", "sent"), ("to_address", "from_address", "received"))
    parts = [_side(t, me, other, side, token) for t, token in ((tx, 0), (tok, 1)) for me, other, side in ends]
    return parts[0].union(*parts[1:], distinct=False)


def _side(table: ir.Table, me: str, other: str, side: str, token: int) -> ir.Table:
    return table.select("chain", address=table[me], other=table[other], side=ibis.literal(side),
                        v=table.value.try_cast("float64"), minute=table.event_time.epoch_seconds() / 60,
                        token=ibis.literal(token, "int32"))


def features_of(moved: ir.Table) -> ir.Table:
    """FEATURES and first_minute per (chain, address) of a `moves` table."""
    sent, received = moved.side == "sent", moved.side == "received"
    n_sent, n_received = moved.count(where=sent), moved.count(where=received)
    span_sent = moved.minute.max(where=sent) - moved.minute.min(where=sent)
    span_received = moved.minute.max(where=received) - moved.minute.min(where=received)
    return moved.group_by(["chain", "address"]).aggregate(
        sent_tx=n_sent, received_tx=n_received,
        unique_sent_to=moved.other.nunique(where=sent), unique_received_from=moved.other.nunique(where=received),
        log_total_sent=(1 + moved.v.sum(where=sent).coalesce(0)).ln(),
        log_total_received=(1 + moved.v.sum(where=received).coalesce(0)).ln(),
        log_max_sent=(1 + moved.v.max(where=sent).coalesce(0)).ln(),
        log_max_received=(1 + moved.v.max(where=received).coalesce(0)).ln(),
        avg_min_between_sent=(span_sent / (n_sent - 1).nullif(0)).coalesce(0),
        avg_min_between_received=(span_received / (n_received - 1).nullif(0)).coalesce(0),
        active_minutes=moved.minute.max() - moved.minute.min(), token_share=moved.token.mean(),
        first_minute=moved.minute.min())


def address_features(source: Source, targets: pd.DataFrame) -> pd.DataFrame:
    """One row per (chain, address) of ``targets`` that moved funds: the FEATURES plus first_minute."""
    backend = backend_of(source)
    wanted = ibis.memtable(targets[["chain", "address"]].drop_duplicates())
    moved = moves()
    return backend.to_pandas(features_of(moved.semi_join(wanted, ["chain", "address"])))


def simulated_accounts(source: Source) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Counterparties of the exchange's account-chain transfers, labelled illicit-linked from ground truth.

    Returns (features, labels, address groups, True where first seen in the later third of the window).
    """
    backend = backend_of(source)
    truth = planted_paths()
    transfers = lake_table("chain_transfers")
    transfers = transfers.filter(transfers.chain.isin(lake_table("eth_transactions").chain))
    joined = transfers.left_join(truth, ["user_id", "event_time", "direction"])
    targets = backend.to_pandas(joined.group_by(["chain", "address"]).aggregate(
        illicit=joined.user_id_right.notnull().max().cast("int32")))
    feats = address_features(backend, targets).merge(targets, on=["chain", "address"])
    x = feats[list(FEATURES)].astype(float)
    x["is_ethereum"] = (feats["chain"] == "ethereum").astype(float)
    first = feats["first_minute"].to_numpy()
    cut = np.nanmin(first) + (np.nanmax(first) - np.nanmin(first)) * 2 / 3
    return x, feats["illicit"].to_numpy().astype(int), feats["address"].to_numpy(), first > cut
