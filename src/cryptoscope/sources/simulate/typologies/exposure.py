"""Exposure to illicit funds: deposits from and withdrawals to labelled addresses, 0-3 hops away.

The hops are written to the public chain tables, so exposure can be found only by tracing
the chain from the labelled addresses, not by looking the deposit address up.
"""

from __future__ import annotations

import numpy as np

from cryptoscope.schema import ILLICIT_CATEGORIES
from cryptoscope.sources.simulate.config import DAY, HOUR
from cryptoscope.sources.simulate.context import Chunk
from cryptoscope.sources.simulate.frames import ts
from cryptoscope.sources.simulate.money import ASSET_CHAIN, add_transfers, asset_price
from cryptoscope.sources.simulate.strings import long_hex
from cryptoscope.sources.simulate.typologies import PREVALENCE
from cryptoscope.sources.simulate.wallets import CHAINS, new_addresses

_CATEGORY_P = np.array([0.15, 0.2, 0.3, 0.1, 0.05, 0.15, 0.05])


def illicit_addresses(chunk: Chunk, per_chain: int) -> tuple[list[np.ndarray], dict[str, int]]:
    """Labelled illicit addresses of each chain; some labels are published only during the window."""
    rng, cfg = chunk.rng, chunk.cfg
    out: list[np.ndarray] = []
    when: dict[str, int] = {}
    for c in range(3):
        addr = new_addresses(rng, c, per_chain)
        published = np.where(rng.random(per_chain) < 0.7, cfg.t0 - (rng.random(per_chain) * 365 * DAY),
                             cfg.t0 + rng.random(per_chain) * cfg.days * DAY).astype(np.int64)
        cat = rng.choice(len(ILLICIT_CATEGORIES), per_chain, p=_CATEGORY_P)
        chunk.frames.add("address_labels", chain=np.full(per_chain, CHAINS[c]), address=addr,
                         event_time=ts(published), category=np.array(ILLICIT_CATEGORIES, dtype=object)[cat],
                         source=np.full(per_chain, "simulated-intel"))
        out.append(addr)
        when |= dict(zip(addr.tolist(), published.tolist(), strict=True))
    return out, when


def hop_path(chunk: Chunk, chain: int, asset: int, start: str, hops: int, t_end: int, amount_usd: float,
             toward_exchange: bool) -> tuple[str, str]:
    """Move funds ``hops`` times through fresh addresses, ending at (deposits) or starting from
    (withdrawals) the exchange's counterparty. Returns (counterparty address, last hop's txid)."""
    rng = chunk.rng
    addresses = [start, *new_addresses(rng, chain, hops)]
    if not toward_exchange:
        addresses = addresses[::-1]
    times = t_end - np.sort((rng.uniform(0.2, 72, hops) * HOUR).astype(np.int64))[::-1] if toward_exchange else \
        t_end + np.sort((rng.uniform(0.2, 72, hops) * HOUR).astype(np.int64))
    prev = long_hex(rng, 1, 32)[0]
    price = float(asset_price(chunk, np.array([asset]), np.array([t_end]))[0])
    for h in range(hops):
        tx = long_hex(rng, 1, 32)[0]
        chunk.onchain.append({"chain": np.array([chain]), "asset": np.array([asset]), "time": times[h:h + 1],
                              "sender": np.array([addresses[h]], dtype=object),
                              "receiver": np.array([addresses[h + 1]], dtype=object),
                              "amount": np.array([amount_usd / price * (1.02 - 0.005 * h)]),
                              "tx_hash": np.array([tx if chain == 0 else "0x" + tx], dtype=object),
                              "ok": np.array([True]), "prev": np.array([prev], dtype=object)})
        prev = tx
    return (addresses[-1] if toward_exchange else addresses[0]), prev


def chain_exposure(chunk: Chunk) -> None:
    pop, rng, cfg = chunk.pop, chunk.rng, chunk.cfg
    illicit, published = illicit_addresses(chunk, max(5, pop.n // 1000))
    for direction in ("deposit", "withdrawal"):
        users = chunk.pick(PREVALENCE[f"illicit_{direction}"])
        for u in users.tolist():
            t = max(pop.signup[u], cfg.t0) + int(rng.random() * cfg.days * 0.95 * DAY)
            if t >= cfg.t1:
                continue
            asset = int(rng.choice([0, 1, 2, 3], p=[0.35, 0.2, 0.25, 0.2]))
            chain = int(ASSET_CHAIN[asset])
            source = str(illicit[chain][rng.integers(0, len(illicit[chain]))])
            hops = int(rng.choice(4, p=[0.3, 0.3, 0.25, 0.15]))
            amount = float(pop.wealth[u] * rng.lognormal(0, 0.8))
            counterparty, last_tx = hop_path(chunk, chain, asset, source, hops, t, amount, direction == "deposit")
            ids = add_transfers(chunk, np.array([u]), np.array([t]), direction, np.array([asset]),
                                np.array([counterparty], dtype=object), np.array([amount]), np.array(["completed"]),
                                prev_tx=np.array([last_tx], dtype=object) if direction == "deposit" else None)
            # the exchange learns it once the address is labelled and someone traces it, less often far away
            seen = rng.random() < (0.9, 0.7, 0.5, 0.3)[hops]
            known = max(t, published[source]) + int(rng.uniform(1, 20) * DAY)
            if seen:
                chunk.label("transfer", ids, np.array([u]), "illicit_exposure", np.array([t]), np.array([known]),
                            "investigation")
            chunk.truth(np.array([u]), f"illicit_{direction}_{hops}hop", "counterparty", t, t, seen)
