"""SHA-256d of many small messages: OpenSSL's SHA-256 called from compiled loops, hashlib as the fallback.

Why: a block needs ~5 double hashes per transaction (txid, wtxid, two merkle trees, address checksums).
From Python each ``hashlib`` call costs ~0.6 µs of call overhead, more than the hashing itself; calling the
same OpenSSL library (``libcrypto``, which ``hashlib`` wraps) from a Numba loop costs ~0.1 µs. No hash is
implemented here: both paths run OpenSSL's SHA-256, and the tests check one against the other. When
libcrypto or its ``SHA256_*``/``RIPEMD160_*`` symbols cannot be found, `AVAILABLE` is False and the
callers use ``hashlib``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
from typing import Any

import numpy as np
from numba import config, njit, types

_SYMBOLS = ("SHA256_Init", "SHA256_Update", "SHA256_Final", "RIPEMD160_Init", "RIPEMD160_Update", "RIPEMD160_Final")


def _load() -> bool:
    if getattr(config, "DISABLE_JIT", False):  # external C functions can only be called from compiled code
        return False
    path = ctypes.util.find_library("crypto")
    if path is None:
        return False
    try:
        lib = ctypes.CDLL(path)
        if not all(hasattr(lib, name) for name in _SYMBOLS):
            return False
        import llvmlite.binding as llvm

        llvm.load_library_permanently(path)
    except (OSError, RuntimeError):
        return False
    return True


AVAILABLE = _load()
_P = types.uintp  # pointers passed as addresses (x86-64/arm64 ABI: same register as a pointer)
_init: Any = types.ExternalFunction("SHA256_Init", types.intc(_P))
_update: Any = types.ExternalFunction("SHA256_Update", types.intc(_P, _P, _P))
_final: Any = types.ExternalFunction("SHA256_Final", types.intc(_P, _P))
_rmd_init: Any = types.ExternalFunction("RIPEMD160_Init", types.intc(_P))
_rmd_update: Any = types.ExternalFunction("RIPEMD160_Update", types.intc(_P, _P, _P))
_rmd_final: Any = types.ExternalFunction("RIPEMD160_Final", types.intc(_P, _P))
_CTX = 128  # bytes; OpenSSL's SHA256_CTX is 112


@njit(cache=True)
def _second(ctx: np.ndarray, tmp: np.ndarray, out: np.ndarray, row: int) -> None:
    """Finish the first hash into ``tmp`` and write SHA-256(tmp) to ``out[row]``."""
    c = ctx.ctypes.data
    _final(tmp.ctypes.data, c)
    _init(c)
    _update(c, tmp.ctypes.data, 32)
    _final(out.ctypes.data + 32 * row, c)


@njit(cache=True)
def tx_hashes(buf: np.ndarray, txs: np.ndarray, txids: np.ndarray, wtxids: np.ndarray) -> None:
    """txid (version + inputs..outputs + locktime, witness stripped) and wtxid (all bytes) of each scanned tx."""
    ctx = np.empty(_CTX, dtype=np.uint8)
    tmp = np.empty(32, dtype=np.uint8)
    c, base = ctx.ctypes.data, buf.ctypes.data
    for t in range(txs.shape[0]):
        start, ins_start, wit_start, end = txs[t, 0], txs[t, 1], txs[t, 2], txs[t, 3]
        _init(c)
        _update(c, base + start, end - start)
        _second(ctx, tmp, wtxids, t)
        if txs[t, 6]:
            _init(c)
            _update(c, base + start, 4)
            _update(c, base + ins_start, wit_start - ins_start)
            _update(c, base + end - 4, 4)
            _second(ctx, tmp, txids, t)
        else:
            txids[t] = wtxids[t]


@njit(cache=True)
def rows_sha256d(rows: np.ndarray, out: np.ndarray) -> None:
    """SHA-256d of each row of a 2-d uint8 array (e.g. version byte + hash160 for Base58Check)."""
    ctx = np.empty(_CTX, dtype=np.uint8)
    tmp = np.empty(32, dtype=np.uint8)
    c, base, width = ctx.ctypes.data, rows.ctypes.data, rows.shape[1]
    for i in range(rows.shape[0]):
        _init(c)
        _update(c, base + i * width, width)
        _second(ctx, tmp, out, i)


@njit(cache=True)
def merkle_root(hashes: np.ndarray) -> np.ndarray:
    """Bitcoin's merkle root of (n, 32) hashes: pairs hashed with SHA-256d, an odd last node paired with itself.

    Each level is written over the one below it: node i goes to bytes 32i.., after the pair at 64i.. is read.
    """
    n = hashes.shape[0]
    level = np.empty((n + 1) * 32, dtype=np.uint8)
    level[:n * 32] = hashes.ravel()
    ctx = np.empty(_CTX, dtype=np.uint8)
    tmp = np.empty(32, dtype=np.uint8)
    c, base = ctx.ctypes.data, level.ctypes.data
    while n > 1:
        if n % 2:
            level[n * 32:(n + 1) * 32] = level[(n - 1) * 32:n * 32]
            n += 1
        for i in range(n // 2):
            _init(c)
            _update(c, base + 64 * i, 64)
            _final(tmp.ctypes.data, c)
            _init(c)
            _update(c, tmp.ctypes.data, 32)
            _final(base + 32 * i, c)
        n //= 2
    return level[:32].copy()


@njit(cache=True)
def hash160_spans(buf: np.ndarray, offs: np.ndarray, lens: np.ndarray, out: np.ndarray) -> None:
    """RIPEMD-160(SHA-256(buf[offs[i]:offs[i]+lens[i]])) into the (n, 20) ``out`` (P2PK keys → P2PKH hashes)."""
    ctx = np.empty(_CTX, dtype=np.uint8)
    tmp = np.empty(32, dtype=np.uint8)
    c, base = ctx.ctypes.data, buf.ctypes.data
    for i in range(offs.shape[0]):
        _init(c)
        _update(c, base + offs[i], lens[i])
        _final(tmp.ctypes.data, c)
        _rmd_init(c)
        _rmd_update(c, tmp.ctypes.data, 32)
        _rmd_final(out.ctypes.data + 20 * i, c)


@njit(cache=True)
def merkle_roots(hashes: np.ndarray, counts: np.ndarray, out: np.ndarray) -> None:
    """`merkle_root` of each block's run of ``counts[b]`` consecutive hashes, into ``out[b]``."""
    first = 0
    for b in range(counts.shape[0]):
        out[b] = merkle_root(hashes[first:first + counts[b]])
        first += counts[b]


def sha256d_rows_hashlib(rows: np.ndarray) -> np.ndarray:
    """The fallback of `rows_sha256d`: the same digests through hashlib."""
    sha = hashlib.sha256
    blob, width = rows.tobytes(), rows.shape[1]
    digests = b"".join([sha(sha(blob[i:i + width]).digest()).digest() for i in range(0, len(blob), width)])
    return np.frombuffer(digests, dtype=np.uint8).reshape(-1, 32)
