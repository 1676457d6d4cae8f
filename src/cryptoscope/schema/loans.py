"""Margin and crypto-backed loans and how they ended."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

LOANS = Table(
    name="loans",
    domain="loans",
    doc="Margin and crypto-backed loans, one row per loan with its outcome.",
    columns=(
        col("loan_id", INT, "Loan id."),
        col("user_id", INT, "Borrower."),
        event_time("When the loan was opened (UTC)."),
        col("product", S, "margin or crypto_loan."),
        col("collateral_asset", S, "Asset pledged."),
        col("principal_usd", F, "Amount borrowed in US dollars."),
        col("collateral_usd", F, "Collateral value at opening in US dollars."),
        col("ltv", F, "Loan-to-value at opening (principal / collateral)."),
        col("leverage", F, "Position leverage (1 for plain loans)."),
        col("term_days", INT, "Agreed term in days."),
        col("interest_rate", F, "Annual interest rate."),
        col("outcome", S, "open, repaid, liquidated or defaulted."),
        col("outcome_time", TIMESTAMP, "When the outcome was reached (UTC).", nullable=True),
    ),
    primary_key=("loan_id",),
    non_negative=("principal_usd", "collateral_usd", "ltv", "leverage", "term_days"),
)

TABLES = (LOANS,)
