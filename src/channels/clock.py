"""Time as an input (DESIGN §2.3).

Protocol cores take ``now`` as an argument; policies and adapters take a :class:`Clock`. Tests use
:class:`FakeClock` and never sleep to test timing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Wall time (timezone-aware UTC) for calendars and receipts; monotonic seconds for timers."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to; wall and monotonic time advance together."""

    def __init__(self, start: datetime | None = None) -> None:
        self._wall = start or datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
        if self._wall.tzinfo is None:
            raise ValueError("FakeClock start must be timezone-aware")
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float | timedelta) -> None:
        delta = seconds.total_seconds() if isinstance(seconds, timedelta) else float(seconds)
        if delta < 0:
            raise ValueError("time does not go backwards")
        self._mono += delta
        self._wall += timedelta(seconds=delta)

    def set(self, when: datetime) -> None:
        self.advance(when - self._wall)


class OffsetClock:
    """Real time, shifted to start at ``start``: a campaign rehearsed "as if it were Tuesday 10:00"
    still runs its timers and rate limits in real seconds."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("OffsetClock start must be timezone-aware")
        self._start = start
        self._mono0 = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._mono0)

    def monotonic(self) -> float:
        return time.monotonic()


SYSTEM_CLOCK = SystemClock()
