"""asyncio glue for one SMPP TCP connection: bytes to and from a :class:`SmppConnection`.

Shared by the client (ESME role) and the SMSC/USSD simulators (SMSC role). It owns nothing but the
socket and the timer: the owner gets the connection's events through ``on_events`` and decides.
Writes are coalesced: whatever the connection queued during one loop turn goes out in one
``transport.write`` (DESIGN §6).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from channels.smpp.connection import Event, SmppConnection


class SmppTransport(asyncio.Protocol):
    """An asyncio Protocol driving one SmppConnection."""

    def __init__(
        self,
        connection: SmppConnection,
        on_events: Callable[[list[Event]], None],
        on_lost: Callable[[Exception | None], None],
    ) -> None:
        self.conn = connection
        self._on_events = on_events
        self._on_lost = on_lost
        self._loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self._flush_handle: asyncio.Handle | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: float | None = None
        self.closed = False
        self._writable = asyncio.Event()
        self._writable.set()

    # -- asyncio.Protocol --------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # not isinstance under uvloop
        self.transport = transport
        self.rearm()

    def data_received(self, data: bytes) -> None:
        events = self.conn.receive_data(data, self._loop.time())
        if events:
            self._on_events(events)
        # Written at the end of this loop turn, not now: the senders this read woke up (their
        # window credit or batch future) run first in the same turn, so their new requests leave
        # in the same write as these answers (one send() syscall instead of two per read).
        self.schedule_flush()
        self.rearm()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._writable.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
        self._on_lost(exc)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def drained(self) -> None:
        """Wait while the socket's send buffer is above its high-water mark (back-pressure)."""
        await self._writable.wait()

    def loop_time(self) -> float:
        """The event loop's clock (what the connection's deadlines use)."""
        return self._loop.time()

    # -- writing -----------------------------------------------------------------------------------

    def schedule_flush(self) -> None:
        """Write what the connection queued, once, at the end of this loop turn."""
        if self._flush_handle is None and not self.closed:
            self._flush_handle = self._loop.call_soon(self.flush)

    def flush(self) -> None:
        self._flush_handle = None
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.closed:
            self.transport.write(data)

    def close(self) -> None:
        self.flush()
        if self.transport is not None and not self.closed:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.abort()

    # -- timers ------------------------------------------------------------------------------------

    def rearm(self) -> None:
        """(Re)schedule handle_timer() for the connection's next deadline.

        Lazily: a timer already due at or before the new deadline is kept, since handle_timer() may
        run early (it acts only on what is due) and _fire() re-arms for the rest. The keepalive
        deadline moves with every read and a response deadline with every request, so re-arming
        on each change cost a TimerHandle and a heap entry per read or write."""
        at = self.conn.get_timer()
        if at == self._timer_at or self.closed:
            return
        if at is not None and self._timer is not None and self._timer_at is not None and self._timer_at <= at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self._loop.call_at(at, self._fire) if at is not None else None

    def _fire(self) -> None:
        self._timer = None
        self._timer_at = None
        events = self.conn.handle_timer(self._loop.time())
        if events:
            self._on_events(events)
        self.flush()
        self.rearm()
