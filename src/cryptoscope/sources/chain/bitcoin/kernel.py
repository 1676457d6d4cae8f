"""One pass over a serialized block that finds where every field is, compiled with Numba.

Why a compiled scanner: a block holds thousands of transactions and tens of thousands of inputs and
outputs; building a Python object per field (as python-bitcoinlib does) costs more than reading the bytes.
The scanner only records offsets, counts and small integers into preallocated arrays; hashing (txids),
hex and address encoding then work on whole columns at once.

Every read is bounds-checked by hand (Numba does not check indices): the scanner returns a status code,
the byte offset and the field it was reading instead of raising, and never reads past ``end``. The rules
follow Bitcoin Core's deserializer: canonical CompactSize, sizes up to MAX_SIZE, the SegWit marker/flag,
no superfluous witness, values up to MAX_MONEY.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

(OK, TRUNCATED, BAD_VARINT, TOO_LARGE, BAD_FLAG, NO_INPUTS, NO_OUTPUTS, BAD_VALUE, SUPERFLUOUS, TRAILING,
 NO_TXS) = range(11)
MESSAGES = {
    TRUNCATED: "truncated: the data ends inside this field",
    BAD_VARINT: "bad varint: a CompactSize that is not in its shortest form",
    TOO_LARGE: "size or count larger than Bitcoin's MAX_SIZE (32 MiB) or than the bytes left",
    BAD_FLAG: "unknown transaction flag after the SegWit marker (expected 0x01)",
    NO_INPUTS: "a transaction without inputs",
    NO_OUTPUTS: "a transaction without outputs",
    BAD_VALUE: "output value above 21 million BTC",
    SUPERFLUOUS: "SegWit flag set but every witness is empty (superfluous witness record)",
    TRAILING: "bytes left over after the last transaction of the block",
    NO_TXS: "a block without transactions",
}
FIELDS = ("header", "transaction count", "transaction version", "input count", "segwit flag", "input outpoint",
          "input script length", "input script", "input sequence", "output count", "output value",
          "output script length", "output script", "witness item count", "witness item", "locktime", "block end")
(F_HEADER, F_TXCOUNT, F_VERSION, F_NIN, F_FLAG, F_OUTPOINT, F_SSLEN, F_SS, F_SEQ, F_NOUT, F_VALUE, F_SPKLEN, F_SPK,
 F_NWIT, F_WIT, F_LOCKTIME, F_END) = range(len(FIELDS))

#: script_type codes, in the order of `SCRIPT_TYPES`.
SCRIPT_TYPES = ("nonstandard", "p2pkh", "p2sh", "p2wpkh", "p2wsh", "p2tr", "p2pk", "nulldata", "witness_unknown")
(NONSTANDARD, P2PKH, P2SH, P2WPKH, P2WSH, P2TR, P2PK, NULLDATA, WITNESS_UNKNOWN) = range(len(SCRIPT_TYPES))

MAX_SIZE = 0x02000000
MAX_MONEY = 21_000_000 * 100_000_000
HEADER_SIZE = 80
_MIN_TX, _MIN_IN, _MIN_OUT = 60, 41, 9


@njit(cache=True, inline="always")
def _u32(buf: np.ndarray, p: int) -> Any:  # a Numba int64: one integer type, no float promotion
    return (np.int64(buf[p]) | (np.int64(buf[p + 1]) << 8) | (np.int64(buf[p + 2]) << 16)
            | (np.int64(buf[p + 3]) << 24))


@njit(cache=True)
def varint(buf: np.ndarray, pos: int, end: int) -> tuple[Any, int, int]:
    """(value, next position, status) of the CompactSize at ``pos``."""
    if pos >= end:
        return -1, pos, TRUNCATED
    b = buf[pos]
    if b < 0xFD:
        return np.int64(b), pos + 1, OK
    if b == 0xFD:
        if pos + 3 > end:
            return -1, pos, TRUNCATED
        v = np.int64(buf[pos + 1]) | (np.int64(buf[pos + 2]) << 8)
        return (v, pos + 3, OK) if v >= 0xFD else (-1, pos, BAD_VARINT)
    if b == 0xFE:
        if pos + 5 > end:
            return -1, pos, TRUNCATED
        v = _u32(buf, pos + 1)
        if v < 0x10000:
            return -1, pos, BAD_VARINT
        return (v, pos + 5, OK) if v <= MAX_SIZE else (-1, pos, TOO_LARGE)
    if pos + 9 > end:
        return -1, pos, TRUNCATED
    high = _u32(buf, pos + 5)
    return (-1, pos, TOO_LARGE) if high != 0 else (-1, pos, BAD_VARINT)


@njit(cache=True)
def classify(buf: np.ndarray, off: int, n: int) -> tuple[int, int, int, int]:
    """(script type, payload offset, payload length, witness version) of an output script."""
    b0 = buf[off] if n > 0 else 0
    if n == 25 and b0 == 0x76 and buf[off + 1] == 0xA9 and buf[off + 2] == 0x14 and buf[off + 23] == 0x88 \
            and buf[off + 24] == 0xAC:
        return P2PKH, off + 3, 20, -1
    if n == 23 and b0 == 0xA9 and buf[off + 1] == 0x14 and buf[off + 22] == 0x87:
        return P2SH, off + 2, 20, -1
    if 4 <= n <= 42 and (b0 == 0 or 0x51 <= b0 <= 0x60) and buf[off + 1] == n - 2:
        ver = 0 if b0 == 0 else b0 - 0x50
        if ver == 0:
            if n == 22:
                return P2WPKH, off + 2, 20, 0
            if n == 34:
                return P2WSH, off + 2, 32, 0
            return NONSTANDARD, 0, 0, -1
        if ver == 1 and n == 34:
            return P2TR, off + 2, 32, 1
        return WITNESS_UNKNOWN, off + 2, n - 2, ver
    if n == 35 and b0 == 0x21 and (buf[off + 1] == 2 or buf[off + 1] == 3) and buf[off + 34] == 0xAC:
        return P2PK, off + 1, 33, -1
    if n == 67 and b0 == 0x41 and buf[off + 1] == 4 and buf[off + 66] == 0xAC:
        return P2PK, off + 1, 65, -1
    if n >= 1 and b0 == 0x6A:
        return NULLDATA, 0, 0, -1
    return NONSTANDARD, 0, 0, -1


@njit(cache=True)
def scan(buf: np.ndarray, start: int, end: int, txs: np.ndarray, ins: np.ndarray, outs: np.ndarray,
         n_tx: int, n_in: int, n_out: int) -> tuple[int, int, int, int, int, int]:
    """Scan the block ``buf[start:end]``, appending its rows after the first ``n_tx``/``n_in``/``n_out`` rows.

    ``txs`` rows: start, inputs start, witness start, end, version, locktime, segwit, first input, input count,
    first output, output count; ``ins`` rows: outpoint offset, prev index, script offset, script length,
    sequence; ``outs`` rows: value, script offset, script length, type, payload offset, payload length,
    witness version. Offsets are into ``buf``. Returns (status, error offset, error field, n_tx, n_in, n_out).
    """
    if end - start < HEADER_SIZE:
        return TRUNCATED, end, F_HEADER, n_tx, n_in, n_out
    count, pos, st = varint(buf, start + HEADER_SIZE, end)
    if st != OK:
        return st, pos, F_TXCOUNT, n_tx, n_in, n_out
    if count * _MIN_TX > end - pos or n_tx + count > txs.shape[0]:
        return TOO_LARGE, start + HEADER_SIZE, F_TXCOUNT, n_tx, n_in, n_out
    for t in range(n_tx, n_tx + count):
        st, pos, field, n_in, n_out = _tx(buf, pos, end, t, txs, ins, outs, n_in, n_out)
        if st != OK:
            return st, pos, field, t, n_in, n_out
    if pos != end:
        return TRAILING, pos, F_END, n_tx + count, n_in, n_out
    return OK, pos, -1, n_tx + count, n_in, n_out


@njit(cache=True)
def scan_many(buf: np.ndarray, spans: np.ndarray, txs: np.ndarray, ins: np.ndarray, outs: np.ndarray,
              counts: np.ndarray) -> tuple[int, int, int, int, int, int]:
    """`scan` for each (start, end) row of ``spans`` in one call (early-chain blocks are tiny and many);
    ``counts`` gets each block's transaction count. Returns (status, error offset, error field, failing block
    or -1, n_in, n_out); the transaction total is ``counts.sum()``."""
    n_tx = n_in = n_out = 0
    for b in range(spans.shape[0]):
        st, pos, field, n, n_in, n_out = scan(buf, spans[b, 0], spans[b, 1], txs, ins, outs, n_tx, n_in, n_out)
        if st != OK:
            return st, pos, field, b, n_in, n_out
        if n == n_tx:
            return NO_TXS, spans[b, 0] + HEADER_SIZE, F_TXCOUNT, b, n_in, n_out
        counts[b] = n - n_tx
        n_tx = n
    return OK, -1, -1, -1, n_in, n_out


@njit(cache=True)
def _tx(buf: np.ndarray, pos: int, end: int, t: int, txs: np.ndarray, ins: np.ndarray, outs: np.ndarray,
        n_in: int, n_out: int) -> tuple[int, int, int, int, int]:
    start = pos
    if pos + 4 > end:
        return TRUNCATED, pos, F_VERSION, n_in, n_out
    version = _u32(buf, pos)
    pos += 4
    count, nxt, st = varint(buf, pos, end)
    if st != OK:
        return st, pos, F_NIN, n_in, n_out
    segwit = 0
    ins_start = pos
    if count == 0:
        if nxt >= end:
            return TRUNCATED, nxt, F_FLAG, n_in, n_out
        if buf[nxt] != 1:
            return BAD_FLAG, nxt, F_FLAG, n_in, n_out
        segwit = 1
        ins_start = nxt + 1
        count, nxt, st = varint(buf, ins_start, end)
        if st != OK:
            return st, ins_start, F_NIN, n_in, n_out
        if count == 0:
            return NO_INPUTS, ins_start, F_NIN, n_in, n_out
    if count * _MIN_IN > end - nxt or n_in + count > ins.shape[0]:
        return TOO_LARGE, pos, F_NIN, n_in, n_out
    pos = nxt
    first_in = n_in
    for _ in range(count):
        if pos + 36 > end:
            return TRUNCATED, pos, F_OUTPOINT, n_in, n_out
        ins[n_in, 0] = pos
        ins[n_in, 1] = _u32(buf, pos + 32)
        slen, nxt, st = varint(buf, pos + 36, end)
        if st != OK:
            return st, pos + 36, F_SSLEN, n_in, n_out
        if slen > end - nxt:
            return TRUNCATED, nxt, F_SS, n_in, n_out
        ins[n_in, 2] = nxt
        ins[n_in, 3] = slen
        pos = nxt + slen
        if pos + 4 > end:
            return TRUNCATED, pos, F_SEQ, n_in, n_out
        ins[n_in, 4] = _u32(buf, pos)
        pos += 4
        n_in += 1
    st, pos, field, first_out, n_out = _outputs(buf, pos, end, outs, n_out)
    if st != OK:
        return st, pos, field, n_in, n_out
    wit_start = pos
    if segwit:
        st, pos, field = _witness(buf, pos, end, count)
        if st != OK:
            return st, pos, field, n_in, n_out
    if pos + 4 > end:
        return TRUNCATED, pos, F_LOCKTIME, n_in, n_out
    row = txs[t]
    row[0], row[1], row[2], row[3], row[4], row[5] = start, ins_start, wit_start, pos + 4, version, _u32(buf, pos)
    row[6], row[7], row[8], row[9], row[10] = segwit, first_in, count, first_out, n_out - first_out
    return OK, pos + 4, -1, n_in, n_out


@njit(cache=True)
def _outputs(buf: np.ndarray, pos: int, end: int, outs: np.ndarray, n_out: int) -> tuple[int, int, int, int, int]:
    count, nxt, st = varint(buf, pos, end)
    if st != OK:
        return st, pos, F_NOUT, n_out, n_out
    if count == 0:
        return NO_OUTPUTS, pos, F_NOUT, n_out, n_out
    if count * _MIN_OUT > end - nxt or n_out + count > outs.shape[0]:
        return TOO_LARGE, pos, F_NOUT, n_out, n_out
    first = n_out
    pos = nxt
    for _ in range(count):
        if pos + 9 > end:
            return TRUNCATED, pos, F_VALUE, first, n_out
        if buf[pos + 7] >= 0x80:
            return BAD_VALUE, pos, F_VALUE, first, n_out
        value = _u32(buf, pos) | (_u32(buf, pos + 4) << 32)
        if value > MAX_MONEY:
            return BAD_VALUE, pos, F_VALUE, first, n_out
        slen, nxt, st = varint(buf, pos + 8, end)
        if st != OK:
            return st, pos + 8, F_SPKLEN, first, n_out
        if slen > end - nxt:
            return TRUNCATED, nxt, F_SPK, first, n_out
        kind, p_off, p_len, ver = classify(buf, nxt, slen)
        row = outs[n_out]
        row[0], row[1], row[2], row[3], row[4], row[5], row[6] = value, nxt, slen, kind, p_off, p_len, ver
        pos = nxt + slen
        n_out += 1
    return OK, pos, -1, first, n_out


@njit(cache=True)
def _witness(buf: np.ndarray, pos: int, end: int, n_inputs: int) -> tuple[int, int, int]:
    any_item = False
    for _ in range(n_inputs):
        items, nxt, st = varint(buf, pos, end)
        if st != OK:
            return st, pos, F_NWIT
        if items > end - nxt:
            return TOO_LARGE, pos, F_NWIT
        pos = nxt
        any_item = any_item or items > 0
        for _ in range(items):
            size, nxt, st = varint(buf, pos, end)
            if st != OK:
                return st, pos, F_WIT
            if size > end - nxt:
                return TRUNCATED, nxt, F_WIT
            pos = nxt + size
    if not any_item:
        return SUPERFLUOUS, pos, F_NWIT
    return OK, pos, -1


def capacities(n_bytes: int) -> tuple[int, int, int]:
    """Upper bounds on transactions, inputs and outputs that ``n_bytes`` can hold (their minimum sizes)."""
    return n_bytes // _MIN_TX + 1, n_bytes // _MIN_IN + 1, n_bytes // _MIN_OUT + 1
