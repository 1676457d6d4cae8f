"""Serialized Bitcoin blocks → verified headers and the columns of their lake rows.

Verification is part of parsing, so a block in the lake is one whose bytes hash to what they claim:
the txids (legacy serialization, witness stripped) must rebuild the header's merkle root, the wtxids must
rebuild the coinbase's witness commitment (BIP-141) when the block has SegWit transactions, and the
header hash must meet its own proof-of-work target. Any failure raises `ChainDataError` with the byte
offset in the buffer given.

Blocks are parsed in batches (all the blocks of one file span) so that the per-column work (hex, addresses,
Arrow arrays) is paid once per batch, not once per block: early-chain blocks are a few hundred bytes each.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.sources.chain.bitcoin import kernel as k
from cryptoscope.sources.chain.bitcoin import sha
from cryptoscope.sources.chain.bitcoin.encode import PUBKEY_VERSION, SCRIPT_VERSION, address_column, hex_column
from cryptoscope.sources.chain.errors import ChainDataError

_sha = hashlib.sha256
_COMMITMENT_PREFIX = bytes.fromhex("6a24aa21a9ed")
_NULL_OUTPOINT = b"\x00" * 32 + b"\xff\xff\xff\xff"
_NULL_OUTPOINT_ROW = np.frombuffer(_NULL_OUTPOINT, dtype=np.uint8)
_HEADER_INTS, _TAIL_INTS = struct.Struct("<i"), struct.Struct("<III")
#: the easiest target mainnet allows (Bitcoin Core's powLimit; bits 0x1d00ffff): a header asking for an easier
#: one is not a Bitcoin block, whatever its hash
POW_LIMIT = 0x00000000FFFF << 208


def sha256d(data: bytes | memoryview) -> bytes:
    return _sha(_sha(data).digest()).digest()


_RIPEMD160 = hashlib.new("ripemd160")  # copied per use: hashlib.new looks the algorithm up each call


def hash160(data: bytes) -> bytes:
    """RIPEMD-160 of SHA-256: P2PK outputs get the P2PKH address of their key, as block explorers show it."""
    h = _RIPEMD160.copy()
    h.update(_sha(data).digest())
    return h.digest()


@dataclass(frozen=True)
class Header:
    block_hash: str
    prev_block_hash: str
    merkle_root: str
    version: int
    time: int
    bits: int
    nonce: int


@dataclass(frozen=True)
class ParsedBlocks:
    """A batch of blocks: per-block header facts and the rows of all of them as Arrow tables.

    The tables carry a ``block`` column (position in the batch) instead of chain/height/time, which the
    ingest adds once heights are known.
    """

    headers: list[Header]
    offsets: list[int]
    sizes: list[int]
    tx_counts: list[int]
    bip34_heights: list[int | None]
    transactions: pa.Table
    inputs: pa.Table
    outputs: pa.Table


def parse_header(buf: bytes | memoryview, start: int = 0) -> Header:
    head = bytes(buf[start:start + k.HEADER_SIZE])
    if len(head) < k.HEADER_SIZE:
        raise ChainDataError(k.MESSAGES[k.TRUNCATED], offset=start + len(head), field="header")
    version, time, bits, nonce = _HEADER_INTS.unpack_from(head, 0)[0], *_TAIL_INTS.unpack_from(head, 68)
    return Header(block_hash=_sha(_sha(head).digest()).digest()[::-1].hex(), prev_block_hash=head[35:3:-1].hex(),
                  merkle_root=head[67:35:-1].hex(), version=version, time=time, bits=bits, nonce=nonce)


def parse_block(raw: bytes, *, verify: bool = True) -> ParsedBlocks:
    """One serialized block (``getblock`` verbosity 0, decoded from hex if need be)."""
    return parse_blocks(raw, [(0, len(raw))], verify=verify)


def parse_blocks(raw: bytes, spans: Sequence[tuple[int, int]], *, verify: bool = True) -> ParsedBlocks:
    """Parse (and with ``verify`` check) the blocks at ``raw[start:end]`` for each span."""
    buf = np.frombuffer(raw, dtype=np.uint8)
    mv = memoryview(raw)
    if verify:
        _check_headers(buf, spans)  # before the scan, so junk is told it is no Bitcoin block, not where it breaks
    txs, ins, outs, tx_counts = _scan(buf, spans)  # also checks that every span holds a full header
    txids, wtxids = _hashes(buf, mv, txs)
    starts = np.array([s for s, _ in spans], dtype=np.int64)
    heads = buf[starts[:, None] + np.arange(k.HEADER_SIZE)]
    headers, _ = _headers(heads)
    counts = np.array(tx_counts, dtype=np.int64)
    firsts = np.cumsum(counts) - counts
    if verify:
        _verify(mv, buf, starts, heads, headers, txs, ins, outs, txids, wtxids, counts)
    bip34 = [_bip34_height(h, buf, ins[int(txs[f, 7])]) for h, f in zip(headers, firsts.tolist(), strict=True)]
    block = np.repeat(np.arange(len(spans)), counts)
    tx_index = np.arange(len(txs)) - np.repeat(firsts, counts)
    txid_hex = _hash_hex(txids)
    return ParsedBlocks(headers=headers, offsets=starts.tolist(), sizes=[e - s for s, e in spans],
                        tx_counts=list(tx_counts), bip34_heights=bip34,
                        transactions=_tx_table(txs, txid_hex, _hash_hex(wtxids), block, tx_index),
                        inputs=_input_table(buf, txs, ins, txid_hex, block),
                        outputs=_output_table(buf, txs, outs, txid_hex, block))


def _check_headers(buf: np.ndarray, spans: Sequence[tuple[int, int]]) -> None:
    """The proof of work of every header (of the spans long enough to hold one: the scan reports the others)."""
    starts = np.array([s for s, e in spans if e - s >= k.HEADER_SIZE], dtype=np.int64)
    if not len(starts):
        return
    headers, hashes = _headers(buf[starts[:, None] + np.arange(k.HEADER_SIZE)])
    for b, header in enumerate(headers):
        check_pow(header, int.from_bytes(hashes[b].tobytes(), "little"), int(starts[b]))


def _sha256d_rows(rows: np.ndarray) -> np.ndarray:
    if not sha.AVAILABLE:
        return sha.sha256d_rows_hashlib(rows)
    out = np.empty((len(rows), 32), dtype=np.uint8)
    sha.rows_sha256d(np.ascontiguousarray(rows), out)
    return out


def _headers(heads: np.ndarray) -> tuple[list[Header], np.ndarray]:
    """The (n, 80) header rows of a batch → `Header` objects and their (n, 32) hashes, a column at a time."""
    n = len(heads)
    hashes = _sha256d_rows(heads)
    flat = heads.reshape(-1)
    at = np.arange(n) * k.HEADER_SIZE
    hex_of = [hex_column(flat, at + off, np.full(n, 32), reverse=True).to_pylist() for off in (4, 36)]
    version = np.ascontiguousarray(heads[:, 0:4]).view("<i4").ravel().tolist()
    tail = np.ascontiguousarray(heads[:, 68:80]).view("<u4").tolist()
    headers = [Header(h, p, m, v, t, b, nonce) for h, p, m, v, (t, b, nonce)
               in zip(_hash_hex(hashes).to_pylist(), *hex_of, version, tail, strict=True)]
    return headers, hashes


def _scan(buf: np.ndarray, spans: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
    tx_cap, in_cap, out_cap = k.capacities(sum(e - s for s, e in spans))
    txs = np.empty((tx_cap, 11), dtype=np.int64)
    ins = np.empty((in_cap, 5), dtype=np.int64)
    outs = np.empty((out_cap, 7), dtype=np.int64)
    counts = np.zeros(len(spans), dtype=np.int64)
    status, pos, field, _, n_in, n_out = k.scan_many(buf, np.array(spans, dtype=np.int64).reshape(-1, 2), txs, ins,
                                                     outs, counts)
    if status != k.OK:
        raise ChainDataError(k.MESSAGES[status], offset=int(pos), field=k.FIELDS[field])
    return txs[:int(counts.sum())], ins[:n_in], outs[:n_out], counts.tolist()


def _hashes(buf: np.ndarray, mv: memoryview, txs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 32) txids (witness stripped) and wtxids (all bytes) of every transaction, internal byte order."""
    n = len(txs)
    txids, wtxids = np.empty((n, 32), dtype=np.uint8), np.empty((n, 32), dtype=np.uint8)
    if sha.AVAILABLE:
        sha.tx_hashes(buf, txs, txids, wtxids)
        return txids, wtxids
    hashes = _sha
    for t, (start, ins_start, wit_start, end, segwit) in enumerate(txs[:, [0, 1, 2, 3, 6]].tolist()):
        wtxids[t] = np.frombuffer(sha256d(mv[start:end]), dtype=np.uint8)
        if segwit:
            h = hashes(mv[start:start + 4])
            h.update(mv[ins_start:wit_start])
            h.update(mv[end - 4:end])
            txids[t] = np.frombuffer(hashes(h.digest()).digest(), dtype=np.uint8)
        else:
            txids[t] = wtxids[t]
    return txids, wtxids


def _hash_hex(hashes: np.ndarray) -> pa.Array:
    n = len(hashes)
    return hex_column(hashes.reshape(-1), np.arange(n) * 32, np.full(n, 32), reverse=True)


def _merkle(hashes: np.ndarray) -> bytes:
    if sha.AVAILABLE:
        return bytes(sha.merkle_root(hashes))
    return merkle_root([row.tobytes() for row in hashes])


def merkle_root(hashes: list[bytes]) -> bytes:
    """Bitcoin's merkle root: pairs hashed with SHA-256d, an odd last node paired with itself."""
    sha = _sha
    level = list(hashes)
    while len(level) > 1:
        if len(level) % 2:
            level.append(level[-1])
        joined = memoryview(b"".join(level))
        level = [sha(sha(joined[i:i + 64]).digest()).digest() for i in range(0, len(joined), 64)]
    return level[0]


def _verify(mv: memoryview, buf: np.ndarray, starts: np.ndarray, heads: np.ndarray, headers: list[Header],
            txs: np.ndarray, ins: np.ndarray, outs: np.ndarray, txids: np.ndarray,
            wtxids: np.ndarray, counts: np.ndarray) -> None:
    """Coinbase first, merkle roots and witness commitments of every block of the batch (the proof of work was
    checked before the scan)."""
    firsts = np.cumsum(counts) - counts
    coinbase = txs[firsts]
    outpoints = buf[ins[coinbase[:, 7], 0][:, None] + np.arange(36)]
    bad = np.flatnonzero((coinbase[:, 8] != 1) | (outpoints != _NULL_OUTPOINT_ROW).any(axis=1))
    if len(bad):
        raise ChainDataError("the first transaction is not a coinbase", offset=int(coinbase[bad[0], 0]),
                             field="input outpoint")
    roots = _merkle_roots(txids, counts)
    bad = np.flatnonzero((roots != heads[:, 36:68]).any(axis=1))
    if len(bad):
        b = int(bad[0])
        raise ChainDataError(f"merkle root of the txids is {roots[b, ::-1].tobytes().hex()}, the header says "
                             f"{headers[b].merkle_root}", offset=int(starts[b]) + 36, field="merkle root")
    for b in np.flatnonzero(np.add.reduceat(txs[:, 6], firsts) > 0).tolist():
        first = int(firsts[b])
        _check_witness_commitment(mv, txs[first:first + counts[b]], outs, wtxids[first:first + counts[b]])


def _merkle_roots(txids: np.ndarray, counts: np.ndarray) -> np.ndarray:
    roots = np.empty((len(counts), 32), dtype=np.uint8)
    if sha.AVAILABLE:
        sha.merkle_roots(txids, counts, roots)
        return roots
    first = 0
    for b, n in enumerate(counts.tolist()):
        roots[b] = np.frombuffer(merkle_root([row.tobytes() for row in txids[first:first + n]]), dtype=np.uint8)
        first += n
    return roots


def _check_witness_commitment(mv: memoryview, txs: np.ndarray, outs: np.ndarray, wtxids: np.ndarray) -> None:
    """BIP-141: the last coinbase output starting 6a24aa21a9ed commits to the wtxid merkle root."""
    first, count = int(txs[0, 9]), int(txs[0, 10])
    commitment = None
    for o in range(first, first + count):
        off, n = int(outs[o, 1]), int(outs[o, 2])
        if n >= 38 and bytes(mv[off:off + 6]) == _COMMITMENT_PREFIX:
            commitment = bytes(mv[off + 6:off + 38])
    reserved = None
    pos = int(txs[0, 2])
    if txs[0, 6] and mv[pos] == 1 and mv[pos + 1] == 32:  # the coinbase's one 32-byte witness item
        reserved = bytes(mv[pos + 2:pos + 34])
    if commitment is None or reserved is None:
        raise ChainDataError("SegWit transactions but no witness commitment in the coinbase",
                             offset=int(txs[0, 0]), field="witness commitment")
    leaves = wtxids.copy()
    leaves[0] = 0  # the coinbase's wtxid counts as zero
    root = _merkle(leaves)
    if sha256d(root + reserved) != commitment:
        raise ChainDataError("the wtxids do not match the coinbase's witness commitment", offset=int(txs[0, 0]),
                             field="witness commitment")


def check_pow(header: Header, value: int, start: int = 0) -> None:
    """The header hash, read as a little-endian number, must not exceed the target its ``bits`` encode, and
    that target must be a valid one no easier than mainnet's limit (as Bitcoin Core's CheckProofOfWork)."""
    exponent, mantissa = header.bits >> 24, header.bits & 0x007FFFFF
    target = mantissa << (8 * (exponent - 3)) if exponent > 3 else mantissa >> (8 * (3 - exponent))
    if header.bits & 0x00800000 or not 0 < target <= POW_LIMIT:
        raise ChainDataError(f"not a Bitcoin block: its header's difficulty bits {header.bits:08x} encode no valid "
                             "mainnet target", offset=start, field="header")
    if value > target:
        raise ChainDataError(f"not a Bitcoin block: its hash {header.block_hash} does not meet its proof-of-work "
                             "target", offset=start, field="header")


def header_only(headers: list[Header], sizes: list[int], tx_counts: list[int]) -> ParsedBlocks:
    """Blocks known by their headers alone (a verbosity-1 ``getblock`` answer): block rows, no transactions."""
    none = np.zeros(0, dtype=np.int64)
    no_rows = np.zeros((0, 11), dtype=np.int64)
    empty = pa.array([], pa.string())
    buf = np.zeros(1, dtype=np.uint8)
    return ParsedBlocks(headers=headers, offsets=[0] * len(headers), sizes=sizes, tx_counts=tx_counts,
                        bip34_heights=[None] * len(headers),
                        transactions=_tx_table(no_rows, empty, empty, none, none),
                        inputs=_input_table(buf, no_rows, np.zeros((0, 5), dtype=np.int64), empty, none),
                        outputs=_output_table(buf, no_rows, np.zeros((0, 7), dtype=np.int64), empty, none))


def _bip34_height(header: Header, buf: np.ndarray, coinbase_input: np.ndarray) -> int | None:
    """The height a version-2+ coinbase pushes first (BIP-34); None for older blocks."""
    off, n = int(coinbase_input[2]), int(coinbase_input[3])
    size = int(buf[off]) if n else 0
    if header.version < 2 or not 1 <= size <= 4 or n < 1 + size:
        return None
    return int.from_bytes(buf[off + 1:off + 1 + size].tobytes(), "little")


def _tx_table(txs: np.ndarray, txid_hex: pa.Array, wtxid_hex: pa.Array, block: np.ndarray,
              tx_index: np.ndarray) -> pa.Table:
    size = txs[:, 3] - txs[:, 0]
    base = 8 + txs[:, 2] - txs[:, 1]  # version + inputs..outputs + locktime, without marker, flag, witness
    version = txs[:, 4]
    return pa.table({
        "block": block, "txid": txid_hex, "wtxid": wtxid_hex, "tx_index": tx_index,
        "version": np.where(version >= 2**31, version - 2**32, version), "locktime": txs[:, 5],
        "is_coinbase": tx_index == 0, "is_segwit": txs[:, 6].astype(bool), "input_count": txs[:, 8],
        "output_count": txs[:, 10], "size": size, "weight": 3 * base + size,
    })


def _positions(first: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owning transaction, position within it) for rows laid out tx after tx."""
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, np.arange(int(counts.sum())) - np.repeat(first, counts)


def _input_table(buf: np.ndarray, txs: np.ndarray, ins: np.ndarray, txid_hex: pa.Array, block: np.ndarray) -> pa.Table:
    owner, index = _positions(txs[:, 7], txs[:, 8])
    n = len(ins)
    return pa.table({
        "block": block[owner], "txid": pc.take(txid_hex, owner), "input_index": index,
        "prev_txid": hex_column(buf, ins[:, 0], np.full(n, 32), reverse=True), "prev_output_index": ins[:, 1],
        "script_sig": hex_column(buf, ins[:, 2], ins[:, 3]), "sequence": ins[:, 4],
    })


def _output_table(buf: np.ndarray, txs: np.ndarray, outs: np.ndarray, txid_hex: pa.Array,
                  block: np.ndarray) -> pa.Table:
    owner, index = _positions(txs[:, 9], txs[:, 10])
    types = pa.DictionaryArray.from_arrays(pa.array(outs[:, 3].astype(np.int32)), pa.array(k.SCRIPT_TYPES))
    return pa.table({
        "block": block[owner], "txid": pc.take(txid_hex, owner), "output_index": index, "value": outs[:, 0],
        "script_pubkey": hex_column(buf, outs[:, 1], outs[:, 2]), "script_type": types.cast(pa.string()),
        "address": address_column(buf, outs, *_base58_rows(buf, outs)),
    })


def describe_scripts(scripts: Sequence[bytes]) -> tuple[pa.Array, pa.Array]:
    """(script_type, address) of output scripts that come from elsewhere (a UTXO file), as for block outputs."""
    buf = np.frombuffer(b"".join(scripts) or b"\x00", dtype=np.uint8)
    lens = np.array([len(s) for s in scripts], dtype=np.int64)
    offs = np.cumsum(lens) - lens
    outs = np.zeros((len(scripts), 7), dtype=np.int64)
    for i, (off, n) in enumerate(zip(offs.tolist(), lens.tolist(), strict=True)):
        outs[i, 1], outs[i, 2] = off, n
        outs[i, 3:] = k.classify(buf, off, n)
    types = pa.DictionaryArray.from_arrays(pa.array(outs[:, 3].astype(np.int32)), pa.array(k.SCRIPT_TYPES))
    return types.cast(pa.string()), address_column(buf, outs, *_base58_rows(buf, outs))


def _base58_rows(buf: np.ndarray, outs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Version byte + hash160 and the Base58Check checksum for the P2PKH, P2SH and P2PK outputs."""
    n = len(outs)
    payload = np.zeros((n, 21), dtype=np.uint8)
    check = np.zeros((n, 4), dtype=np.uint8)
    kinds = outs[:, 3]
    for kind, version in ((k.P2PKH, PUBKEY_VERSION), (k.P2SH, SCRIPT_VERSION)):
        rows = np.flatnonzero(kinds == kind)
        payload[rows, 0] = version
        payload[rows, 1:] = buf[outs[rows, 4][:, None] + np.arange(20)]
    keys = np.flatnonzero(kinds == k.P2PK)
    payload[keys, 0] = PUBKEY_VERSION
    if sha.AVAILABLE:
        hashed = np.empty((len(keys), 20), dtype=np.uint8)
        sha.hash160_spans(buf, outs[keys, 4], outs[keys, 5], hashed)
        payload[keys, 1:] = hashed
    else:
        for row in keys.tolist():
            key = buf[outs[row, 4]:outs[row, 4] + outs[row, 5]].tobytes()
            payload[row, 1:] = np.frombuffer(hash160(key), np.uint8)
    rows = np.flatnonzero((kinds == k.P2PKH) | (kinds == k.P2SH) | (kinds == k.P2PK))
    chosen = np.ascontiguousarray(payload[rows])
    if sha.AVAILABLE:
        digests = np.empty((len(rows), 32), dtype=np.uint8)
        sha.rows_sha256d(chosen, digests)
    else:
        digests = sha.sha256d_rows_hashlib(chosen)
    check[rows] = digests[:, :4]
    return payload, check
