"""SmppTransport re-arms its timer lazily: only an earlier deadline moves it (an early wake-up is
harmless: handle_timer acts only on what is due, and _fire re-arms for the rest)."""

from __future__ import annotations

import asyncio
from typing import Any

from channels.smpp.connection import Event
from channels.smpp.transport import SmppTransport


class _Conn:
    """The two calls the transport's timer makes on a connection."""

    def __init__(self) -> None:
        self.deadline: float | None = None
        self.fired: list[float] = []

    def get_timer(self) -> float | None:
        return self.deadline

    def handle_timer(self, now: float) -> list[Event]:
        self.fired.append(now)
        if self.deadline is not None and now >= self.deadline:
            self.deadline = None  # what was due is handled (as SmppConnection does)
        return []

    def data_to_send(self) -> bytes:
        return b""


async def test_only_an_earlier_deadline_moves_the_timer() -> None:
    loop = asyncio.get_running_loop()
    conn = _Conn()
    proto = SmppTransport(conn, lambda events: None, lambda exc: None)  # type: ignore[arg-type]
    base = loop.time()
    conn.deadline = base + 0.05
    proto.rearm()
    first: Any = proto._timer
    conn.deadline = base + 30.0  # later (a read moved the keepalive): the armed timer stays
    proto.rearm()
    assert proto._timer is first and proto._timer_at == base + 0.05
    conn.deadline = base + 0.02  # earlier: re-armed
    proto.rearm()
    assert proto._timer is not first and proto._timer_at == base + 0.02
    assert first.cancelled()
    conn.deadline = base + 0.08  # it fires early, does nothing due, and re-arms for the rest
    await asyncio.sleep(0.04)
    assert len(conn.fired) == 1 and proto._timer_at == base + 0.08
    await asyncio.sleep(0.07)
    assert len(conn.fired) == 2 and conn.fired[1] >= base + 0.08
    assert proto._timer is None  # nothing left to wait for
