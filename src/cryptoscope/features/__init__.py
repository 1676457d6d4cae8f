"""Feature views written once for DuckDB, Spark and online scoring; point-in-time sets; online state."""
