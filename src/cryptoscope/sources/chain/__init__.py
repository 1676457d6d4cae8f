"""Real public-chain data into the lake: Bitcoin blocks (`bitcoin`), Ethereum exports (`ethereum`), and both
from a node's JSON-RPC (`rpc`)."""

from cryptoscope.sources.chain.errors import ChainDataError, NodeError

__all__ = ["ChainDataError", "NodeError"]
