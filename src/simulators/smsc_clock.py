"""Wall-clock time for what the simulated SMSC writes: each record's ``received_at`` and the receipt
dates (SMPP v3.4 Appendix B ``submit date`` / ``done date``).

Both change once a second in the part that costs (``datetime`` construction and ``isoformat``: 3 µs a
message under load, more than the rest of a record), so the second is formatted once and only the
microseconds are added per call. The source of time is injectable, so a test can freeze it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class WallClock:
    """UTC time as epoch seconds, and ``received_at`` strings as ``datetime.isoformat`` writes them."""

    __slots__ = ("_prefix", "_second", "time")

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self.time = source  # epoch seconds (UTC), like time.time
        self._second = -1
        self._prefix = ""

    def iso(self, when: float) -> str:
        """``datetime.fromtimestamp(when, UTC).isoformat()``: ``2025-11-23T15:40:07.123456+00:00``
        (no fraction when the microseconds are 0, as isoformat writes it)."""
        second = int(when)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, UTC).isoformat()[:-6]  # without "+00:00"
        micro = int((when - second) * 1_000_000)
        return f"{self._prefix}.{micro:06d}+00:00" if micro else f"{self._prefix}+00:00"

    def now_iso(self) -> str:
        return self.iso(self.time())
