"""Crypto deposits to and withdrawals from the exchange, as they appear on chain."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

CHAIN_TRANSFERS = Table(
    name="chain_transfers",
    domain="chain transfers",
    doc="On-chain deposits to and withdrawals from users' exchange wallets.",
    columns=(
        col("transfer_id", INT, "Transfer id."),
        col("user_id", INT, "Account credited or debited."),
        event_time("When the exchange saw the transfer (UTC)."),
        col("direction", S, "deposit or withdrawal."),
        col("chain", S, "bitcoin, ethereum or tron."),
        col("asset", S, "Asset symbol, e.g. BTC, ETH, USDT."),
        col("address", S, "Counterparty address: the sender of a deposit, the receiver of a withdrawal."),
        col("exchange_address", S, "The exchange's own address used (deposit or hot wallet)."),
        col("tx_hash", S, "Transaction hash on chain."),
        col("amount", F, "Amount in the asset."),
        col("amount_usd", F, "Amount in US dollars at the event time."),
        col("fee", F, "Network fee paid, in the asset."),
        col("status", S, "completed, pending, rejected or held."),
    ),
    primary_key=("transfer_id",),
    non_negative=("amount", "amount_usd", "fee"),
)

TABLES = (CHAIN_TRANSFERS,)
