"""Ethereum: ethereum-etl exports and JSON-RPC responses into eth_transactions and eth_token_transfers."""

from cryptoscope.sources.chain.ethereum.ingest import EthereumIngestResult, build_tables, ingest_ethereum
from cryptoscope.sources.chain.ethereum.transfers import TRANSFER_TOPIC, decode_transfer

__all__ = ["TRANSFER_TOPIC", "EthereumIngestResult", "build_tables", "decode_transfer", "ingest_ethereum"]
