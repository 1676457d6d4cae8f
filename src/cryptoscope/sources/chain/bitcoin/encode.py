"""Column-at-a-time text encodings of block bytes: hex strings and Bitcoin addresses, straight into Arrow.

Why not one library call per value: a block has ~10,000 scripts and addresses, and a Python call per value
(``bytes.hex``, ``base58.b58encode_check``, ``bech32.encode``) costs more than parsing the whole block.
These kernels write one UTF-8 buffer and one offsets buffer per column, which become an Arrow string
array without copying. They implement the published encodings exactly (Base58Check as in Bitcoin Core,
BIP-173 bech32 and BIP-350 bech32m); the tests check them value by value against the ``base58`` and
``bech32`` reference packages on real and random scripts.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from numba import njit

from cryptoscope.sources.chain.bitcoin.kernel import P2PK, P2PKH, P2SH, P2TR, P2WPKH, P2WSH, WITNESS_UNKNOWN

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_B58 = np.frombuffer(b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", dtype=np.uint8)
_B32 = np.frombuffer(b"qpzry9x8gf2tvdw0s3jn54khce6mua7l", dtype=np.uint8)
_GEN = np.array([0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3], dtype=np.int64)
BECH32_CONST, BECH32M_CONST = 1, 0x2BC830A3
#: Mainnet prefixes: P2PKH version byte, P2SH version byte, bech32 human-readable part.
PUBKEY_VERSION, SCRIPT_VERSION, HRP = 0x00, 0x05, b"bc"
_HRP = np.frombuffer(HRP, dtype=np.uint8)


def string_array(data: np.ndarray, offsets: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """An Arrow string array over these buffers (``valid`` False where the value is null)."""
    n = len(offsets) - 1
    bitmap = None
    nulls = 0
    if valid is not None and not valid.all():
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little"))
        nulls = int(n - valid.sum())
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets.astype(np.int32)), pa.py_buffer(data), bitmap, nulls)


def hex_column(buf: np.ndarray, offs: np.ndarray, lens: np.ndarray, *, reverse: bool = False) -> pa.Array:
    """Hex of ``buf[offs[i]:offs[i]+lens[i]]`` for every i (byte-reversed for txids, as explorers show them)."""
    data, offsets = _hex(buf, offs.astype(np.int64), lens.astype(np.int64), reverse)
    return string_array(data, offsets)


@njit(cache=True)
def _hex(buf: np.ndarray, offs: np.ndarray, lens: np.ndarray, reverse: bool) -> tuple[np.ndarray, np.ndarray]:
    n = offs.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        offsets[i + 1] = offsets[i] + 2 * lens[i]
    data = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        o, k, d = offs[i], lens[i], offsets[i]
        for j in range(k):
            b = buf[o + (k - 1 - j if reverse else j)]
            data[d + 2 * j] = _HEX[b >> 4]
            data[d + 2 * j + 1] = _HEX[b & 15]
    return data, offsets


def address_column(buf: np.ndarray, outs: np.ndarray, b58_payload: np.ndarray, b58_check: np.ndarray) -> pa.Array:
    """Mainnet addresses of the scanned outputs (null where the script has none).

    ``b58_payload`` (n x 21: version byte + hash160) and ``b58_check`` (n x 4) are filled for P2PKH, P2SH and
    P2PK rows by the caller, which hashes with hashlib; everything else is encoded from ``buf`` here.
    """
    data, offsets, valid = _addresses(buf, outs, b58_payload, b58_check)
    return string_array(data, offsets, valid)


@njit(cache=True)
def _addresses(buf: np.ndarray, outs: np.ndarray, payload: np.ndarray,
               check: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = outs.shape[0]
    data = np.empty(n * 90, dtype=np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int64)
    valid = np.zeros(n, dtype=np.bool_)
    pos = 0
    row = np.empty(25, dtype=np.uint8)
    scratch = np.empty(96, dtype=np.int64)
    for i in range(n):
        kind = outs[i, 3]
        if kind == P2PKH or kind == P2SH or kind == P2PK:  # noqa: SIM109 (plain compares in Numba)
            for j in range(21):
                row[j] = payload[i, j]
            for j in range(4):
                row[21 + j] = check[i, j]
            pos = _base58(row, scratch, data, pos)
            valid[i] = True
        elif kind == P2WPKH or kind == P2WSH or kind == P2TR or kind == WITNESS_UNKNOWN:  # noqa: SIM109
            pos = _bech32(buf, outs[i, 4], outs[i, 5], outs[i, 6], scratch, data, pos)
            valid[i] = True
        offsets[i + 1] = pos
    return data[:pos], offsets, valid


_LIMB = 58**5  # base-58 digits are produced five at a time: fewer long divisions


@njit(cache=True)
def _base58(row: np.ndarray, limbs: np.ndarray, out: np.ndarray, pos: int) -> int:
    """Base58 of ``row`` (each leading zero byte becomes '1'), written at ``out[pos:]``; returns the new end."""
    zeros = 0
    while zeros < row.shape[0] and row[zeros] == 0:
        zeros += 1
    n_limbs = 0  # little-endian limbs of 58**5
    for k in range(zeros, row.shape[0]):
        carry = np.int64(row[k])
        for j in range(n_limbs):
            carry += limbs[j] << 8
            limbs[j] = carry % _LIMB
            carry //= _LIMB
        while carry > 0:
            limbs[n_limbs] = carry % _LIMB
            n_limbs += 1
            carry //= _LIMB
    for _ in range(zeros):
        out[pos] = _B58[0]
        pos += 1
    started = False
    for j in range(n_limbs - 1, -1, -1):
        limb = limbs[j]
        for d in range(4, -1, -1):
            digit = (limb // 58**d) % 58
            if digit or started:
                out[pos] = _B58[digit]
                pos += 1
                started = True
    return pos


@njit(cache=True)
def _polymod_step(chk: int, value: int) -> int:
    top = chk >> 25
    chk = ((chk & 0x1FFFFFF) << 5) ^ value
    for k in range(5):
        if (top >> k) & 1:
            chk ^= _GEN[k]
    return chk


@njit(cache=True)
def _bech32(buf: np.ndarray, off: int, n: int, version: int, values: np.ndarray, out: np.ndarray, pos: int) -> int:
    """BIP-173/350 segwit address of the witness program ``buf[off:off+n]``, written at ``out[pos:]``."""
    values[0] = version
    k, acc, bits = 1, 0, 0
    for j in range(n):
        acc = ((acc << 8) | buf[off + j]) & 0xFFF
        bits += 8
        while bits >= 5:
            bits -= 5
            values[k] = (acc >> bits) & 31
            k += 1
    if bits > 0:
        values[k] = (acc << (5 - bits)) & 31
        k += 1
    chk = 1
    for c in _HRP:
        chk = _polymod_step(chk, c >> 5)
    chk = _polymod_step(chk, 0)
    for c in _HRP:
        chk = _polymod_step(chk, c & 31)
    for j in range(k):
        chk = _polymod_step(chk, values[j])
    for _ in range(6):
        chk = _polymod_step(chk, 0)
    chk ^= BECH32_CONST if version == 0 else BECH32M_CONST
    for c in _HRP:
        out[pos] = c
        pos += 1
    out[pos] = ord("1")
    pos += 1
    for j in range(k):
        out[pos] = _B32[values[j]]
        pos += 1
    for j in range(6):
        out[pos] = _B32[(chk >> (5 * (5 - j))) & 31]
        pos += 1
    return pos
