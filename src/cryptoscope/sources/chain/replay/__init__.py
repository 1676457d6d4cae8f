"""A node to try the chain commands on, and to test and benchmark them against: a real JSON-RPC HTTP server
(`server.py`) answering Bitcoin Core's calls over real blocks (`bitcoin.py`, decoded as Core does in
`bitcoin_json.py`) or an Ethereum node's from recorded responses (`ethereum.py`), with faults on request."""

from cryptoscope.sources.chain.replay.bitcoin import BitcoinReplay
from cryptoscope.sources.chain.replay.ethereum import EthereumReplay
from cryptoscope.sources.chain.replay.server import Fault, ReplayServer, RpcFault

__all__ = ["BitcoinReplay", "EthereumReplay", "Fault", "ReplayServer", "RpcFault"]
