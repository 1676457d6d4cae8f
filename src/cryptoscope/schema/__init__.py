"""The canonical tables: the contract between every source, the lake and every product.

>>> from cryptoscope.schema import get_table
>>> get_table("payments").primary_key
('payment_id',)
"""

from cryptoscope.errors import UnknownTableError
from cryptoscope.schema import (
    accounts,
    address_labels,
    chain_transfers,
    feedback,
    labels,
    loans,
    payments,
    product_events,
    public_chain,
    scores,
    sessions,
    simulation,
    trading,
)
from cryptoscope.schema._table import TIMESTAMP, Column, Table
from cryptoscope.schema.address_labels import ILLICIT_CATEGORIES
from cryptoscope.schema.labels import LABEL_TYPES

_MODULES = (accounts, sessions, payments, chain_transfers, trading, loans, product_events, feedback,
            public_chain, address_labels, labels, simulation, scores)

#: Every canonical table by name, in the order the docs list them.
TABLES: dict[str, Table] = {t.name: t for m in _MODULES for t in m.TABLES}

#: tables the platform writes itself (scores, decisions); everything else comes from sources
OUTPUT_TABLES: frozenset[str] = frozenset(t.name for t in scores.TABLES)


def get_table(name: str) -> Table:
    """The table called ``name``; a clear error listing the known names otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLES)
        raise UnknownTableError(f"unknown table {name!r}; known tables: {known}") from None


__all__ = ["ILLICIT_CATEGORIES", "LABEL_TYPES", "OUTPUT_TABLES", "TABLES", "TIMESTAMP", "Column", "Table", "get_table"]
