"""The rate limit in the Dispatcher on the real clock: 64 concurrent senders share one GCRA limit
through slot reservations, so the achieved rate is the limit (no thundering herd of retries, no
burst); and a job restarted on the same SQLite file sends nothing twice."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from channels import ChannelKind, Dispatcher, Event, Message, Rejected, SendResult, Sent, Text
from throttle import MemoryStore, RateLimit, SqliteStore, default_pipeline

RATE = 1000.0
COUNT = 2000


class TimedChannel:
    kind = ChannelKind.SMS
    name = "timed"

    def __init__(self) -> None:
        self.times: list[float] = []
        self._closed = asyncio.Event()

    async def send(self, message: Message) -> SendResult:
        self.times.append(time.monotonic())
        now = datetime.now(UTC)
        return SendResult(message_id=message.id, channel=self.kind, remote_ids=(message.id,), accepted_at=now)

    async def events(self) -> AsyncIterator[Event]:
        await self._closed.wait()
        return
        yield

    async def aclose(self) -> None:
        self._closed.set()


def msg(i: int) -> Message:
    return Message(to=f"+86138{i:08d}", kind=ChannelKind.SMS, content=Text(body="hi"), id=f"rt-{i}")


async def test_concurrent_senders_hold_the_rate_on_the_real_clock() -> None:
    channel = TimedChannel()
    pipeline = default_pipeline(MemoryStore(), limits=[RateLimit(RATE)])
    async with Dispatcher([channel], policies=[pipeline]) as d:
        outcomes = [o async for o in d.send_many((msg(i) for i in range(COUNT)), concurrency=64)]
    assert len(outcomes) == COUNT and all(isinstance(o, Sent) for o in outcomes)
    times = channel.times
    achieved = (COUNT - 1) / (times[-1] - times[0])
    assert RATE * 0.9 <= achieved <= RATE * 1.01, achieved
    j = 0
    worst = 0
    for i, t in enumerate(times):
        while times[j] < t - 0.1:
            j += 1
        worst = max(worst, i - j + 1)
    # Slots are exact (the fake-clock tests check every slice); on the real clock a sliding 100 ms
    # window also sees the event loop's lateness (a stall of a few ms on a loaded 2-core machine lets
    # slots already due go together), never a burst of the 64 senders (that would be 164).
    assert worst <= RATE / 10 * 1.5, worst


async def test_a_restarted_job_on_the_same_sqlite_file_sends_nothing_twice(tmp_path: Path) -> None:
    first = SqliteStore(tmp_path / "throttle.db")
    async with Dispatcher(
        [TimedChannel()], policies=[default_pipeline(first, limits=[RateLimit(RATE)])]
    ) as d:
        outcomes = [o async for o in d.send_many(msg(i) for i in range(20))]
    await first.aclose()
    assert all(isinstance(o, Sent) for o in outcomes)
    reopened = SqliteStore(tmp_path / "throttle.db")
    channel = TimedChannel()
    async with Dispatcher([channel], policies=[default_pipeline(reopened, limits=[RateLimit(RATE)])]) as d:
        replay = [o async for o in d.send_many(msg(i) for i in range(25))]
    await reopened.aclose()
    assert sum(isinstance(o, Rejected) and o.reason.startswith("duplicate") for o in replay) == 20
    assert len(channel.times) == 5
