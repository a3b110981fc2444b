"""Holding deferred messages for the Dispatcher: wait for rate tokens, queue the rest by time.

Policies answer ``Defer(until, reason)`` (DESIGN §1). Two kinds matter here. A rate limit's refusal
(reason starting with :data:`RATE_LIMIT_REASON`) names the moment its token is due, usually
milliseconds away; the sender waits for it and asks again, instead of failing (a GCRA limiter has
reserved that slot, so the wait is short and fair). Any other deferral (a quiet-hours window) may
last hours: ``send_many`` parks such messages in :class:`DeferredFeed`, one time-ordered heap, not
a sleeping task per message, and hands them back to its workers when due; a bounded heap stops
reading the caller's source, so back-pressure holds. Time comes from the Dispatcher's clock and
``sleep``, so tests drive it with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from channels.clock import Clock
from channels.message import Message
from channels.policy import Decision, Defer
from channels.results import Deferred, Outcome

RATE_LIMIT_REASON = "rate_limit"

Sleep = Callable[[float], Awaitable[None]]


def waits_for_token(decision: Decision) -> bool:
    """A rate limit's refusal: the sender waits for the token rather than returning Deferred."""
    return isinstance(decision, Defer) and decision.reason.startswith(RATE_LIMIT_REASON)


async def sleep_until(when: datetime, clock: Clock, sleep: Sleep) -> None:
    delay = (when - clock.now()).total_seconds()
    await sleep(max(0.0, delay))


async def evaluate_waiting(
    evaluate: Callable[[Message], Awaitable[Decision]], message: Message, clock: Clock, sleep: Sleep
) -> Decision:
    """Evaluate; while a rate limit refuses, sleep until its token is due and evaluate again."""
    decision = await evaluate(message)
    while waits_for_token(decision):
        assert isinstance(decision, Defer)
        await sleep_until(decision.until, clock, sleep)
        decision = await evaluate(message)
    return decision


class DeferredFeed:
    """The message source of ``send_many``'s workers: due deferred messages first, then the caller's
    messages; it ends when the source is exhausted, nothing is held and nothing is in flight.

    Each message keeps the index it was read at (for ``ordered`` output). Held messages are a heap
    of ``(due, seq, index, message)``; at most ``max_held`` are held before the source is paused.

    A plain iterable is read with ``next()`` as chunks are taken: whatever it yields is ready. An
    async source may instead wait before its next message (a queue fed as targets are scored, a
    broker), and a chunk must not wait for it: a message already read would be held until the
    chunk filled or the source ended. So an async source is read by a task of its own into a
    buffer of at most ``read_ahead`` messages, and a chunk takes what the buffer holds, waiting
    only for its first message. Call :meth:`close` when done with the feed (it stops that task).
    """

    def __init__(
        self,
        source: Iterable[Message] | AsyncIterable[Message],
        clock: Clock,
        sleep: Sleep,
        max_held: int,
        read_ahead: int = 64,
    ) -> None:
        self._async: AsyncIterator[Message] | None = None
        self._sync: Iterator[Message] | None = None
        if isinstance(source, AsyncIterable):
            self._async = aiter(source)
        else:
            self._sync = iter(source)
        self._read_ahead = max(1, read_ahead)
        self._buffer: deque[Message] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._source_done = False  # the async source ended (or failed: _source_error)
        self._source_error: BaseException | None = None
        self._room = asyncio.Event()  # the buffer has room again
        self._clock = clock
        self._sleep = sleep
        self._max_held = max_held
        self._held: list[tuple[datetime, int, int, Message]] = []
        self._seq = itertools.count()
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._exhausted = False
        self._in_flight = 0
        self._read = 0

    def __len__(self) -> int:
        return len(self._held)

    async def next(self) -> tuple[int, Message] | None:
        """The next message to send, with its index; None when everything is done."""
        chunk = await self.take(1)
        return chunk[0] if chunk else None

    async def take(self, n: int) -> list[tuple[int, Message]]:
        """Up to ``n`` messages for one chunk: waits for the first, then takes only what is ready.
        Empty when everything is done. One lock acquisition per chunk: a worker calls this only
        when it has nothing in flight, so a waiter never blocks a worker that must settle."""
        async with self._lock:
            chunk: list[tuple[int, Message]] = []
            while len(chunk) < n:
                item = await self._pull(block=not chunk)
                if item is None:
                    break
                chunk.append(item)
            return chunk

    async def _pull(self, *, block: bool) -> tuple[int, Message] | None:
        while True:
            if self._held and self._held[0][0] <= self._clock.now():
                _, _, index, due = heapq.heappop(self._held)
                self._in_flight += 1
                self._room.set()
                return index, due
            if not self._exhausted and len(self._held) < self._max_held:
                message: Message | None
                if self._sync is not None:
                    try:
                        message = next(self._sync)
                    except StopIteration:
                        self._exhausted = True
                        continue
                elif self._buffer:
                    message = self._buffer.popleft()
                    self._room.set()
                elif self._source_done:
                    self._exhausted = True
                    if self._source_error is not None:
                        raise self._source_error
                    continue
                else:  # nothing read yet: wait (below) for the reader, if this pull may wait
                    self._start_reader()
                    message = None
                if message is not None:
                    index, self._read = self._read, self._read + 1
                    self._in_flight += 1
                    return index, message
            if not block or (self._exhausted and not self._held and not self._in_flight):
                return None
            await self._wait()

    def _start_reader(self) -> None:
        if self._reader is None:
            self._reader = asyncio.get_running_loop().create_task(self._read_source())

    async def _read_source(self) -> None:
        """Read the async source into the buffer: at most ``read_ahead`` ahead of the workers, and
        not while the buffer and the held messages together fill ``max_held`` (the heap's
        back-pressure holds for an async source too)."""
        assert self._async is not None
        try:
            async for message in self._async:
                self._buffer.append(message)
                self._changed.set()
                while (
                    len(self._buffer) >= self._read_ahead
                    or len(self._buffer) + len(self._held) >= self._max_held
                ):
                    self._room.clear()
                    await self._room.wait()
        except Exception as exc:  # the caller's source failed: send_many raises it, in its turn
            self._source_error = exc
        finally:
            self._source_done = True
            self._changed.set()

    async def close(self) -> None:
        """Stop reading the source (an async one is read by a task of its own)."""
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def _wait(self) -> None:
        """Wait for the first held message's due time, or for a worker to settle one."""
        self._changed.clear()
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._changed.wait())]
        if self._held:
            delay = (self._held[0][0] - self._clock.now()).total_seconds()
            waiters.append(asyncio.ensure_future(self._sleep(max(0.0, delay))))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()

    def settle(self, index: int, outcome: Outcome, hold: bool) -> bool:
        """A worker finished a message; a Deferred outcome is held (when ``hold``). True if held."""
        self._in_flight -= 1
        held = hold and isinstance(outcome, Deferred)
        if held:
            assert isinstance(outcome, Deferred)
            heapq.heappush(self._held, (outcome.until, next(self._seq), index, outcome.message))
        self._changed.set()
        return held
