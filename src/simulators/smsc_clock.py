"""Wall-clock time for what the simulated SMSC writes: each record's ``received_at`` and the receipt
dates (SMPP v3.4 Appendix B ``submit date`` / ``done date``).

The simulator takes the time as epoch seconds (one ``time.time`` call per message) and keeps it as a
float: a record's ``received_at`` string is written by :func:`iso` only when the record is read or
written to a file, not per message under load. The costly part of it (``datetime`` construction and
``isoformat``) changes once a second, so the second is formatted once and only the microseconds are
added per call. The source of time is injectable, so a test can freeze it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime


class WallClock:
    """UTC time as epoch seconds (``time``, like ``time.time``; a test may replace it)."""

    __slots__ = ("time",)

    def __init__(self, source: Callable[[], float] = time.time) -> None:
        self.time = source


class _IsoFormat:
    """:func:`iso`, with the last second's prefix cached (records are read in time order)."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, when: float) -> str:
        second = int(when)
        if second != self._second:
            self._second = second
            self._prefix = datetime.fromtimestamp(second, UTC).isoformat()[:-6]  # without "+00:00"
        micro = int((when - second) * 1_000_000)
        return f"{self._prefix}.{micro:06d}+00:00" if micro else f"{self._prefix}+00:00"


iso: Callable[[float], str] = _IsoFormat()
"""``datetime.fromtimestamp(when, UTC).isoformat()`` for epoch seconds ``when``:
``2025-11-23T15:40:07.123456+00:00`` (no fraction when the microseconds are 0, as isoformat writes
it; the microseconds truncated, as the simulator has always written them)."""
