"""One USSD session per subscriber: refuse, or queue first come first served (issue 8 collisions)."""

from __future__ import annotations

import asyncio

import pytest

from channels import ChannelClosed
from channels.ussd.subscribers import RESERVED, SubscriberBusy, Subscribers

A = "8613800138000"


async def test_refuse_a_second_session() -> None:
    subs = Subscribers(queue=False, queue_timeout=10)
    await subs.reserve(A, "m1")
    assert subs.holder(A) is RESERVED
    session = object()
    subs.hold(A, session)
    with pytest.raises(SubscriberBusy, match=r"message m2: 86138\*+00 has a USSD session open"):
        await subs.reserve(A, "m2")
    await subs.reserve("8613800138001", "m3")  # another subscriber is free
    subs.release(A, object())  # not the holder: nothing happens
    assert subs.holder(A) is session
    subs.release(A, session)
    assert subs.holder(A) is None
    await subs.reserve(A, "m4")


async def test_queued_sends_take_the_subscriber_in_order() -> None:
    subs = Subscribers(queue=True, queue_timeout=10)
    await subs.reserve(A, "first")
    first = object()
    subs.hold(A, first)
    order: list[str] = []

    async def send(name: str) -> None:
        await subs.reserve(A, name)
        order.append(name)
        holder = object()
        subs.hold(A, holder)
        await asyncio.sleep(0)  # the session runs...
        subs.release(A, holder)

    tasks = [asyncio.create_task(send(n)) for n in ("second", "third", "fourth")]
    await asyncio.sleep(0)
    assert order == []  # all waiting
    subs.release(A, first)
    await asyncio.gather(*tasks)
    assert order == ["second", "third", "fourth"]
    assert subs.holder(A) is None


async def test_a_new_send_does_not_overtake_queued_ones() -> None:
    subs = Subscribers(queue=True, queue_timeout=10)
    await subs.reserve(A, "first")
    waiter = asyncio.create_task(subs.reserve(A, "second"))
    await asyncio.sleep(0)
    subs.release(A, RESERVED)
    late = asyncio.create_task(subs.reserve(A, "third"))  # the subscriber is handed to "second"
    await waiter
    await asyncio.sleep(0)
    assert not late.done()
    late.cancel()
    with pytest.raises(asyncio.CancelledError):
        await late


async def test_close_fails_waiting_sends() -> None:
    subs = Subscribers(queue=True, queue_timeout=10)
    await subs.reserve(A, "first")
    waiter = asyncio.create_task(subs.reserve(A, "second"))
    await asyncio.sleep(0)
    subs.close()
    with pytest.raises(ChannelClosed):
        await waiter
    assert subs.holder(A) is RESERVED  # still the first session's


async def test_a_cancelled_waiter_that_was_handed_the_subscriber_passes_it_on() -> None:
    subs = Subscribers(queue=True, queue_timeout=10)
    await subs.reserve(A, "first")
    second = asyncio.create_task(subs.reserve(A, "second"))
    third = asyncio.create_task(subs.reserve(A, "third"))
    await asyncio.sleep(0)
    subs.release(A, RESERVED)  # hands A to "second"...
    second.cancel()  # ...which is cancelled before it resumes
    with pytest.raises(asyncio.CancelledError):
        await second
    await asyncio.wait_for(third, 1)  # so "third" gets it
    assert subs.holder(A) is not None
