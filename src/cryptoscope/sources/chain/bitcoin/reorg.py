"""Blocks that left the node's best chain leave the lake: their block, transaction, input and output rows.

A re-organisation replaces the last blocks of the chain with others; the old ones are not wrong data, but they
are no longer history, and an analyst who counts their payments counts payments that did not happen. So they
are removed, not kept beside the new ones, in one lake transaction: a reader sees the old blocks or none of them.
A transaction of a removed block that is also in its replacement comes back when the replacement is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.bitcoin.heights import CHAIN
from cryptoscope.sources.chain.lake_rows import keyed_rows


def remove_blocks(lake: Lake, block_hashes: Sequence[str]) -> int:
    """Delete the blocks ``block_hashes`` and the rows of their transactions; return the rows removed."""
    if not block_hashes:
        return 0
    blocks = keyed_rows(lake, "chain_blocks", "SELECT chain, block_hash, event_time FROM t WHERE chain = ? AND "
                    "block_hash IN (SELECT key FROM wanted)", CHAIN, block_hashes)
    if blocks.num_rows == 0:
        return 0
    times = blocks["event_time"].to_pylist()
    since, until = min(times), max(times)
    txs = keyed_rows(lake, "chain_transactions", "SELECT chain, txid FROM t WHERE chain = ? AND block_hash IN "
                 "(SELECT key FROM wanted)", CHAIN, block_hashes)
    txids = txs["txid"].to_pylist()
    keys = {"chain_blocks": blocks, "chain_transactions": txs}
    for name, index in (("chain_inputs", "input_index"), ("chain_outputs", "output_index")):
        keys[name] = keyed_rows(lake, name, f"SELECT chain, txid, {index} FROM t WHERE chain = ? AND event_time "
                            f"BETWEEN '{since.isoformat()}' AND '{until.isoformat()}' AND txid IN (SELECT key FROM "
                            "wanted)", CHAIN, txids)
    with lake.transaction() as tx:
        return sum(tx.delete(name, rows, since=since, until=until) for name, rows in keys.items() if rows.num_rows)

