"""Bitcoin: raw blocks and blk*.dat files parsed, verified and loaded into the chain_* tables."""

from cryptoscope.sources.chain.bitcoin.block import ParsedBlocks, parse_block, parse_blocks
from cryptoscope.sources.chain.bitcoin.framing import read_block_file
from cryptoscope.sources.chain.bitcoin.ingest import BitcoinIngestResult, ingest_bitcoin

__all__ = ["BitcoinIngestResult", "ParsedBlocks", "ingest_bitcoin", "parse_block", "parse_blocks",
           "read_block_file"]
