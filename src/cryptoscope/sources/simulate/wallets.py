"""Payment instruments and crypto addresses of one chunk's users."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cryptoscope.sources.simulate.strings import btc_addresses, hex_ids, long_hex

CHAINS = np.array(["bitcoin", "ethereum", "tron"], dtype=object)
BITCOIN, ETHEREUM, TRON = range(3)


def new_addresses(rng: np.random.Generator, chain: int, n: int) -> np.ndarray:
    if chain == BITCOIN:
        return btc_addresses(rng, n)
    if chain == ETHEREUM:
        return long_hex(rng, n, 20, "0x")
    return np.array(["T" + s for s in hex_ids(rng, n, 16)], dtype=object)  # tron-like, base58 not needed


@dataclass
class Wallets:
    """Per user: cards, a bank account, external wallets and exchange deposit addresses, per chain."""

    cards: np.ndarray  # (n, 2) card hashes; the second card is used by a third of users
    bank: np.ndarray  # (n,)
    external: list[np.ndarray]  # per chain: (n, 2) the user's own wallets elsewhere
    deposit: list[np.ndarray]  # per chain: (n,) exchange deposit address of the user
    hot_wallet: np.ndarray  # per chain: the exchange address withdrawals come from

    @classmethod
    def build(cls, rng: np.random.Generator, n: int) -> Wallets:
        cards = hex_ids(rng, 2 * n, 16, "card_").reshape(n, 2)
        bank = hex_ids(rng, n, 16, "iban_")
        external = [new_addresses(rng, c, 2 * n).reshape(n, 2) for c in range(3)]
        deposit = [new_addresses(rng, c, n) for c in range(3)]
        hot = np.array([new_addresses(rng, c, 1)[0] for c in range(3)], dtype=object)
        return cls(cards, bank, external, deposit, hot)
