"""What is known about addresses: sanctioned, mixer, scam, darknet, exchange, ..."""

import pyarrow as pa

from cryptoscope.schema._table import Table, col, event_time

S = pa.string()

#: Categories that count as illicit when tracing exposure.
ILLICIT_CATEGORIES = ("sanctioned", "mixer", "scam", "darknet", "ransomware", "phishing", "stolen_funds")

ADDRESS_LABELS = Table(
    name="address_labels",
    domain="address labels",
    doc="Labels attached to chain addresses by a source (a list, an investigation, a vendor).",
    columns=(
        col("chain", S, "Chain name."),
        col("address", S, "Address as the chain writes it (lower-case hex for account chains)."),
        event_time("When the label was published or learned (UTC)."),
        col("category", S, "sanctioned, mixer, scam, darknet, ransomware, phishing, stolen_funds, exchange, "
            "defi, gambling or other."),
        col("name", S, "Entity name, if known.", nullable=True),
        col("source", S, "Where the label comes from."),
    ),
    primary_key=("chain", "address", "category", "source"),
)

TABLES = (ADDRESS_LABELS,)
