"""The micro-batcher: retries that arrive while the first attempt is still being scored are answered as
replays (scored and journalled once), and a snapshot taken amid a flood waits for the batches in flight."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest

from cryptoscope.serve.app import create_app
from cryptoscope.serve.service import Service
from serve.fixtures import bearer
from serve.test_api import withdrawal
from serve.world import ServeWorld

_IDS = itertools.count(9_700_000_000)


@pytest.mark.parametrize("thread", [False, True], ids=["on-the-loop", "treeshap-thread"])
def test_concurrent_retries_with_one_idempotency_key_are_scored_once(live: tuple[Service, dict[str, str]],
                                                                     serve_world: ServeWorld, thread: bool,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    service, keys = live
    monkeypatch.setattr(service.batcher, "thread", thread)
    app = create_app(service.config, service)
    body = withdrawal(service, serve_world.case_users[0]) | {"transfer_id": next(_IDS)}
    others = [withdrawal(service, serve_world.case_users[1]) | {"transfer_id": next(_IDS)} for _ in range(10)]
    seq = service.journal.last_seq()

    async def together() -> tuple[list[httpx.Response], list[httpx.Response], httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            h = bearer(keys["service"])
            retries = [c.post("/v1/score/withdrawal", json=body, headers=h | {"Idempotency-Key": f"batch-k-{thread}"})
                       for _ in range(8)]
            plain = [c.post("/v1/score/withdrawal", json=o, headers=h) for o in others]
            snap = c.post("/v1/admin/snapshot", headers=bearer(keys["admin"]))
            *answers, snapped = await asyncio.gather(*retries, *plain, snap)
            return answers[:8], answers[8:], snapped

    retries, plain, snapped = asyncio.run(together())
    assert [r.status_code for r in retries + plain] == [200] * 18
    assert sum(not r.json()["replayed"] for r in retries) == 1  # scored once; the other seven wait and replay it
    assert len({(r.json()["score"], r.json()["decision"]) for r in retries}) == 1
    assert service.journal.last_seq() == seq + 11
    assert snapped.status_code == 200 and seq <= snapped.json()["journal_seq"] <= seq + 11
    if thread:  # the batches went through the worker, and every one of them is finished
        assert service.batcher._tail is not None and service.batcher._tail.done()


class _Recorder:
    """What the batcher needs of a service, recording the batches it is given."""

    def __init__(self) -> None:
        self.sizes: list[int] = []
        self.metrics = self

    def decide(self, kind: str, rows: list[dict[str, int]], keys: list[None]) -> list[int]:
        self.sizes.append(len(rows))
        return [row["n"] for row in rows]

    def batch(self, size: int) -> None:
        pass


def test_a_busy_batcher_lets_the_next_batch_wait_for_company() -> None:
    """Right after a flush, a new request waits ``wait`` so that those arriving on the loop's next turns join it;
    the first request of a quiet server is flushed at once."""
    from cryptoscope.serve.batcher import Batcher

    service = _Recorder()
    batcher = Batcher(service, max_batch=64, explain_thread=False, wait=0.5)  # type: ignore[arg-type]

    async def run() -> list[int]:
        first = await batcher.submit("withdrawal", {"n": 1})  # quiet: flushed on the next turn
        second = asyncio.ensure_future(batcher.submit("withdrawal", {"n": 2}))  # busy now: waits
        for _ in range(5):
            await asyncio.sleep(0)  # later turns of the loop, well within the wait
        third = asyncio.ensure_future(batcher.submit("withdrawal", {"n": 3}))
        return [first, *await asyncio.gather(second, third)]

    assert asyncio.run(run()) == [1, 2, 3]
    assert service.sizes == [1, 2]
    batcher.close()


def test_drain_sends_a_batch_waiting_for_company_at_once() -> None:
    """Shutdown and snapshots drain the batcher: a request waiting out ``wait`` is scored then, not after."""
    from cryptoscope.serve.batcher import Batcher

    service = _Recorder()
    batcher = Batcher(service, max_batch=64, explain_thread=False, wait=30.0)  # type: ignore[arg-type]

    async def run() -> int:
        await batcher.submit("withdrawal", {"n": 1})  # the server is busy from now on
        waiting = batcher.enqueue("withdrawal", {"n": 2})  # would wait 30 s for company
        await asyncio.wait_for(batcher.drain(), 5)
        assert waiting.done()
        return waiting.result()

    assert asyncio.run(run()) == 2 and service.sizes == [1, 1]
    batcher.close()
