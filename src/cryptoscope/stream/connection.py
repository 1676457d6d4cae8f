"""Connecting to the broker: a NATS URL, with credentials in it or in a credentials file.

``nats://host:4222`` (no authentication: a laptop or the tests), ``nats://user:password@host:4222``,
``nats://TOKEN@host:4222`` or a ``.creds`` file (a NATS user JWT and its key, as ``nsc`` writes them).
An unreachable broker is a clear error naming the URL (without its password), not a hang.
"""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nats
from nats.aio.client import Client

from cryptoscope.errors import CryptoscopeError


def redacted(url: str) -> str:
    """The URL with its password or token replaced by ``***``."""
    parts = urlsplit(url)
    if parts.username is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    who = "***" if parts.password is None else f"{parts.username}:***"
    return urlunsplit((parts.scheme, f"{who}@{host}{port}", parts.path, parts.query, parts.fragment))


async def connect(url: str, credentials: Path | None = None, *, name: str = "cryptoscope") -> Client:
    """A connected client; raises `CryptoscopeError` when the broker cannot be reached within a few seconds."""
    if not url.startswith(("nats://", "tls://")):
        raise CryptoscopeError(f"{url}: a broker URL looks like nats://HOST:PORT")
    if credentials is not None and not credentials.is_file():
        raise CryptoscopeError(f"{credentials}: no such credentials file")

    parts = urlsplit(url)
    try:  # a quick look first: the client would retry a wrong address for seconds before saying so
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), timeout=3).close()
    except OSError as exc:
        raise CryptoscopeError(f"cannot reach the broker at {redacted(url)}: {exc.strerror or exc}") from None

    async def refused(exc: Exception) -> None:  # nats-py reports failed attempts here; the raise below says it
        return None

    try:
        return await nats.connect(url, name=name, connect_timeout=3, max_reconnect_attempts=10, reconnect_time_wait=1,
                                  allow_reconnect=True, user_credentials=str(credentials) if credentials else None,
                                  error_cb=refused)
    except Exception as exc:  # nats-py raises several unrelated types for "no server there"
        raise CryptoscopeError(f"cannot reach the broker at {redacted(url)}: {exc or type(exc).__name__}") from None
