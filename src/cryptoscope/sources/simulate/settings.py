"""The ``simulation_runs`` row: the settings a world was made with, written beside it in the lake.

Evaluation of the simulated world (segment recovery, say) reads the seed and size from here rather
than guessing them from the data, and a reader can make the same world again from this row alone.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pyarrow as pa

from cryptoscope import __version__
from cryptoscope.schema import get_table
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.typologies import PREVALENCE


def settings_table(cfg: SimConfig) -> pa.Table:
    """One row: the settings of ``cfg``, keyed by their digest (same settings, same id)."""
    settings = {"start": cfg.start.isoformat(), "seed": cfg.seed, "users": cfg.users, "days": cfg.days,
                "chunk_users": cfg.chunk_users, "fraud_scale": float(cfg.fraud_scale),
                "typology_rates": json.dumps(PREVALENCE, sort_keys=True), "simulator_version": __version__}
    run_id = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    row = {k: [v] for k, v in settings.items() if k != "start"}
    row |= {"run_id": [run_id], "event_time": ts(np.array([cfg.t0])), "end_time": ts(np.array([cfg.t1]))}
    return pa.Table.from_pydict(row, schema=get_table("simulation_runs").arrow_schema)
