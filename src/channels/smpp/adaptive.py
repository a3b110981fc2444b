"""Adaptive send rate for one SMPP bind: AIMD on ESME_RTHROTTLED / ESME_RMSGQFUL (PROTOCOLS.md §1.3, §10).

An SMSC that answers ``ESME_RTHROTTLED`` (0x58) or ``ESME_RMSGQFUL`` (0x14) is telling us its limit,
which is often lower than the contract says and changes with its load. Retrying alone keeps hitting it
(Jasmin's fixed requeue delays, jookies/jasmin#425), so a bind slows down: each throttle pauses sends
for a short, doubling backoff, and cuts the rate multiplicatively (at most once per ``cut_interval``, as
TCP cuts once per round trip); after ``hold`` seconds without a throttle the rate grows back additively
until it reaches the configured ceiling (or, with no ceiling, the rate it had when first cut, where the
limit is lifted). The class is pure: every method takes ``now`` (monotonic seconds), so it is tested
with a fake clock; the client sleeps until :meth:`AdaptiveRate.reserve` says.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AdaptiveSettings:
    """Tuning of :class:`AdaptiveRate`. ``ceiling``: configured TPS (0 = no fixed limit)."""

    ceiling: float = 0.0
    floor: float = 1.0  # never slower than this (messages per second)
    decrease: float = 0.5  # multiplicative cut on a throttle
    increase: float = 0.1  # share of the pre-cut rate regained per second of clean sending
    hold: float = 1.0  # seconds after the last throttle before the rate grows again
    cut_interval: float = 0.5  # throttles closer than this to the last cut do not cut again
    backoff: float = 0.05  # first pause after a throttle; doubles per consecutive throttle
    max_backoff: float = 2.0
    min_span: float = 0.05  # seconds: the shortest span a burst's rate is measured over

    def __post_init__(self) -> None:
        if self.ceiling < 0 or self.floor <= 0:
            raise ValueError("ceiling must be >= 0 and floor > 0")
        if not 0 < self.decrease < 1:
            raise ValueError(f"decrease must be in (0, 1), got {self.decrease}")


class AdaptiveRate:
    """Pacing of one bind's submits. ``rate`` is None while nothing limits it."""

    __slots__ = (
        "_bucket",
        "_bucket_start",
        "_consecutive",
        "_grown_at",
        "_last_cut",
        "_last_rate",
        "_next",
        "_paused_until",
        "_step",
        "_target",
        "rate",
        "settings",
        "throttles",
    )

    def __init__(self, settings: AdaptiveSettings | None = None) -> None:
        self.settings = settings or AdaptiveSettings()
        self.rate: float | None = self.settings.ceiling or None
        self.throttles = 0  # throttle answers seen
        self._next = 0.0  # earliest time of the next send at the current rate
        self._paused_until = 0.0
        self._consecutive = 0
        self._last_cut = float("-inf")
        self._grown_at = 0.0
        self._target: float | None = None  # where recovery stops (None: the ceiling, or unlimited)
        self._step = 0.0  # additive increase, messages per second per second
        self._bucket_start = 0.0  # observed send rate: sends in the current and the last second
        self._bucket = 0
        self._last_rate = 0.0

    def reserve(self, now: float) -> float:
        """Take the next send slot; returns when it is (``now`` or later: sleep until then)."""
        self._count(now, 1)
        slot = max(now, self._paused_until)
        if self.rate is not None:
            slot = max(slot, self._next)
            self._next = slot + 1.0 / self.rate
        return slot

    def unpaced(self, now: float, n: int) -> int:
        """How many of ``n`` sends may go at once, now: all of them while nothing limits the rate (no
        ceiling, no cut, no pause), counted as sent; else 0, and each send takes its slot through
        :meth:`reserve`. A bulk sender then writes its window in one go instead of slot by slot."""
        if self.rate is not None or now < self._paused_until:
            return 0
        self._count(now, n)
        return n

    def _count(self, now: float, n: int) -> None:
        if now - self._bucket_start >= 1.0:
            self._last_rate = self._bucket / max(1.0, now - self._bucket_start)
            self._bucket_start, self._bucket = now, 0
        self._bucket += n

    def observed(self, now: float) -> float:
        """Sends per second lately (the last full second, or the current one if busier; a burst counts
        as if spread over at least ``min_span`` seconds)."""
        elapsed = max(now - self._bucket_start, self.settings.min_span)
        return max(self._last_rate, self._bucket / elapsed)

    def on_transient(self, now: float) -> None:
        """A transient refusal that is not about load (ESME_RSYSERR): pause with the backoff only.
        Refusals that arrive while paused answer sends made before the pause: they do not extend it."""
        if now < self._paused_until:
            return
        s = self.settings
        self._consecutive += 1
        self._paused_until = now + min(s.max_backoff, s.backoff * 2 ** (self._consecutive - 1))

    def on_throttled(self, now: float) -> None:
        """The SMSC refused a submit for load: pause, and cut the rate (once per cut_interval)."""
        s = self.settings
        self.throttles += 1
        self.on_transient(now)
        self._grown_at = now + s.hold
        if now - self._last_cut < s.cut_interval:
            return
        base = self.rate if self.rate is not None else max(self.observed(now), s.floor)
        if self._target is None and not s.ceiling:
            self._target = base  # unlimited before: lift the limit again once back here
        self.rate = max(s.floor, base * s.decrease)
        self._step = max(s.floor, base * s.increase)
        self._last_cut = now
        self._next = min(self._next, now + 1.0 / self.rate)

    def on_accepted(self, now: float) -> None:
        """A submit was accepted: reset the backoff, grow the rate after ``hold``."""
        self._consecutive = 0
        if not self._step or self.rate is None or now < self._grown_at:
            return
        s = self.settings
        elapsed = now - self._grown_at
        self._grown_at = now
        limit = s.ceiling or self._target
        self.rate += self._step * elapsed
        if limit is not None and self.rate >= limit:
            self.rate = s.ceiling or None
            self._target, self._step = None, 0.0

    @property
    def paused_until(self) -> float:
        return self._paused_until
