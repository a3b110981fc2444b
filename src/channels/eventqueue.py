"""The Dispatcher's event queue: an unbounded FIFO that its consumers drain in place.

Every receipt of a bulk send passes through it once, so its cost per event counts. With
``asyncio.Queue`` each event paid for two method calls on the way in (``put_nowait`` → ``full``,
``_put``, ``_wakeup_next``, and ``Event.clear`` for ``join``, which nobody here uses) and a
coroutine on the way out (``get`` → ``empty``, ``get_nowait``, ``_get``, ``_wakeup_next``): about
7 thousand instructions per receipt. Here ``put_nowait`` appends and wakes a waiting consumer, if
any, and a consumer takes every event already queued straight from :attr:`EventQueue.items`,
waiting (one future) only when it is empty. ``None`` is the end marker: it stays queued, so every
consumer, however many, sees it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class EventQueue(Generic[T]):
    """Unbounded FIFO of ``T | None`` for one loop; ``None`` ends every consumer."""

    __slots__ = ("_waiters", "items")

    def __init__(self) -> None:
        self.items: deque[T | None] = deque()
        self._waiters: deque[asyncio.Future[None]] = deque()

    def put_nowait(self, item: T | None) -> None:
        self.items.append(item)
        if not self._waiters:
            return
        if item is None:  # the end: every consumer, not one, is to see it
            while self._waiters:
                self._wake_one()
        else:
            self._wake_one()

    def _wake_one(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():  # a consumer cancelled while waiting is skipped
                waiter.set_result(None)
                return

    async def wait(self) -> None:
        """Return once :attr:`items` holds something (at once if it does)."""
        while not self.items:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                # Woken, then cancelled before it ran: the wake-up is passed on, not lost.
                if self.items and not waiter.cancelled():
                    self._wake_one()
                raise

    async def get(self) -> T | None:
        """The next item; ``None`` (the end marker) is left queued for the other consumers."""
        await self.wait()
        item = self.items[0]
        if item is not None:
            self.items.popleft()
        return item
