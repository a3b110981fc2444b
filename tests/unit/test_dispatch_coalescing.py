"""Dispatcher.send: the calls made in one loop turn share one chunk (one policy pass, one
send_batch), each caller still gets its own outcome; a caller cancelled before its turn ends is
dropped, and a failure reaches every caller of the chunk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime

import pytest

from channels import ChannelKind, Dispatcher, Message, Rejected, Sent, Text
from channels.errors import ChannelsError, InvalidRecipient
from channels.results import Event, SendResult


class BatchRecorder:
    kind = ChannelKind.SMS
    name = "fake"

    def __init__(self, fail: BaseException | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail

    async def send(self, message: Message) -> SendResult:
        raise AssertionError("the Dispatcher uses send_batch")

    async def send_batch(self, messages: Sequence[Message]) -> list[SendResult | ChannelsError]:
        self.batches.append([m.id for m in messages])
        if self.fail is not None:
            raise self.fail
        now = datetime.now(UTC)
        return [
            InvalidRecipient("no such subscriber")
            if m.to.endswith("9")
            else SendResult(message_id=m.id, channel=self.kind, remote_ids=(f"r-{m.id}",), accepted_at=now)
            for m in messages
        ]

    async def events(self) -> AsyncIterator[Event]:
        await asyncio.Event().wait()
        yield  # pragma: no cover

    async def aclose(self) -> None:
        return None


def sms(i: int) -> Message:
    return Message(to=f"8613800000{i:03d}", kind=ChannelKind.SMS, content=Text(body="hi"), id=f"m{i}")


async def test_calls_of_one_turn_share_one_chunk_and_each_gets_its_outcome() -> None:
    channel = BatchRecorder()
    async with Dispatcher([channel]) as dispatcher:
        outcomes = await asyncio.gather(*(dispatcher.send(sms(i)) for i in range(10)))
        later = await dispatcher.send(sms(20))
    assert channel.batches == [[f"m{i}" for i in range(10)], ["m20"]]
    assert [o.message.id for o in outcomes] == [f"m{i}" for i in range(10)]
    assert all(isinstance(o, Sent) for i, o in enumerate(outcomes) if i != 9)
    assert isinstance(outcomes[9], Rejected) and "no such subscriber" in outcomes[9].reason
    assert isinstance(later, Sent) and later.result.remote_ids == ("r-m20",)


async def test_a_call_cancelled_within_its_turn_is_not_sent() -> None:
    channel = BatchRecorder()
    async with Dispatcher([channel]) as dispatcher:
        kept = asyncio.ensure_future(dispatcher.send(sms(1)))
        dropped = asyncio.ensure_future(dispatcher.send(sms(2)))
        await asyncio.sleep(0)  # both calls are queued
        dropped.cancel()
        assert isinstance(await kept, Sent)
        with pytest.raises(asyncio.CancelledError):
            await dropped
    assert channel.batches == [["m1"]]


async def test_an_unexpected_failure_reaches_every_caller_of_the_chunk() -> None:
    channel = BatchRecorder(fail=RuntimeError("bug in a channel"))
    async with Dispatcher([channel]) as dispatcher:
        results = await asyncio.gather(*(dispatcher.send(sms(i)) for i in range(3)), return_exceptions=True)
    assert [str(r) for r in results] == ["bug in a channel"] * 3
    assert channel.batches == [["m0", "m1", "m2"]]


async def test_send_many_reads_the_source_only_as_a_slow_consumer_frees_room() -> None:
    pulled = 0

    def source() -> Iterator[Message]:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield sms(i)

    async with Dispatcher([BatchRecorder()]) as dispatcher:
        outcomes = dispatcher.send_many(source(), concurrency=8)
        for _ in range(10):
            await anext(outcomes)
        await asyncio.sleep(0.05)  # the consumer stalls: the workers fill the outcome queue and stop
        # at most: the 10 taken, the rest of their chunk, the queue (8 outcomes), one chunk per worker
        assert pulled <= 10 + 4 + 8 + 8
        stalled = pulled
        await asyncio.sleep(0.05)
        assert pulled == stalled  # nothing more is read while nobody consumes
        rest = [o async for o in outcomes]
    assert len(rest) == 990 and pulled == 1000


async def test_a_send_many_abandoned_by_its_consumer_closes_at_once() -> None:
    channel = BatchRecorder()
    async with Dispatcher([channel]) as dispatcher:
        outcomes = dispatcher.send_many((sms(i) for i in range(1000)), concurrency=8)
        for _ in range(10):
            await anext(outcomes)
        await asyncio.sleep(0.02)  # the outcome queue is full: the workers wait on it
        # The end marker no longer waits for room in a queue nobody reads (it hung asyncio.run's
        # shutdown, which closes abandoned generators the same way).
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.wait_for(outcomes.aclose(), 2)  # (a hang would be cut here and swallowed)
        assert loop.time() - started < 1.0  # a bound for a hang, not a speed figure
        sent = sum(len(batch) for batch in channel.batches)
        await asyncio.sleep(0.02)
        assert sum(len(batch) for batch in channel.batches) == sent < 40  # nothing more goes out


class OldStyleSubscriber(BatchRecorder):
    """A channel written before subscribe() took ``receipts`` and send_batch ``on_accepted``."""

    def __init__(self) -> None:
        super().__init__()
        self.sinks: list[object] = []

    def subscribe(self, sink: object) -> None:
        self.sinks.append(sink)


async def test_channels_with_the_older_signatures_are_still_driven() -> None:
    channel = OldStyleSubscriber()
    async with Dispatcher([channel]) as dispatcher:
        outcome = await dispatcher.send(sms(1))
    assert isinstance(outcome, Sent) and channel.batches == [["m1"]] and len(channel.sinks) == 1


async def test_send_many_sends_what_an_async_source_gave_without_waiting_for_its_next() -> None:
    """A source that waits between messages (a queue fed as targets are scored) must not hold the
    messages it already gave until a chunk fills: each goes out while the source waits."""
    channel = BatchRecorder()
    queue: asyncio.Queue[Message | None] = asyncio.Queue()

    async def source() -> AsyncIterator[Message]:
        while (message := await queue.get()) is not None:
            yield message

    async with Dispatcher([channel]) as dispatcher:
        outcomes = dispatcher.send_many(source(), concurrency=64)
        for i in range(3):
            queue.put_nowait(sms(i))
            outcome = await asyncio.wait_for(anext(outcomes), 1)  # before the source's next message
            assert isinstance(outcome, Sent) and outcome.message.id == f"m{i}"
        queue.put_nowait(None)
        assert [o async for o in outcomes] == []
    assert channel.batches == [["m0"], ["m1"], ["m2"]]


async def test_send_many_reads_an_async_source_at_most_concurrency_ahead_and_raises_its_error() -> None:
    channel = BatchRecorder()
    read: list[int] = []

    async def source() -> AsyncIterator[Message]:
        for i in range(100):
            read.append(i)
            yield sms(i)
        raise RuntimeError("the source broke")

    async with Dispatcher([channel]) as dispatcher:
        outcomes = dispatcher.send_many(source(), concurrency=8)
        first = await anext(outcomes)
        assert isinstance(first, Sent)
        assert len(read) <= 1 + 8 + 8 + 8  # a chunk per worker in flight, and the read-ahead
        got = [first]
        with pytest.raises(ExceptionGroup) as raised:  # as a worker's own failure comes out
            async for outcome in outcomes:
                got.append(outcome)
    assert [str(e) for e in raised.value.exceptions] == ["the source broke"]
    assert len(got) == 100  # every message read before the error was sent
