"""Ethereum blocks that left the node's chain leave the lake: their transactions and their token transfers.

As for Bitcoin (`bitcoin/reorg.py`): the rows of a replaced block are no longer history, so they are removed,
not kept beside the new ones, in one lake transaction (a reader sees all of them or none). A block is known by
the ``block_hash`` of its rows in ``eth_transactions``; its token transfers are those of its transactions. A
transaction that is also in the replacing block comes back when that block is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptoscope.lake import Lake
from cryptoscope.sources.chain.lake_rows import keyed_rows


def remove_blocks(lake: Lake, chain: str, block_hashes: Sequence[str]) -> int:
    """Delete the transactions of the blocks ``block_hashes`` and their token transfers; return the rows removed."""
    if not block_hashes:
        return 0
    txs = keyed_rows(lake, "eth_transactions", "SELECT chain, tx_hash, event_time FROM t WHERE chain = ? AND "
                 "block_hash IN (SELECT key FROM wanted)", chain, block_hashes)
    if txs.num_rows == 0:
        return 0
    times = txs["event_time"].to_pylist()
    since, until = min(times), max(times)
    transfers = keyed_rows(lake, "eth_token_transfers", "SELECT chain, tx_hash, log_index FROM t WHERE chain = ? AND "
                       f"event_time BETWEEN '{since.isoformat()}' AND '{until.isoformat()}' AND tx_hash IN "
                       "(SELECT key FROM wanted)", chain, txs["tx_hash"].to_pylist())
    keys = {"eth_transactions": txs, "eth_token_transfers": transfers}
    with lake.transaction() as tx:
        return sum(tx.delete(name, rows, since=since, until=until) for name, rows in keys.items() if rows.num_rows)

