"""What users look at and do with products: coins, earn products, futures, articles."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

PRODUCT_EVENTS = Table(
    name="product_events",
    domain="product events",
    doc="Views, clicks, subscriptions and trades on the exchange's products.",
    columns=(
        col("event_id", INT, "Event id."),
        col("user_id", INT, "Account."),
        event_time(),
        col("product_type", S, "coin, earn, futures or article."),
        col("product_id", S, "Product id, e.g. SOL, earn-usdt-30d, BTC-PERP, art-0042."),
        col("action", S, "view, click, subscribe or trade."),
        col("amount_usd", F, "Amount for subscribe and trade actions.", nullable=True),
        col("surface", S, "Where it happened: home, search, markets, recommendation, push."),
    ),
    primary_key=("event_id",),
)

TABLES = (PRODUCT_EVENTS,)
