"""Where a node listens and how to log in: a URL with its credentials, or Bitcoin Core's cookie file.

Bitcoin Core (and bitcoin-etl's ``--provider-uri``) take ``http://user:password@host:8332``; a node on the same
machine more often uses the cookie file it writes at start (``~/.bitcoin/.cookie``: ``__cookie__:<random>``),
which keeps the password out of shell history and process lists. Providers (Infura, Alchemy, ...) put their key
in the path of an ``https`` URL. Whatever the source, the password never appears in a message: `Endpoint.shown`
is the URL with ``***`` in its place.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from cryptoscope.sources.chain.errors import NodeError


@dataclass(frozen=True)
class Endpoint:
    """A node's address and the ``Authorization`` header to send it (None: no credentials)."""

    scheme: str
    host: str
    port: int
    path: str
    authorization: str | None
    shown: str


def endpoint(url: str, cookie_file: str | os.PathLike[str] | None = None) -> Endpoint:
    """Parse ``url`` (``http[s]://[user:password@]host[:port][/path]``), credentials from it or ``cookie_file``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeError("not a node URL: expected http://user:password@host:port (or https://...)",
                        url=_hide(url))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise NodeError("the port is not a number between 0 and 65535", url=_hide(url)) from None
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    shown = _hide(url)
    if cookie_file is not None:
        if user is not None:
            raise NodeError("credentials both in the URL and in a cookie file: give one of them", url=shown)
        user, password = _cookie(Path(cookie_file), shown)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    auth = None
    if user is not None:
        token = base64.b64encode(f"{user}:{password or ''}".encode()).decode("ascii")
        auth = f"Basic {token}"
    return Endpoint(parts.scheme, parts.hostname, port, path, auth, shown)


def _cookie(path: Path, shown: str) -> tuple[str, str]:
    """Bitcoin Core's ``.cookie``: one line ``user:password`` (the user is ``__cookie__``)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise NodeError(f"cannot read the cookie file {path}: {getattr(exc, 'strerror', None) or exc}",
                        url=shown) from None
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise NodeError(f"cookie file {path} does not hold user:password (as Bitcoin Core's .cookie does)",
                        url=shown)
    return user, password


def _hide(url: str) -> str:
    """``url`` with the password replaced by ``***`` (and nothing else changed)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{user}:***@{netloc[1]}").geturl()
