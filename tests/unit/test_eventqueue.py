"""channels.eventqueue: FIFO order, wake-ups, the end marker, and cancellation (a wake-up given to a
consumer cancelled before it ran goes to the next one, as asyncio.Queue does)."""

from __future__ import annotations

import asyncio

import pytest

from channels.eventqueue import EventQueue


async def test_items_come_out_in_order_and_a_waiting_consumer_is_woken() -> None:
    q: EventQueue[int] = EventQueue()
    q.put_nowait(1)
    assert await q.get() == 1
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    assert not getter.done()  # nothing queued: it waits
    q.put_nowait(2)
    q.put_nowait(3)
    assert await asyncio.wait_for(getter, 1) == 2
    assert await q.get() == 3


async def test_the_end_marker_stays_queued_for_every_consumer() -> None:
    q: EventQueue[int] = EventQueue()
    consumers = [asyncio.create_task(q.get()) for _ in range(3)]
    await asyncio.sleep(0)
    q.put_nowait(None)
    assert await asyncio.wait_for(asyncio.gather(*consumers), 1) == [None, None, None]
    assert await q.get() is None
    assert list(q.items) == [None]


async def test_a_wake_up_given_to_a_cancelled_consumer_goes_to_the_next() -> None:
    q: EventQueue[int] = EventQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)  # both wait, first in line
    q.put_nowait(7)  # wakes first ...
    first.cancel()  # ... which is cancelled before it runs
    assert await asyncio.wait_for(second, 1) == 7
    with pytest.raises(asyncio.CancelledError):
        await first


async def test_a_consumer_cancelled_while_waiting_takes_no_item() -> None:
    q: EventQueue[int] = EventQueue()
    waiting = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    q.put_nowait(5)
    assert await q.get() == 5
    assert not q.items
