"""Vectorised ids, hashes and addresses: the simulator never formats strings per event."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa


def hex_ids(rng: np.random.Generator, n: int, width: int = 16, prefix: str = "") -> np.ndarray:
    """``n`` random hex strings (``width`` <= 16 hex digits), e.g. device fingerprints."""
    values = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64)
    return np.array([f"{prefix}{v:016x}"[: len(prefix) + width] for v in values.tolist()], dtype=object)


def long_hex(rng: np.random.Generator, n: int, nbytes: int, prefix: str = "") -> np.ndarray:
    """Hashes and addresses: ``nbytes`` random bytes as hex (tx hashes 32, ETH addresses 20)."""
    raw = rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)
    return np.array([prefix + row.tobytes().hex() for row in raw], dtype=object)


def btc_addresses(rng: np.random.Generator, n: int) -> np.ndarray:
    """Bech32-looking P2WPKH addresses (random payloads; not checksummed, never broadcast)."""
    alphabet = np.array(list("qpzry9x8gf2tvdw0s3jn54khce6mua7l"))
    picks = rng.integers(0, len(alphabet), size=(n, 38))
    return np.array(["bc1q" + "".join(row) for row in alphabet[picks]], dtype=object)


def ipv4(rng: np.random.Generator, n: int) -> np.ndarray:
    octets = rng.integers(1, 255, size=(n, 4))
    return np.array([f"{a}.{b}.{c}.{d}" for a, b, c, d in octets.tolist()], dtype=object)


def sha256_hex(values: np.ndarray) -> np.ndarray:
    return np.array([hashlib.sha256(str(v).encode()).hexdigest() for v in values], dtype=object)


def take(pool: np.ndarray, index: np.ndarray) -> pa.Array:
    """Strings picked from a pool by index: Arrow does the copying, not Python."""
    return pa.array(pool, type=pa.string()).take(pa.array(np.asarray(index, dtype=np.int64)))
