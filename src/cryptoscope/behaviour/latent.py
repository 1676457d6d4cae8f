"""The simulated world's truth for evaluating behaviour: each user's latent kind and the world's settings.

The simulator never writes a user's kind (retail, whale, market maker, idle, traveller, household)
where a product could learn from it: it is the truth the segments must recover, so it sits in the
ground-truth table ``user_kinds``, beside ``simulation_runs`` (seed, size, period), both written in
the same commit as the world. They are read only here, and only after every fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from cryptoscope.errors import CryptoscopeError

_SIMULATE = "behaviour evaluate judges a simulated world: run `cryptoscope simulate` to make one"


@dataclass(frozen=True)
class WorldSettings:
    """What the evaluated world was simulated with (one ``simulation_runs`` row)."""

    seed: int
    users: int
    days: int


def world_settings(con: Any) -> WorldSettings:
    """The lake's one ``simulation_runs`` row (an Ibis connection); an error when there is none or several."""
    rows = con.table("simulation_runs").select("seed", "users", "days").to_pyarrow().to_pylist()
    if len(rows) != 1:
        found = "no row" if not rows else f"{len(rows)} rows"
        raise CryptoscopeError(f"simulation_runs has {found}, one expected: {_SIMULATE}")
    return WorldSettings(**rows[0])


def latent_kinds(con: Any, user_ids: pd.Index) -> pd.Series:
    """The latent kind name of each of ``user_ids`` (from ``user_kinds``); every one must have one."""
    rows = con.table("user_kinds").select("user_id", "kind").to_pyarrow().to_pandas()
    if rows.empty:
        raise CryptoscopeError(f"the lake has no user_kinds (the simulator's latent kind of each user): {_SIMULATE}")
    kinds = rows.set_index("user_id")["kind"].reindex(user_ids)
    missing = kinds.index[kinds.isna()]
    if len(missing):
        raise CryptoscopeError(f"user_kinds has no kind for {len(missing)} of {len(user_ids)} users (user_id "
                               f"{int(missing[0])} first): the accounts are not the simulated world's")
    return kinds
