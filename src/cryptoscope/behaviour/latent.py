"""The simulated world's latent normal user kinds, for evaluation only (never a feature).

The simulator does not write a user's kind (retail, whale, market maker, idle, traveller,
household) to the lake: it is the truth the segments must recover. It is a deterministic draw of
(seed, chunk), the first thing each chunk draws, so it is rebuilt by replaying
`build_population`; the replay is checked against every account's sign-up time and country, and a
lake it does not match is an error rather than a silently wrong ARI. A lake written by
``cryptoscope simulate`` does not record its seed: `find_config` finds it by replaying the first
draws of chunk 0 against the accounts table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from cryptoscope.errors import CryptoscopeError
from cryptoscope.sources.simulate import geo
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.population import KIND_SHARE, KINDS, MARKET_MAKER, build_population

#: share of accounts whose sign-up a typology may move (rings and synthetic identities sign up together)
MAX_MOVED = 0.05
#: chunk sizes tried when the caller does not say (the CLI's default first)
CHUNK_CANDIDATES = (25_000, 20_000, 10_000, 5_000, 4_000, 2_000, 1_000)


def _accounts(con: Any) -> pd.DataFrame:
    acc = con.table("accounts").select("user_id", "event_time", "country").to_pyarrow().to_pandas()
    acc = acc.sort_values("user_id").reset_index(drop=True)
    if acc.empty:
        raise CryptoscopeError("the lake has no accounts: nothing to compare with the simulator's users")
    return acc


def _first_countries(seed: int, n: int) -> np.ndarray:
    """The country draw of chunk 0's first ``n`` users for ``seed``, as `build_population` makes it."""
    rng = np.random.default_rng([seed, 0])
    rng.choice(len(KINDS), size=n, p=KIND_SHARE / KIND_SHARE.sum())
    return rng.choice(len(geo.CODES), size=n, p=geo.WEIGHT)


def find_config(con: Any, start: dt.datetime, days: int, *, seed: int | None = None,
                chunk_users: int | None = None, max_seed: int = 100_000) -> SimConfig:
    """The `SimConfig` (seed and chunk size) whose population draw matches the lake's accounts."""
    acc = _accounts(con)
    codes = {c: i for i, c in enumerate(geo.CODES)}
    observed = acc["country"].map(codes).to_numpy()
    users = len(acc)
    seeds: Iterable[int] = [seed] if seed is not None else range(max_seed)
    chunks = [chunk_users] if chunk_users is not None else list(CHUNK_CANDIDATES)
    for s in seeds:
        for c in chunks:
            n = min(c, users)
            if np.array_equal(_first_countries(s, n), observed[:n]):
                return SimConfig(users=users, days=days, seed=s, start=start, chunk_users=c)
    tried = f"seed {seed}" if seed is not None else f"seeds 0..{max_seed - 1}"
    raise CryptoscopeError(f"accounts.country of the lake matches no simulated world ({tried}, chunk sizes "
                           f"{chunks}); pass --seed and --chunk-users of the simulation")


def latent_kinds(con: Any, cfg: SimConfig) -> pd.Series:
    """Each user's latent kind name, indexed by user_id; checked against accounts.event_time.

    Typologies move a few sign-ups (rings open their accounts within days), so up to `MAX_MOVED` of
    them may differ; more means another world.
    """
    acc = _accounts(con)
    ids, kinds, signups = [], [], []
    for index in range(cfg.n_chunks):
        rng = np.random.default_rng([cfg.seed, index])
        first = index * cfg.chunk_users
        pop = build_population(rng, cfg, first, min(cfg.chunk_users, cfg.users - first))
        if not (pop.kind == MARKET_MAKER).any():  # as the simulator does: every book needs a quoter
            pop.kind[:2] = MARKET_MAKER
        ids.append(pop.user_id)
        kinds.append(pop.kind)
        signups.append(pop.signup)
    user_id, kind, signup = np.concatenate(ids), np.concatenate(kinds), np.concatenate(signups)
    lake_signup = acc["event_time"].astype("datetime64[us, UTC]").astype("int64").to_numpy()
    if len(user_id) != len(acc) or not np.array_equal(user_id, acc["user_id"].to_numpy()):
        raise CryptoscopeError(f"accounts: the lake has {len(acc)} users, the replayed world {len(user_id)}")
    bad = np.flatnonzero(signup != lake_signup)
    if len(bad) > MAX_MOVED * len(acc):
        raise CryptoscopeError(f"accounts row {int(bad[0])} (user_id {int(user_id[bad[0]])}), field event_time: "
                               f"the replayed sign-up differs; {len(bad)} of {len(acc)} accounts do not match "
                               f"seed {cfg.seed}, start {cfg.start:%Y-%m-%d}, {cfg.days} days")
    return pd.Series(np.asarray(KINDS, dtype=object)[kind], index=pd.Index(user_id, name="user_id"), name="kind")
