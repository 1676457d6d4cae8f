"""JSON-RPC over HTTP to a node: where it is and how to log in (`endpoint`), calls with retries (`client`)."""

from cryptoscope.sources.chain.rpc.client import RpcClient
from cryptoscope.sources.chain.rpc.endpoint import Endpoint, endpoint

__all__ = ["Endpoint", "RpcClient", "endpoint"]
