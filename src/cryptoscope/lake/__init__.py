"""The embedded lake: Parquet tables under one folder, committed atomically through a catalog.

>>> from cryptoscope.lake import Lake
>>> lake = Lake("./demo-lake")            # doctest: +SKIP
>>> with lake.transaction() as tx:        # doctest: +SKIP
...     tx.append("payments", arrow_table)
"""

from cryptoscope.lake.catalog import Catalog, FileEntry
from cryptoscope.lake.engine import connect
from cryptoscope.lake.store import Lake, TableStatus, Transaction

__all__ = ["Catalog", "FileEntry", "Lake", "TableStatus", "Transaction", "connect"]
