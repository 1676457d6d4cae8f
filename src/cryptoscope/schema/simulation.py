"""The settings a simulated world was made with, so evaluation reads them instead of guessing them."""

import pyarrow as pa

from cryptoscope.schema._table import TIMESTAMP, Table, col, event_time

S, INT, F = pa.string(), pa.int64(), pa.float64()

SIMULATION_RUNS = Table(
    name="simulation_runs",
    domain="simulation",
    doc="One row per simulated world in the lake: the settings that make it again, row for row.",
    columns=(
        col("run_id", S, "Digest of the settings below: the same settings give the same id and the same world."),
        event_time("Start of the simulated period (UTC)."),
        col("end_time", TIMESTAMP, "End of the simulated period, exclusive (UTC)."),
        col("seed", INT, "Random seed of the world."),
        col("users", INT, "Number of simulated accounts."),
        col("days", INT, "Length of the simulated period in days."),
        col("chunk_users", INT, "Users per independent chunk (part of the world: another size, another world)."),
        col("fraud_scale", F, "Multiplier on every typology's prevalence."),
        col("typology_rates", S, "JSON object: each typology's share of eligible users at fraud_scale 1."),
        col("simulator_version", S, "cryptoscope version that simulated the world."),
    ),
    primary_key=("run_id",),
)

TABLES = (SIMULATION_RUNS,)
