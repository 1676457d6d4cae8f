"""Taking a durable consumer's messages in batches from a real nats-server, one request kept ahead."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig

from cryptoscope.errors import CryptoscopeError
from cryptoscope.stream.pull import Pull
from cryptoscope.stream.subjects import position

from .conftest import Broker

STREAM, CONSUMER = "PULL_TEST", "reader"


async def _published(js: Any, first: int, n: int) -> None:
    acks = [await js.publish_async(f"t.{i % 3}", str(i).encode()) for i in range(first, first + n)]
    await asyncio.gather(*acks)


async def _setup(url: str, n: int) -> tuple[Any, Any]:
    nc = await nats.connect(url, reconnect_time_wait=0.2, max_reconnect_attempts=50)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=STREAM, subjects=["t.>"]))
    await js.add_consumer(STREAM, ConsumerConfig(durable_name=CONSUMER, ack_policy=AckPolicy.ALL, max_ack_pending=-1,
                                                 deliver_policy=DeliverPolicy.ALL, ack_wait=60))
    await _published(js, 0, n)
    return nc, js


@contextlib.asynccontextmanager
async def _reading(url: str, n: int, batch: int, **options: float) -> AsyncIterator[tuple[Pull, Any]]:
    """A stream with ``n`` messages, a `Pull` on its durable consumer and the JetStream context; both closed after."""
    nc, js = await _setup(url, n)
    pull = await Pull(nc, STREAM, CONSUMER, batch=batch, **options).start()
    try:
        yield pull, js
    finally:
        await pull.close()
        await nc.close()


async def _take(pull: Pull, n: int, wait_s: float = 5.0) -> list[Msg]:
    got: list[Msg] = []
    while len(got) < n:
        batch = await pull.fetch(wait_s)
        assert batch, f"only {len(got)} of {n} messages came"
        assert len(batch) <= pull.batch
        got += batch
    return got


def _run(body: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(body(), 120))


def test_a_backlog_comes_whole_in_order_in_batches(nats: Broker) -> None:
    async def body() -> None:
        async with _reading(nats.url, 1_234, batch=100) as (pull, _):
            got = await _take(pull, 1_234)
            assert [position(m)[0] for m in got] == list(range(1, 1_235))
            assert [int(m.data) for m in got] == list(range(1_234))
            assert await pull.fetch(0.2) == []  # drained: an empty batch once the wait is over
    _run(body)


def test_messages_published_while_it_waits_arrive_at_once(nats: Broker) -> None:
    async def body() -> None:
        async with _reading(nats.url, 0, batch=50, expires_s=0.3) as (pull, js):
            assert await pull.fetch(0.5) == []  # longer than a request lives: it is asked again
            later = asyncio.create_task(_published(js, 0, 7))
            got = await _take(pull, 7)
            await later
            assert [int(m.data) for m in got] == list(range(7))
            await got[-1].ack()  # acknowledging the last acknowledges all (AckPolicy.ALL)
            await asyncio.sleep(0.2)
            info = await js.consumer_info(STREAM, CONSUMER)
            assert info.num_ack_pending == 0 and info.num_pending == 0
    _run(body)


def test_a_broker_restart_does_not_stall_it(nats: Broker) -> None:
    async def body() -> None:
        async with _reading(nats.url, 300, batch=100) as (pull, _):
            first = await _take(pull, 100)
            await first[-1].ack()
            await pull.nc.flush()
            await asyncio.to_thread(nats.restart, kill=False)
            rest: list[Msg] = []
            for _ in range(200):  # the request in flight died with the connection: the reconnected client asks again
                rest += await pull.fetch(0.5)
                if rest and position(rest[-1])[0] == 300:
                    break
            assert [position(m)[0] for m in rest] == list(range(101, 301))
    _run(body)


def test_a_deleted_consumer_is_a_clear_error(nats: Broker) -> None:
    async def body() -> None:
        async with _reading(nats.url, 0, batch=10) as (pull, js):
            assert await pull.fetch(0.2) == []
            await js.delete_consumer(STREAM, CONSUMER)
            with pytest.raises(CryptoscopeError, match="deleted"):
                for _ in range(20):
                    await pull.fetch(0.2)
    _run(body)
