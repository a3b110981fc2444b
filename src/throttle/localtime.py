"""Wall-clock times to instants, exactly across DST changes (zoneinfo, PEP 495).

Quiet hours and calendar-day caps are stated in the recipient's wall-clock time ("09:30", "midnight").
A wall time may not exist (the spring-forward gap: 02:30 never happens) or happen twice (the
fall-back overlap). We take "the moment the clock shows W" to be the first instant whose wall time
is W or later: in a gap that is the transition itself, in an overlap its first occurrence; and we
also list the second occurrence, because a window whose wall times repeat is open twice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = 86_400


def wall(day: date, seconds: int, tz: ZoneInfo, fold: int = 0) -> datetime:
    """``day`` at ``seconds`` after midnight (86 400 = the next midnight), aware, given fold."""
    if seconds >= DAY:
        day, seconds = day + timedelta(days=seconds // DAY), seconds % DAY
    t = time(seconds // 3600, seconds // 60 % 60, seconds % 60, fold=fold)
    return datetime.combine(day, t, tzinfo=tz)


def _offset_changes_between(a: datetime, b: datetime, tz: ZoneInfo) -> datetime:
    """The first whole second in (a, b] whose UTC offset differs from a's (binary search)."""
    lo, hi = int(a.timestamp()), int(b.timestamp())
    off = a.astimezone(tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, tz).utcoffset() == off:
            lo = mid
        else:
            hi = mid
    return datetime.fromtimestamp(hi, UTC)


def instants(day: date, seconds: int, tz: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the wall clock reaches ``day`` + ``seconds``: one normally, the
    transition for a time in a gap, both occurrences for a time in an overlap."""
    first = wall(day, seconds, tz, 0)
    second = wall(day, seconds, tz, 1)
    u0, u1 = first.astimezone(UTC), second.astimezone(UTC)
    if u0 == u1:
        return [u0]
    if u1 < u0:  # a gap: fold=1 lands before the transition, fold=0 after it
        return [_offset_changes_between(u1, u0, tz)]
    return [u0, u1]  # an overlap: the clock shows this time twice


def first_instant(day: date, seconds: int, tz: ZoneInfo) -> datetime:
    return instants(day, seconds, tz)[0]


def local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    """The instant today (in ``tz``) began."""
    return first_instant(now.astimezone(tz).date(), 0, tz)


def next_local_midnight(now: datetime, tz: ZoneInfo) -> datetime:
    return first_instant(now.astimezone(tz).date() + timedelta(days=1), 0, tz)
