"""Real public-chain data into the lake: Bitcoin blocks (`bitcoin`) and Ethereum exports (`ethereum`)."""

from cryptoscope.sources.chain.errors import ChainDataError

__all__ = ["ChainDataError"]
