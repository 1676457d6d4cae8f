"""The whole exchange world: chunk after chunk of users, written to the lake in one commit."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.lake import Lake
from cryptoscope.lake.compact import compact
from cryptoscope.schema import OUTPUT_TABLES, TABLES
from cryptoscope.sources.simulate import activity, credit, feedback, identity, money, onchain, products, trading
from cryptoscope.sources.simulate.catalog import catalog_table
from cryptoscope.sources.simulate.config import SimConfig
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import Frames
from cryptoscope.sources.simulate.market import Market, build_market
from cryptoscope.sources.simulate.population import MARKET_MAKER, build_population
from cryptoscope.sources.simulate.settings import settings_table
from cryptoscope.sources.simulate.typologies import (
    PREVALENCE,
    card_fraud,
    exposure,
    identity_fraud,
    market_abuse,
    mules,
    rings,
    takeover,
)
from cryptoscope.sources.simulate.wallets import Wallets

#: the simulator writes every source table, so a new simulation replaces them all (outputs stay)
SIMULATED_TABLES = tuple(name for name in TABLES if name not in OUTPUT_TABLES)


@dataclass(frozen=True)
class SimSummary:
    rows: dict[str, int]
    seconds: float

    @property
    def events(self) -> int:
        return sum(self.rows.values())


def simulate_chunk(cfg: SimConfig, market: Market, index: int) -> tuple[Frames, np.ndarray]:
    """One chunk of users and everything they do; deterministic in (seed, index)."""
    rng = np.random.default_rng([cfg.seed, index])
    first = index * cfg.chunk_users
    pop = build_population(rng, cfg, first, min(cfg.chunk_users, cfg.users - first))
    if not (pop.kind == MARKET_MAKER).any():  # every book needs someone quoting
        pop.kind[:2], pop.trader[:2], pop.wealth[:2] = MARKET_MAKER, True, 250_000.0
    chunk = Chunk(cfg, rng, Frames(index), pop, market, Wallets.build(rng, pop.n))
    ring_list = rings.form_rings(chunk)
    wash_groups = market_abuse.form_wash_groups(chunk)
    identity.write_accounts(chunk)
    identity.write_user_kinds(chunk)
    identity.normal_kyc(chunk)
    synthetic = identity_fraud.synthetic_identities(chunk)
    activity.normal_sessions(chunk.frames, rng, cfg, pop)
    money.normal_payments(chunk)
    money.normal_transfers(chunk)
    trading.normal_trading(chunk)
    products.product_events(chunk)
    credit.loans(chunk)
    takeover.account_takeover(chunk)
    young = chunk.pick(PREVALENCE["card_fraud"], pop.signup >= cfg.t0)
    card_fraud.card_fraud(chunk, np.union1d(synthetic[rng.random(len(synthetic)) < 0.5], young))
    card_fraud.friendly_fraud(chunk)
    mules.money_mules(chunk)
    rings.bonus_abuse(chunk, ring_list)
    market_abuse.wash_trading(chunk, wash_groups)
    market_abuse.spoofing(chunk)
    market_abuse.pump_and_dump(chunk)
    exposure.chain_exposure(chunk)
    heights = onchain.mirror(chunk)
    feedback.surveys(chunk, feedback.tickets(chunk))
    return chunk.frames, heights


def _before_end(table: pa.Table, cfg: SimConfig) -> pa.Table:
    """The world stops at its end: follow-up events (fills, clicks) that would fall later are cut."""
    end = pa.scalar(cfg.t1, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    return table.filter(pc.less(table["event_time"], end))


def simulate(cfg: SimConfig, lake: Lake, on_chunk: Callable[[int, int], None] | None = None,
             compact_after: bool = True) -> SimSummary:
    """Write a whole world into ``lake``, replacing what an earlier simulation wrote.

    Chunks are written as they finish, so memory holds one chunk (plus row-group buffers);
    readers see the old world until the single commit at the end. The product catalogue and the
    settings row (``simulation_runs``) go into the same commit, so products and evaluation read
    them from the lake, never from this package.
    """
    started = time.perf_counter()
    market = build_market(cfg)
    rows: Counter[str] = Counter(dict.fromkeys(SIMULATED_TABLES, 0))
    heights: Counter[int] = Counter()
    with lake.transaction() as tx:
        for name in SIMULATED_TABLES:
            tx.replace(name)
        for index in range(cfg.n_chunks):
            frames, used = simulate_chunk(cfg, market, index)
            for name, table in frames.tables().items():
                rows[name] += tx.append(name, _before_end(table, cfg), dedupe=False)
            heights.update(used.tolist())
            if on_chunk:
                on_chunk(index + 1, cfg.n_chunks)
        blocks = Frames(cfg.n_chunks)
        onchain.write_blocks(blocks, cfg, dict(heights), np.random.default_rng([cfg.seed, 0xB10C]))
        for name, table in blocks.tables().items():
            rows[name] += tx.append(name, table, dedupe=False)
        rows["product_catalog"] += tx.append("product_catalog", catalog_table(cfg), dedupe=False)
        rows["simulation_runs"] += tx.append("simulation_runs", settings_table(cfg), dedupe=False)
    if compact_after:  # off only to measure what compaction is worth (benchmarks/compaction.py)
        compact(lake, SIMULATED_TABLES)  # years of signups are a thousand days of a few accounts each
    return SimSummary(dict(rows), time.perf_counter() - started)
