"""Batches from a durable JetStream pull consumer, one request kept ahead, read from a plain subscription.

Why not nats-py's `PullSubscription.fetch`: it awaits each message through ``Subscription.next_msg``, which
creates a task, an ``asyncio.wait_for`` and a uuid4 per message (nats.py issue #703; the open pull requests
#752 and #862 rework it). Measured on this machine draining 100,000 messages from a local nats-server
(`benchmarks/stream.py`'s ceiling): ~26 µs of CPU per message through ``fetch``, ~6 µs here, where each message
is handed to a subscription callback (nats-py's public `subscribe(cb=...)`) that appends it to a buffer.

The protocol is JetStream's own pull API: a request on ``$JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>`` with
``{"batch": N, "expires": ns}`` and our inbox as the reply subject; the server delivers up to N messages to the
inbox, and ends a request it could not fill with a status message (408 when it expired, 409 for a reason in
its description). One request is outstanding at a time, issued when the buffer is drained below a batch, so the
broker sends the next batch while the consumer works on this one, and the buffer never holds more than two
batches. A request lost with a connection (the broker restarted) is re-issued after the client reconnects.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import Any

import orjson
from nats.aio.client import Client
from nats.aio.msg import Msg

from cryptoscope.errors import CryptoscopeError

#: the status header nats-py puts a status line's code in, and the description's
STATUS, DESCRIPTION = "Status", "Description"
HEARTBEAT = "100"


class Pull:
    """Messages of durable consumer ``consumer`` on ``stream``, ``batch`` at most per `fetch` (see the module doc)."""

    def __init__(self, nc: Client, stream: str, consumer: str, batch: int, *, expires_s: float = 5.0) -> None:
        self.nc, self.batch, self.expires_s = nc, batch, expires_s
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self.inbox = nc.new_inbox()
        self._buffer: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._owed = 0  # messages the outstanding request may still bring (0: none outstanding)
        self._asked_at = 0.0
        self._reconnects = nc.stats["reconnects"]
        self._error: str | None = None
        self._sub: Any = None

    async def start(self) -> Pull:
        # no client-side limits (0): the requests bound what comes, and nats-py would drop what exceeds a limit
        self._sub = await self.nc.subscribe(self.inbox, cb=self._on, pending_msgs_limit=0, pending_bytes_limit=0)
        return self

    async def _on(self, msg: Msg) -> None:
        """A message or a status on our inbox (runs in nats-py's reading task)."""
        status = msg.headers.get(STATUS) if msg.headers and not msg.reply else None
        if status is not None:
            if status == HEARTBEAT:
                return
            description = msg.headers.get(DESCRIPTION, "") if msg.headers else ""
            if status == "409" and "deleted" in description.lower():
                self._error = f"the consumer was deleted ({description})"
            self._owed = 0  # the request ended: expired (408) or ended by the server (409)
        else:
            self._buffer.append(msg)
            self._owed = max(0, self._owed - 1)
        self._arrived.set()

    async def _ask(self) -> None:
        """Issue the next request when none is outstanding and the buffer holds less than a batch."""
        reconnects = self.nc.stats["reconnects"]
        if reconnects != self._reconnects:  # the request may have died with the connection
            self._reconnects, self._owed = reconnects, 0
        elif self._owed and time.monotonic() - self._asked_at > self.expires_s + 1.0:
            self._owed = 0  # its expiry status never came: treat it as gone
        if self._owed or len(self._buffer) >= self.batch:
            return
        self._owed, self._asked_at = self.batch, time.monotonic()
        body = orjson.dumps({"batch": self.batch, "expires": int(self.expires_s * 1e9)})
        await self.nc.publish(self.subject, body, reply=self.inbox)

    async def fetch(self, wait_s: float) -> list[Msg]:
        """Up to a batch of messages in delivery order; waits up to ``wait_s`` for the first, [] when none came."""
        if self._error is not None:
            raise CryptoscopeError(self._error)
        await self._ask()
        if not self._buffer:
            deadline = time.monotonic() + wait_s
            while not self._buffer:
                left = deadline - time.monotonic()
                if left <= 0:
                    return []
                self._arrived.clear()
                try:
                    await asyncio.wait_for(self._arrived.wait(), left)
                except TimeoutError:
                    return []
                await self._ask()  # a status ended the request: ask again while time is left
        n = min(self.batch, len(self._buffer))
        out = [self._buffer.popleft() for _ in range(n)]
        await self._ask()  # the broker sends the next batch while this one is worked on
        await asyncio.sleep(0)  # a turn for the other tasks (the client's reader, a commit) between batches
        return out

    async def close(self) -> None:
        """Stop taking messages; whatever is buffered and not acknowledged comes again after the ack wait."""
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None
        self._buffer.clear()
