"""The pipeline in the Dispatcher, on a fake clock: rate tokens are waited for, quiet-hour deferrals
are held by ``send_many`` and sent when their window opens, and the rate holds to the message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from channels import (
    ChannelKind,
    Deferred,
    Dispatcher,
    Event,
    FakeClock,
    Message,
    Rejected,
    SendResult,
    Sent,
    Text,
    TransportError,
)
from channels.deferral import DeferredFeed
from throttle import ContactCap, MemoryStore, RateLimit, default_pipeline

MONDAY_8AM_SHANGHAI = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


class RecordingChannel:
    """A Channel that accepts everything and records when (on the fake clock) it was asked."""

    kind = ChannelKind.SMS
    name = "fake"

    def __init__(self, clock: FakeClock, fail: set[str] | None = None) -> None:
        self.clock = clock
        self.sent: list[tuple[datetime, str]] = []
        self.fail = fail or set()
        self._closed = asyncio.Event()

    async def send(self, message: Message) -> SendResult:
        if message.id in self.fail:
            raise TransportError("link down")
        now = self.clock.now()
        self.sent.append((now, message.id))
        return SendResult(message_id=message.id, channel=self.kind, remote_ids=(message.id,), accepted_at=now)

    async def events(self) -> AsyncIterator[Event]:
        await self._closed.wait()
        return
        yield

    async def aclose(self) -> None:
        self._closed.set()


def fake_sleep(clock: FakeClock):  # type: ignore[no-untyped-def]
    async def sleep(seconds: float) -> None:
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


def msg(i: int, **kw: object) -> Message:
    return Message(to=f"+86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="hi"), id=f"m{i}", **kw)  # type: ignore[arg-type]


def dispatcher(clock: FakeClock, channel: RecordingChannel, **pipeline: object) -> Dispatcher:
    policy = default_pipeline(MemoryStore(), clock=clock, **pipeline)  # type: ignore[arg-type]
    return Dispatcher([channel], policies=[policy], clock=clock, sleep=fake_sleep(clock))


async def test_send_waits_for_the_rate_token() -> None:
    clock = FakeClock(MONDAY_8AM_SHANGHAI)
    channel = RecordingChannel(clock)
    async with dispatcher(clock, channel, limits=[RateLimit(10)]) as d:
        outcomes = [await d.send(msg(i)) for i in range(3)]
    assert all(isinstance(o, Sent) for o in outcomes)
    assert [t - MONDAY_8AM_SHANGHAI for t, _ in channel.sent] == [
        timedelta(milliseconds=ms) for ms in (0, 100, 200)
    ]


async def test_send_returns_deferred_for_quiet_hours() -> None:
    clock = FakeClock(MONDAY_8AM_SHANGHAI)
    channel = RecordingChannel(clock)
    async with dispatcher(clock, channel, schedule={"mon-fri": "09:30-12:00"}) as d:
        out = await d.send(msg(1))
        assert isinstance(out, Deferred) and out.until == MONDAY_8AM_SHANGHAI + timedelta(hours=1, minutes=30)
        assert isinstance(await d.send(msg(2, transactional=True)), Sent)
        assert isinstance(await d.send(msg(1)), Deferred)  # its idempotency claim was released


async def test_send_many_holds_deferred_messages_until_the_window_opens() -> None:
    clock = FakeClock(MONDAY_8AM_SHANGHAI)
    channel = RecordingChannel(clock)
    messages = [msg(i, transactional=i % 3 == 0) for i in range(9)]
    async with dispatcher(clock, channel, schedule={"mon-fri": "09:30-12:00"}, limits=[RateLimit(100)]) as d:
        outcomes = [o async for o in d.send_many(messages, concurrency=4)]
    assert sorted(o.message.id for o in outcomes) == sorted(m.id for m in messages)
    assert all(isinstance(o, Sent) for o in outcomes)
    opening = MONDAY_8AM_SHANGHAI + timedelta(hours=1, minutes=30)
    early = [mid for t, mid in channel.sent if t < opening]
    assert sorted(early) == ["m0", "m3", "m6"]
    late = [t for t, mid in channel.sent if t >= opening]
    assert len(late) == 6 and min(late) == opening and max(late) - opening <= timedelta(milliseconds=60)


async def test_send_many_can_yield_deferred_instead() -> None:
    clock = FakeClock(MONDAY_8AM_SHANGHAI)
    channel = RecordingChannel(clock)
    async with dispatcher(clock, channel, schedule={"mon-fri": "09:30-12:00"}) as d:
        outcomes = [o async for o in d.send_many([msg(1), msg(2)], hold_deferred=False)]
    assert [type(o) for o in outcomes] == [Deferred, Deferred] and channel.sent == []


async def test_send_many_rate_is_exact_over_ten_seconds() -> None:
    """1 000/s for 10 s: 10 000 sends, and no 100 ms slice carries more than 100 + 1."""
    start = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    clock = FakeClock(start)
    channel = RecordingChannel(clock)
    messages = (msg(i) for i in range(10_001))
    async with dispatcher(clock, channel, limits=[RateLimit(1000)]) as d:
        outcomes = [o async for o in d.send_many(messages, concurrency=1)]
    assert len(outcomes) == 10_001 and all(isinstance(o, Sent) for o in outcomes)
    offsets = [(t - start).total_seconds() for t, _ in channel.sent]
    assert offsets[-1] == pytest.approx(10.0, abs=1e-6)
    slices = [0] * 100
    for t in offsets[:-1]:
        slices[int(t * 10 + 1e-9)] += 1
    assert max(slices) <= 101 and min(slices) >= 99


async def test_failed_send_rolls_back_claims_and_counts() -> None:
    clock = FakeClock(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    channel = RecordingChannel(clock, fail={"m1"})
    async with dispatcher(clock, channel, caps=[ContactCap(1)]) as d:
        d.retry = type(d.retry)(attempts=1)
        with pytest.raises(TransportError):
            await d.send(msg(1))
        channel.fail.clear()
        assert isinstance(await d.send(msg(1)), Sent)  # neither the id nor the cap stayed taken
        again = await d.send(msg(1))
        assert isinstance(again, Rejected) and again.reason.startswith("duplicate")


async def test_feed_pauses_the_source_when_the_heap_is_full() -> None:
    clock = FakeClock(MONDAY_8AM_SHANGHAI)
    read: list[int] = []

    async def source() -> AsyncIterator[Message]:
        for i in range(5):
            read.append(i)
            yield msg(i)

    feed = DeferredFeed(source(), clock, fake_sleep(clock), max_held=2)
    later = clock.now() + timedelta(hours=1)
    for _ in range(2):
        item = await feed.next()
        assert item is not None
        feed.settle(item[0], Deferred(item[1], later, "quiet_hours"), hold=True)
    # An async source is read by a task of its own (DeferredFeed's docstring); held plus read
    # ahead never exceed max_held, so with the heap full (m0, m1) it reads nothing more.
    await asyncio.sleep(0)
    assert read == [0, 1]
    item = await feed.next()  # the heap is full: the feed waits (advancing the fake clock) for m0
    assert item is not None and item[1].id == "m0" and clock.now() == later and read == [0, 1]
    await asyncio.sleep(0)  # one held message left the heap: room for one message read ahead
    assert read == [0, 1, 2]
    await feed.close()
