"""The order book's inputs and outputs: orders placed and trades matched."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F, B = pa.string(), pa.int64(), pa.float64(), pa.bool_()

ORDERS = Table(
    name="orders",
    domain="orders & trades",
    doc="Every order placed on the spot book.",
    columns=(
        col("order_id", INT, "Order id."),
        col("user_id", INT, "Account that placed the order."),
        event_time("When the order was placed (UTC)."),
        col("symbol", S, "Market, e.g. BTC-USDT."),
        col("side", S, "buy or sell."),
        col("order_type", S, "limit or market."),
        col("price", F, "Limit price (the mark price for market orders), in quote currency."),
        col("quantity", F, "Quantity in base currency."),
        col("filled_quantity", F, "Quantity that traded."),
        col("status", S, "filled, partially_filled, cancelled or open."),
        col("cancel_time", TIMESTAMP, "When the order was cancelled, if it was.", nullable=True),
    ),
    primary_key=("order_id",),
    non_negative=("price", "quantity", "filled_quantity"),
)

TRADES = Table(
    name="trades",
    domain="orders & trades",
    doc="Every match between two orders.",
    columns=(
        col("trade_id", INT, "Trade id."),
        event_time("When the trade matched (UTC)."),
        col("symbol", S, "Market, e.g. BTC-USDT."),
        col("price", F, "Trade price in quote currency."),
        col("quantity", F, "Quantity in base currency."),
        col("amount_usd", F, "Notional in US dollars."),
        col("buyer_user_id", INT, "Account on the buy side."),
        col("seller_user_id", INT, "Account on the sell side."),
        col("buy_order_id", INT, "Order on the buy side."),
        col("sell_order_id", INT, "Order on the sell side."),
        col("aggressor_side", S, "Side of the order that took liquidity: buy or sell."),
    ),
    primary_key=("trade_id",),
    non_negative=("price", "quantity", "amount_usd"),
)

TABLES = (ORDERS, TRADES)
