"""Quiet hours: send only inside allowed wall-clock windows, in the recipient's time zone.

Regulators and operators state send windows in the subscriber's local time (PROTOCOLS.md §9: TCPA
8 am–9 pm; the 2009 operator campaign's 09:30–12:00, 14:00–17:00, 18:00–21:00 on weekdays, none at
weekends). A :class:`Schedule` holds windows per weekday and holiday dates; the policy finds the
recipient's zone (the message's ``timezone``, else the number's, else a default), and outside a window
returns ``Defer(until=the next opening)``, exact across DST changes (:mod:`throttle.localtime`).
Transactional messages bypass it. Nothing is ever dropped. The open/closed state of each zone is
cached until its next change, and a chunk takes one decision per zone: a message costs a dict probe.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from channels.errors import ConfigurationError
from channels.message import Message
from channels.policy import ALLOW, Decision, Defer, Reject
from throttle.localtime import DAY, instants
from throttle.numbers import Numbers

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HORIZON_DAYS = 800  # search this far for the next change (two years of holidays)
_FOREVER = datetime.max.replace(tzinfo=UTC)
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")

Window = tuple[int, int]  # [start, end) in seconds after local midnight; end may be 86 400


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"09:30-12:00, 14:00-17:00"`` → ((34200, 43200), (50400, 61200)); ``""`` → closed all day."""
    out: list[Window] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = _RANGE.match(part)
        if m is None:
            raise ConfigurationError(f"quiet hours: window {part!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = map(int, m.groups())
        start, end = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        if m1 > 59 or m2 > 59 or not 0 <= start < end <= DAY:
            raise ConfigurationError(f"quiet hours: window {part!r} must run forward within one day")
        out.append((start, end))
    return tuple(sorted(out))


def parse_days(text: str) -> list[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"daily"`` → weekday numbers (Monday = 0)."""
    if text.strip().lower() in ("daily", "all", "*"):
        return list(range(7))
    days: list[int] = []
    for part in text.lower().split(","):
        ends = [p.strip()[:3] for p in part.split("-")]
        if any(e not in WEEKDAYS for e in ends) or len(ends) > 2:
            raise ConfigurationError(f"quiet hours: {part.strip()!r} is not a weekday or range (mon-fri)")
        a, b = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return days


def _covers_day(windows: Sequence[Window]) -> bool:
    reach = 0
    for start, end in windows:  # sorted by start
        if start > reach:
            return False
        reach = max(reach, end)
    return reach >= DAY


class Schedule:
    """Allowed windows per weekday plus closed holiday dates (all in the recipient's local time)."""

    def __init__(self, windows: Mapping[int, Sequence[Window]], holidays: Iterable[date] = ()) -> None:
        self.windows: tuple[tuple[Window, ...], ...] = tuple(
            tuple(sorted(windows.get(d, ()))) for d in range(7)
        )
        if not any(self.windows):
            raise ConfigurationError("quiet hours: no window on any weekday, nothing could ever be sent")
        self.holidays = frozenset(holidays)
        self._all_day = tuple(_covers_day(w) for w in self.windows)

    @classmethod
    def parse(cls, spec: Mapping[str, str], holidays: Iterable[date | str] = ()) -> Schedule:
        """``{"mon-fri": "09:30-12:00,14:00-17:00,18:00-21:00", "sat,sun": ""}``; holidays as dates
        or ISO strings. Days not named are closed."""
        windows: dict[int, tuple[Window, ...]] = {}
        for days, text in spec.items():
            for d in parse_days(days):
                windows[d] = parse_windows(text)
        return cls(windows, (h if isinstance(h, date) else date.fromisoformat(h) for h in holidays))

    def is_open(self, local: datetime) -> bool:
        if local.date() in self.holidays:
            return False
        secs = local.hour * 3600 + local.minute * 60 + local.second
        return any(s <= secs < e for s, e in self.windows[local.weekday()])

    def _uniform(self, day: date) -> bool | None:
        """True if open all day, False if closed all day, None if it opens or closes during it."""
        if day in self.holidays or not self.windows[day.weekday()]:
            return False
        return True if self._all_day[day.weekday()] else None

    def next_change(self, now: datetime, tz: ZoneInfo) -> tuple[bool, datetime]:
        """Whether it is open at ``now`` in ``tz``, and the first later instant that is not."""
        state = self.is_open(now.astimezone(tz))
        today = now.astimezone(tz).date()
        for offset in range(-1, _HORIZON_DAYS):
            day = today + timedelta(days=offset)
            if self._uniform(day) is state:
                continue  # open (or closed) all day, as now: nothing changes on this day
            bounds = {0, DAY} | {b for w in self.windows[day.weekday()] for b in w}
            candidates = sorted(t for b in bounds for t in instants(day, b, tz) if t > now)
            for t in candidates:
                if self.is_open(t.astimezone(tz)) != state:
                    return state, t
        return state, _FOREVER


# The 2009 operator campaign's group-send windows (PROTOCOLS.md §9), weekends closed.
OPERATOR_GROUP_SEND = {"mon-fri": "09:30-12:00,14:00-17:00,18:00-21:00"}
# US TCPA 47 CFR § 64.1200(c)(1): no solicitation before 8 am or after 9 pm, local time.
TCPA = {"daily": "08:00-21:00"}


class QuietHoursPolicy:
    """Defer messages outside the schedule's windows to the next opening; transactional ones pass."""

    def __init__(self, schedule: Schedule, numbers: Numbers | None = None) -> None:
        self.schedule = schedule
        self.numbers = numbers or Numbers()
        self._cache: dict[ZoneInfo, tuple[datetime, datetime, bool, Defer]] = {}  # (from, until, open)

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return self.evaluate_sync((message,), now)[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        return self.evaluate_sync(messages, now)

    def evaluate_sync(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        """One decision per zone per chunk: every message of a zone shares it. Nothing to await:
        the Dispatcher calls it directly (channels.policy.SyncPolicy)."""
        numbers = self.numbers
        zones = numbers.key_zones(numbers.keys_to(messages))
        by_zone: dict[ZoneInfo, Decision] = {}
        out: list[Decision] = []
        for message, tz in zip(messages, zones, strict=True):
            if message.transactional:
                out.append(ALLOW)
                continue
            if message.timezone:
                try:
                    tz = numbers.named_zone(message.timezone)
                except ConfigurationError as exc:
                    out.append(Reject(f"timezone: {exc}"))
                    continue
            decision = by_zone.get(tz)
            if decision is None:
                decision = by_zone[tz] = self._decide(tz, now)
            out.append(decision)
        return out

    def _decide(self, tz: ZoneInfo, now: datetime) -> Decision:
        cached = self._cache.get(tz)
        if cached is None or not cached[0] <= now < cached[1]:
            is_open, change = self.schedule.next_change(now, tz)
            cached = self._cache[tz] = (now, change, is_open, Defer(change, "quiet_hours"))
        return ALLOW if cached[2] else cached[3]

    async def rollback(self, message: Message) -> None:
        return None

    def rollback_sync(self, messages: Sequence[Message]) -> None:
        return None  # nothing was reserved
