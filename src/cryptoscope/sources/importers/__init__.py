"""Importers for real exports: CSV, Parquet and vendor files, validated, then loaded in one transaction.

>>> from cryptoscope.sources.importers import ingest_files
>>> result = ingest_files("./demo-lake", "payments", ["payments.csv"])   # doctest: +SKIP
>>> result.rows_added                                                     # doctest: +SKIP
"""

from cryptoscope.sources.importers.address_labels import forta_address_labels
from cryptoscope.sources.importers.export import export_csv
from cryptoscope.sources.importers.formats import InputFormat, read_input
from cryptoscope.sources.importers.ingest import FileResult, IngestResult, ProgressEvent, ingest_files
from cryptoscope.sources.importers.mapping import ColumnRule, Mapping

__all__ = ["ColumnRule", "FileResult", "IngestResult", "InputFormat", "Mapping", "ProgressEvent", "export_csv",
           "forta_address_labels", "ingest_files", "read_input"]
