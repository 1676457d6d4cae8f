"""Bitcoin block files → the lake's chain_blocks, chain_transactions, chain_inputs and chain_outputs.

One ingest is one lake transaction: every file is parsed and verified, and an error in any of them
(named with its file and byte offset or line) aborts the lot, so nothing is half-written. Rows whose key
is already in the lake are skipped, so ingesting the same files again adds nothing.

Heights are not in a block: a block's height is its parent's plus one, the parent found among the files of
this ingest, in ``chain_blocks`` or the genesis block; failing that, the height a BIP-34 coinbase pushes.
Input values, addresses and script types come from the outputs they spend: outputs of this ingest first,
then any UTXO files given (btcd ``utxostore``), then ``chain_outputs`` in the lake; spends of outputs
found nowhere keep them null.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.lake import Lake
from cryptoscope.lake.sql import parquet_source
from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, parse_blocks, parse_header
from cryptoscope.sources.chain.bitcoin.framing import BlockFile, read_block_file
from cryptoscope.sources.chain.bitcoin.kernel import HEADER_SIZE, OK, varint
from cryptoscope.sources.chain.bitcoin.utxostore import read_utxostore
from cryptoscope.sources.chain.errors import ChainDataError

CHAIN = "bitcoin"
GENESIS = "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
NO_PARENT = "00" * 32
BIP34_HEIGHT = 227_931
KEEP_BYTES = 1 << 30  # decompressed block files kept between the header pass and the parse
_SPENT = ("value", "address", "script_type")
Progress = Callable[[str, int, int], None]


@dataclass
class BitcoinIngestResult:
    """What one ingest read and added (rows new to the lake) per table, and inputs left unresolved."""

    files: int = 0
    blocks: int = 0
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_added: dict[str, int] = field(default_factory=dict)
    unresolved_inputs: int = 0
    bytes: int = 0


def ingest_bitcoin(lake: Lake | str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]], *,
                   utxo_stores: Sequence[str | os.PathLike[str]] = (), verify: bool = True,
                   progress: Progress | None = None) -> BitcoinIngestResult:
    """Parse, verify and load the block files in ``paths`` in one all-or-nothing lake transaction."""
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    result = BitcoinIngestResult(files=len(paths))
    kept: dict[int, BlockFile] = {}
    heights = _heights(lake, paths, progress, kept)
    extra = [read_utxostore(p) for p in utxo_stores]
    unspent: pa.Table | None = None  # outputs of this ingest not yet spent in it: a running UTXO set
    with lake.transaction() as tx:
        for i, path in enumerate(paths):
            block_file = kept.pop(i, None) or read_block_file(path)
            parsed = _parse(block_file, verify)
            tables = _rows(parsed, heights)
            new = tables["chain_outputs"].select(["txid", "output_index", *_SPENT])
            unspent = new if unspent is None else pa.concat_tables([unspent, new])
            tables["chain_inputs"] = _resolve(lake, tables["chain_inputs"], [unspent, *extra])
            spent = tables["chain_inputs"].select(["prev_txid", "prev_output_index"])
            unspent = unspent.join(spent.rename_columns(["txid", "output_index"]), keys=["txid", "output_index"],
                                   join_type="left anti")
            result.unresolved_inputs += _unresolved(tables["chain_inputs"], tables["chain_transactions"])
            for name, rows in tables.items():
                result.rows_read[name] = result.rows_read.get(name, 0) + rows.num_rows
                result.rows_added[name] = result.rows_added.get(name, 0) + tx.append(name, rows)
            result.blocks += len(parsed.headers)
            result.bytes += sum(parsed.sizes)
            if progress:
                progress("parse", i + 1, len(paths))
    return result


def _parse(block_file: BlockFile, verify: bool) -> ParsedBlocks:
    try:
        return parse_blocks(block_file.data, block_file.spans, verify=verify)
    except ChainDataError as err:
        raise block_file.locate(err) from None


def _heights(lake: Lake, paths: Sequence[str | os.PathLike[str]], progress: Progress | None,
             kept: dict[int, BlockFile]) -> dict[str, int]:
    """Height of every block in ``paths``, from parent links (files, lake, genesis), else from BIP-34.

    Files read here are kept in ``kept`` (by position) up to `KEEP_BYTES`, so small ingests read them once.
    """
    parent: dict[str, str] = {}
    bip34: dict[str, int | None] = {}
    where: dict[str, str] = {}
    budget = KEEP_BYTES
    for i, path in enumerate(paths):
        block_file = read_block_file(path)
        if len(block_file.data) <= budget:
            kept[i] = block_file
            budget -= len(block_file.data)
        for start, end in block_file.spans:
            try:
                header = parse_header(block_file.data[start:end])
            except ChainDataError as err:
                raise block_file.locate(err.located(block_file.label, start)) from None
            parent[header.block_hash] = header.prev_block_hash
            bip34[header.block_hash] = _coinbase_height(block_file.data, start, end, header.version)
            where[header.block_hash] = block_file.label
        if progress:
            progress("headers", i + 1, len(paths))
    known = _lake_heights(lake, set(parent.values()) - set(parent))
    known.setdefault(GENESIS, 0)
    known[NO_PARENT] = -1  # the genesis block itself
    return _link(parent, bip34, known, where)


def _link(parent: dict[str, str], bip34: dict[str, int | None], known: dict[str, int],
          where: dict[str, str]) -> dict[str, int]:
    heights: dict[str, int] = {}
    for block in parent:
        chain = []
        node = block
        while node in parent and node not in heights:  # up through this ingest's blocks
            chain.append(node)
            node = parent[node]
        base = heights.get(node, known.get(node))
        if base is None:  # the root of this chain is unknown: fall back to BIP-34 for its first block
            root = chain[-1] if chain else block
            if bip34.get(root) is None:
                raise ChainDataError(f"cannot tell the height of block {root}: its parent {parent[root]} is neither "
                                     "in these files nor in the lake, and it predates BIP-34; ingest its "
                                     "ancestors first or together", file=where[root], field="prev_block_hash")
            base = int(bip34[root] or 0) - 1
        for offset, node in enumerate(reversed(chain), start=1):
            heights[node] = base + offset
    for block, height in heights.items():
        claimed = bip34.get(block)
        if height >= BIP34_HEIGHT and claimed is not None and claimed != height:
            raise ChainDataError(f"block {block} is at height {height} by its parents but its coinbase says "
                                 f"{claimed}", file=where[block], field="coinbase height")
    return heights


def _coinbase_height(data: bytes, start: int, end: int, version: int) -> int | None:
    """The BIP-34 height, read cheaply before the full parse (which reports malformed bytes with their place)."""
    if version < 2:
        return None
    buf = np.frombuffer(data, dtype=np.uint8, count=end - start, offset=start)
    _, pos, st = varint(buf, HEADER_SIZE, len(buf))  # transaction count
    pos += 4  # coinbase version
    if st != OK or pos + 2 > len(buf):
        return None
    if buf[pos] == 0 and buf[pos + 1] == 1:  # SegWit marker and flag
        pos += 2
    _, pos, st = varint(buf, pos, len(buf))  # input count
    _, pos, st2 = varint(buf, pos + 36, len(buf))  # script length, after the null outpoint
    if st != OK or st2 != OK or pos >= len(buf):
        return None
    size = int(buf[pos])
    if not 1 <= size <= 4 or pos + 1 + size > len(buf):
        return None
    return int.from_bytes(buf[pos + 1:pos + 1 + size].tobytes(), "little")


def _lake_heights(lake: Lake, hashes: set[str]) -> dict[str, int]:
    files = lake.file_paths("chain_blocks")
    if not files or not hashes:
        return {}
    con = duckdb.connect()
    con.register("wanted", pa.table({"block_hash": sorted(hashes)}))
    rows = con.sql(f"SELECT block_hash, height FROM {parquet_source(files)} WHERE chain = '{CHAIN}' "
                   "AND block_hash IN (SELECT block_hash FROM wanted)").fetchall()
    con.close()
    return {h: int(n) for h, n in rows}


def _rows(parsed: ParsedBlocks, heights: dict[str, int]) -> dict[str, pa.Table]:
    """The four lake tables of a parsed batch: block-level columns joined on the batch's ``block`` index."""
    hashes = [h.block_hash for h in parsed.headers]
    block_height = np.array([heights[h] for h in hashes], dtype=np.int64)
    block_time = pa.array(np.array([h.time for h in parsed.headers], dtype=np.int64) * 1_000_000,
                          pa.timestamp("us", tz="UTC"))
    blocks = pa.table({
        "chain": [CHAIN] * len(hashes), "block_hash": hashes, "height": block_height, "event_time": block_time,
        "prev_block_hash": [h.prev_block_hash for h in parsed.headers],
        "merkle_root": [h.merkle_root for h in parsed.headers], "version": [h.version for h in parsed.headers],
        "bits": [h.bits for h in parsed.headers], "nonce": [h.nonce for h in parsed.headers],
        "tx_count": parsed.tx_counts, "size": parsed.sizes,
    })

    def widen(rows: pa.Table, **extra: pa.Array) -> pa.Table:
        index = rows["block"]
        out = rows.drop_columns(["block"]).append_column("chain", pa.array(np.full(rows.num_rows, CHAIN)))
        out = out.append_column("event_time", pc.take(block_time, index))
        for name, values in extra.items():
            out = out.append_column(name, pc.take(values, index))
        return out

    n_in = parsed.inputs.num_rows
    inputs = widen(parsed.inputs).append_column("value", pa.nulls(n_in, pa.int64()))
    inputs = inputs.append_column("address", pa.nulls(n_in, pa.string()))
    inputs = inputs.append_column("script_type", pa.nulls(n_in, pa.string()))
    return {"chain_blocks": blocks,
            "chain_transactions": widen(parsed.transactions, block_hash=pa.array(hashes),
                                        block_height=pa.array(block_height)),
            "chain_inputs": inputs, "chain_outputs": widen(parsed.outputs)}


def _resolve(lake: Lake, inputs: pa.Table, sources: list[pa.Table]) -> pa.Table:
    """Fill value/address/script_type of each input from the first source that holds the output it spends."""
    inputs = inputs.append_column("_row", pa.array(np.arange(inputs.num_rows)))
    missing = inputs
    found: list[pa.Table] = []
    for source in [*sources, None]:
        if missing.num_rows == 0:
            break
        table = source if source is not None else _lake_outputs(lake, missing)
        if table is None or table.num_rows == 0:
            continue
        joined = missing.drop_columns(list(_SPENT)).join(
            table.select(["txid", "output_index", *_SPENT]).rename_columns(["prev_txid", "prev_output_index",
                                                                             *_SPENT]),
            keys=["prev_txid", "prev_output_index"], join_type="left outer")
        hit = pc.is_valid(joined["value"])
        found.append(joined.filter(hit))
        missing = joined.filter(pc.invert(hit))
    merged = pa.concat_tables([*[f.select(inputs.column_names) for f in found],
                               missing.select(inputs.column_names)])
    merged = merged.take(pc.sort_indices(merged["_row"]))
    return merged.drop_columns(["_row"])


def _lake_outputs(lake: Lake, missing: pa.Table) -> pa.Table | None:
    files = lake.file_paths("chain_outputs")
    if not files:
        return None
    con = duckdb.connect()
    con.register("wanted", missing.select(["prev_txid"]))
    table = con.sql(f"SELECT txid, output_index, {', '.join(_SPENT)} FROM {parquet_source(files)} WHERE "
                    f"chain = '{CHAIN}' AND txid IN (SELECT prev_txid FROM wanted)").to_arrow_table()
    con.close()
    schema = pa.schema([("txid", pa.string()), ("output_index", pa.int64()), ("value", pa.int64()),
                        ("address", pa.string()), ("script_type", pa.string())])
    return table.cast(schema)


def _unresolved(inputs: pa.Table, transactions: pa.Table) -> int:
    coinbase = pc.sum(transactions["is_coinbase"].cast(pa.int64())).as_py() or 0
    return int(pc.sum(pc.is_null(inputs["value"]).cast(pa.int64())).as_py() or 0) - int(coinbase)

