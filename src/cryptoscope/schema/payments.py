"""Fiat money in and out: cards, bank transfers and P2P."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

PAYMENTS = Table(
    name="payments",
    domain="payments",
    doc="Fiat deposits and withdrawals by card, bank transfer or P2P.",
    columns=(
        col("payment_id", INT, "Payment id."),
        col("user_id", INT, "Account that paid or was paid."),
        event_time("When the payment was requested (UTC)."),
        col("direction", S, "deposit or withdrawal."),
        col("method", S, "card, bank_transfer or p2p."),
        col("instrument_hash", S, "Hash of the card number, IBAN or P2P handle."),
        col("instrument_country", S, "Country that issued the card or holds the account."),
        col("currency", S, "ISO-4217 currency of the amount."),
        col("amount", F, "Amount in the payment currency."),
        col("amount_usd", F, "Amount in US dollars at the event time."),
        col("status", S, "completed, declined, pending or reversed."),
        col("decline_reason", S, "Issuer or rule decline reason, if declined.", nullable=True),
        col("device_id", S, "Device the payment was requested from."),
        col("ip", S, "IP address the payment was requested from."),
        col("merchant_id", S, "Card acceptor or terminal id for card payments made at a merchant (card-network "
            "exports); null for deposits to the exchange.", nullable=True),
    ),
    primary_key=("payment_id",),
    non_negative=("amount", "amount_usd"),
)

TABLES = (PAYMENTS,)
