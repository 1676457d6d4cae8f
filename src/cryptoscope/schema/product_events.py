"""The exchange's products (coins, earn products, futures, articles) and what users do with them."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

PRODUCT_CATALOG = Table(
    name="product_catalog",
    domain="product events",
    doc="The exchange's product list: one row per product it offers, with its risk and where it may not be sold.",
    columns=(
        col("product_id", S, "Product id, as product_events.product_id: SOL, earn-usdt-30d, BTC-PERP, art-0042."),
        event_time("When the product was listed (UTC)."),
        col("product_type", S, "coin, earn, futures or article."),
        col("risk_level", INT, "1 = capital-safe ... 5 = can lose everything fast."),
        col("underlying", S, "The coin whose price the product follows; null when none (articles, pools).",
            nullable=True),
        col("display_order", INT, "Position in the exchange's product list (0 first)."),
        col("restricted_countries", S, "Space-separated ISO-3166 alpha-2 countries where it may not be offered; "
            "null when offered everywhere.", nullable=True),
    ),
    primary_key=("product_id",),
)

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

TABLES = (PRODUCT_CATALOG, PRODUCT_EVENTS)
