"""One USSD dialogue per subscriber at a time (3GPP TS 24.090: a handset holds one USSD transaction),
so a second push to a subscriber in a session is refused or queued, never interleaved.

:class:`Subscribers` records who holds each subscriber (an open session, or a send about to open
one) and hands a freed subscriber to the oldest waiting send, first come first served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque

from channels.errors import ChannelClosed, SendRejected
from channels.message import mask_msisdn

RESERVED = object()  # a subscriber taken for a session that is about to open


class SubscriberBusy(SendRejected):
    """The subscriber already has a USSD session open (``on_busy=refuse``, or the queue timed out)."""


class Subscribers:
    def __init__(self, *, queue: bool, queue_timeout: float) -> None:
        self.queue = queue
        self.queue_timeout = queue_timeout
        self._holders: dict[str, object] = {}  # msisdn -> session, a waiter's future, or RESERVED
        self._waiters: dict[str, deque[asyncio.Future[None]]] = {}

    def holder(self, msisdn: str) -> object | None:
        return self._holders.get(msisdn)

    def hold(self, msisdn: str, holder: object) -> None:
        """``holder`` has the subscriber now (a session that opened, or a dialogue the network began)."""
        self._holders[msisdn] = holder

    async def reserve(self, msisdn: str, message_id: str) -> None:
        """Take the subscriber for a new session: at once, after the open one (queue), or never."""
        if msisdn not in self._holders and not self._waiters.get(msisdn):
            self._holders[msisdn] = RESERVED
            return
        if not self.queue:
            raise SubscriberBusy(
                f"message {message_id}: {mask_msisdn(msisdn)} has a USSD session open", name="busy"
            )
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiting = self._waiters.setdefault(msisdn, deque())
        waiting.append(fut)
        ok = False
        try:
            async with asyncio.timeout(self.queue_timeout):
                await fut
            ok = True
        except TimeoutError:
            raise SubscriberBusy(
                f"message {message_id}: {mask_msisdn(msisdn)} still in a USSD session after "
                f"{self.queue_timeout}s",
                name="busy",
            ) from None
        finally:
            with contextlib.suppress(ValueError):
                waiting.remove(fut)
            if not waiting and self._waiters.get(msisdn) is waiting:
                del self._waiters[msisdn]
            if not ok:
                self.release(msisdn, fut)

    def release(self, msisdn: str, holder: object) -> None:
        """``holder`` is done with the subscriber: hand it to the first waiting send, if any."""
        if self._holders.get(msisdn) is not holder:
            return
        del self._holders[msisdn]
        waiting = self._waiters.get(msisdn)
        while waiting:
            fut = waiting.popleft()
            if not fut.done():
                self._holders[msisdn] = fut
                fut.set_result(None)
                return

    def close(self) -> None:
        """Fail every waiting send."""
        for waiting in self._waiters.values():
            for fut in waiting:
                if not fut.done():
                    fut.set_exception(ChannelClosed("USSD channel closed"))
