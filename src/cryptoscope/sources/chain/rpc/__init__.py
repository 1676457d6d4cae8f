"""JSON-RPC over HTTP to a node: where it is and how to log in (`endpoint`), calls with retries (`client`)."""

from __future__ import annotations

import os

from cryptoscope.sources.chain.rpc.client import RpcClient
from cryptoscope.sources.chain.rpc.endpoint import Endpoint, endpoint


def connect(url: str, cookie_file: str | os.PathLike[str] | None = None, *, timeout: float = 60.0, retries: int = 5,
            backoff: float = 0.5) -> RpcClient:
    """A client for the node at ``url`` (credentials in it, or in Bitcoin Core's ``cookie_file``)."""
    return RpcClient(endpoint(url, cookie_file), timeout=timeout, retries=retries, backoff=backoff)


__all__ = ["Endpoint", "RpcClient", "connect", "endpoint"]
