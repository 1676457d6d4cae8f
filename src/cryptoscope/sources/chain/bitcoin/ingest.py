"""Bitcoin blocks → the lake's chain_blocks, chain_transactions, chain_inputs and chain_outputs.

A file ingest is one lake transaction: every file is read, parsed and verified first (so junk is told it is no
Bitcoin block before anything is said about heights), the heights are derived (`heights.py`), then the rows are
appended; an error in any file (named with its file and byte offset or line) aborts the lot, so nothing is
half-written. Rows whose key is already in the lake are skipped, so ingesting the same files again adds nothing.
A node ingest (`node_ingest.py`) feeds the same `BlockLoader` in chunks, one transaction each.

Input values, addresses and script types come from the outputs they spend: outputs of this ingest first,
then any UTXO files given (btcd ``utxostore``), then ``chain_outputs`` in the lake; spends of outputs
found nowhere keep them null.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cryptoscope.lake import Lake
from cryptoscope.lake.columns import read_columns
from cryptoscope.lake.store import Transaction
from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import BlockFile, read_block_file
from cryptoscope.sources.chain.bitcoin.getblock import summary_blocks
from cryptoscope.sources.chain.bitcoin.heights import CHAIN, BlockFacts, lake_heights, link_heights
from cryptoscope.sources.chain.bitcoin.utxostore import read_utxostore
from cryptoscope.sources.chain.errors import ChainDataError

KEEP_BYTES = 256 << 20  # parsed blocks kept between the verifying pass and the write (larger ingests parse twice)
_SPENT = ("value", "address", "script_type")
Progress = Callable[[str, int, int], None]


@dataclass
class BitcoinIngestResult:
    """What one ingest read and added (rows new to the lake) per table, and inputs left unresolved.

    A node ingest also counts the heights it found already in the lake (``skipped``), the blocks it removed
    because they had left the node's best chain (``removed``: height, hash) and the node's tip when it last looked.
    """

    files: int = 0
    blocks: int = 0
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_added: dict[str, int] = field(default_factory=dict)
    unresolved_inputs: int = 0
    bytes: int = 0
    skipped: int = 0
    removed: list[tuple[int, str]] = field(default_factory=list)
    tip: int | None = None


@dataclass
class _Source:
    """One file after the verifying pass: its blocks' facts, and the parsed blocks while within `KEEP_BYTES`."""

    path: Path
    facts: list[BlockFacts]
    parsed: list[ParsedBlocks] | None
    size: int


def ingest_bitcoin(lake: Lake | str | os.PathLike[str], paths: Sequence[str | os.PathLike[str]], *,
                   utxo_stores: Sequence[str | os.PathLike[str]] = (), verify: bool = True,
                   first_height: int | None = None, progress: Progress | None = None) -> BitcoinIngestResult:
    """Parse, verify and load the block files in ``paths`` in one all-or-nothing lake transaction.

    ``first_height`` is the height of the first block of the first file, for a block whose parent is nowhere
    and whose coinbase predates BIP-34; the blocks that descend from it follow.
    """
    lake = lake if isinstance(lake, Lake) else Lake(lake)
    result = BitcoinIngestResult(files=len(paths))
    sources = _verify_all(paths, verify, progress)
    facts = [f for s in sources for f in s.facts]
    hashes = {f.block_hash for f in facts}
    heights = link_heights(facts, lake_heights(lake, {f.parent for f in facts} - hashes), first_height)
    loader = BlockLoader(lake, result, [read_utxostore(p) for p in utxo_stores])
    with lake.transaction() as tx:
        for i, source in enumerate(sources):
            for parsed in source.parsed or _read(source.path, verify=False)[1]:
                loader.load(tx, parsed, heights)
            if progress:
                progress("write", i + 1, len(sources))
    return result


def _verify_all(paths: Sequence[str | os.PathLike[str]], verify: bool, progress: Progress | None) -> list[_Source]:
    sources, budget = [], KEEP_BYTES
    for i, path in enumerate(paths):
        block_file, parsed = _read(Path(path), verify)
        size = len(block_file.data)
        facts = [f for p, places in zip(parsed, _places(block_file), strict=True) for f in _facts(p, places)]
        keep = size <= budget
        budget -= size if keep else 0
        sources.append(_Source(Path(path), facts, parsed if keep else None, size))
        if progress:
            progress("parse", i + 1, len(paths))
    return sources


def _read(path: Path, verify: bool) -> tuple[BlockFile, list[ParsedBlocks]]:
    """A file's full blocks parsed (and verified), and its header-only blocks (verbosity-1 answers)."""
    block_file = read_block_file(path)
    parsed = []
    if block_file.spans:
        try:
            parsed.append(parse_blocks(block_file.data, block_file.spans, verify=verify))
        except ChainDataError as err:
            raise block_file.locate(err) from None
    if block_file.summaries:
        parsed.append(summary_blocks(block_file.summaries, block_file.label, verify))
    return block_file, parsed


def _places(block_file: BlockFile) -> list[list[tuple[str, int | None, int | None]]]:
    """(file, line, stated height) of each block, in the order of `_read`'s parsed batches."""
    n = len(block_file.spans)
    lines = block_file.lines or [None] * n
    stated = block_file.heights or [None] * n
    label = block_file.label
    places = [[(label, lines[i], stated[i]) for i in range(n)]] if n else []
    if block_file.summaries:
        places.append([(label, s.line, s.height) for s in block_file.summaries])
    return places


def _facts(parsed: ParsedBlocks, places: list[tuple[str, int | None, int | None]]) -> list[BlockFacts]:
    return [BlockFacts(h.block_hash, h.prev_block_hash, bip34, stated, file, line)
            for h, bip34, (file, line, stated) in zip(parsed.headers, parsed.bip34_heights, places, strict=True)]


class BlockLoader:
    """Parsed blocks with known heights → the four tables, each input's value resolved from a running UTXO set.

    The outputs this loader has seen and not yet seen spent are held in memory (about 100 bytes each), so the
    blocks of one ingest resolve each other's inputs in any number of transactions.
    """

    def __init__(self, lake: Lake, result: BitcoinIngestResult, utxo_tables: Sequence[pa.Table] = ()) -> None:
        self.lake, self.result, self.extra = lake, result, list(utxo_tables)
        self.unspent: pa.Table | None = None

    def load(self, tx: Transaction, parsed: ParsedBlocks, heights: dict[str, int], *, same_time: bool = False
             ) -> None:
        """Append the batch's rows; ``same_time``: look for rows already in the lake only in files whose time
        range meets theirs (`Transaction.append`), right for blocks whose txids appear in no other block."""
        tables = _rows(parsed, heights)
        new = tables["chain_outputs"].select(["txid", "output_index", *_SPENT])
        unspent = new if self.unspent is None else pa.concat_tables([self.unspent, new])

        def append(name: str) -> int:  # one file per month: early blocks are a few KB a day
            return tx.append(name, tables[name], same_time=same_time, monthly=True)

        # the tables that need no input resolved go first: their files encode on threads while the inputs resolve
        added = {name: append(name) for name in tables if name != "chain_inputs"}
        tables["chain_inputs"] = _resolve(self.lake, tables["chain_inputs"], [unspent, *self.extra])
        self.unspent = _still_unspent(unspent, tables["chain_inputs"])
        added["chain_inputs"] = append("chain_inputs")
        result = self.result
        result.unresolved_inputs += _unresolved(tables["chain_inputs"], tables["chain_transactions"])
        for name, rows in tables.items():
            result.rows_read[name] = result.rows_read.get(name, 0) + rows.num_rows
            result.rows_added[name] = result.rows_added.get(name, 0) + added[name]
        result.blocks += len(parsed.headers)
        result.bytes += sum(parsed.sizes)


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
    columns = inputs.column_names
    missing = inputs
    found: list[pa.Table] = []
    for source in [*sources, None]:
        if missing.num_rows == 0:
            break
        table = source if source is not None else _lake_outputs(lake, missing)
        if table is None or table.num_rows == 0:
            continue
        # a hash-set probe first: most inputs spend outputs of other blocks, and only the rest need the join
        maybe = pc.is_in(missing["prev_txid"], value_set=table["txid"])
        hits, misses = _join_spent(missing.filter(maybe), table)
        found.append(hits.select(columns))
        missing = pa.concat_tables([missing.filter(pc.invert(maybe)), misses.select(columns)])
    merged = pa.concat_tables([*found, missing])
    merged = merged.take(pc.sort_indices(merged["_row"]))
    return merged.drop_columns(["_row"])


def _join_spent(inputs: pa.Table, outputs: pa.Table) -> tuple[pa.Table, pa.Table]:
    """(inputs whose spent output is among ``outputs``, with its value/address/script_type; the others)."""
    if inputs.num_rows == 0:
        return inputs, inputs
    joined = inputs.drop_columns(list(_SPENT)).join(
        outputs.select(["txid", "output_index", *_SPENT]).rename_columns(["prev_txid", "prev_output_index",
                                                                           *_SPENT]),
        keys=["prev_txid", "prev_output_index"], join_type="left outer")
    hit = pc.is_valid(joined["value"])
    return joined.filter(hit), joined.filter(pc.invert(hit))


def _still_unspent(unspent: pa.Table, inputs: pa.Table) -> pa.Table:
    """The outputs of ``unspent`` that ``inputs`` do not spend. Only outputs of a transaction that some input
    spends from go through the anti-join (a hash-set probe finds them): in a block, few of its outputs."""
    maybe = pc.is_in(unspent["txid"], value_set=inputs["prev_txid"])
    if not pc.any(maybe).as_py():
        return unspent
    spent = inputs.select(["prev_txid", "prev_output_index"]).rename_columns(["txid", "output_index"])
    kept = unspent.filter(maybe).join(spent, keys=["txid", "output_index"], join_type="left anti")
    return pa.concat_tables([unspent.filter(pc.invert(maybe)), kept.select(unspent.column_names)])


_OUTPUTS = pa.schema([("chain", pa.string()), ("txid", pa.string()), ("output_index", pa.int64()),
                      ("value", pa.int64()), ("address", pa.string()), ("script_type", pa.string())])


def _lake_outputs(lake: Lake, missing: pa.Table) -> pa.Table | None:
    """The lake's outputs of the transactions that ``missing`` inputs spend (candidates: the join picks)."""
    files = lake.file_paths("chain_outputs")
    if not files:
        return None
    wanted = pc.unique(missing["prev_txid"])
    rows = read_columns(files, _OUTPUTS, lambda t: pc.and_(pc.equal(t["chain"], CHAIN),
                                                           pc.is_in(t["txid"], value_set=wanted)))
    return rows.drop_columns(["chain"])


def _unresolved(inputs: pa.Table, transactions: pa.Table) -> int:
    coinbase = pc.sum(transactions["is_coinbase"].cast(pa.int64())).as_py() or 0
    return int(pc.sum(pc.is_null(inputs["value"]).cast(pa.int64())).as_py() or 0) - int(coinbase)
