"""Quiet hours: windows per weekday, holidays, the recipient's zone, exact across DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from channels import Allow, ChannelKind, ConfigurationError, Defer, Message, Reject, Text
from throttle import OPERATOR_GROUP_SEND, TCPA, Numbers, QuietHoursPolicy, Schedule
from throttle.localtime import instants

SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")


def msg(to: str = "+8613800138000", **kw: object) -> Message:
    return Message(to=to, kind=ChannelKind.SMS, content=Text(body="hi"), **kw)  # type: ignore[arg-type]


def at(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


@pytest.fixture
def operator() -> QuietHoursPolicy:
    return QuietHoursPolicy(Schedule.parse(OPERATOR_GROUP_SEND, holidays=["2026-03-04"]))


@pytest.mark.parametrize(
    ("local", "opening"),
    [
        ((2026, 3, 2, 8, 0), (2026, 3, 2, 9, 30)),  # Monday before the first window
        ((2026, 3, 2, 12, 0), (2026, 3, 2, 14, 0)),  # a window's end is exclusive
        ((2026, 3, 2, 21, 5), (2026, 3, 3, 9, 30)),  # evening → next morning
        ((2026, 3, 3, 22, 0), (2026, 3, 5, 9, 30)),  # Wednesday 4th is a holiday
        ((2026, 3, 6, 21, 0), (2026, 3, 9, 9, 30)),  # Friday night → Monday, weekend closed
    ],
)
async def test_outside_a_window_defers_to_the_next_opening(
    operator: QuietHoursPolicy, local: tuple[int, ...], opening: tuple[int, ...]
) -> None:
    d = await operator.evaluate(msg(), at(SH, *local))
    assert d == Defer(at(SH, *opening), "quiet_hours")


async def test_inside_a_window_allows_and_transactional_bypasses(operator: QuietHoursPolicy) -> None:
    assert await operator.evaluate(msg(), at(SH, 2026, 3, 2, 9, 30)) == Allow()
    assert await operator.evaluate(msg(), at(SH, 2026, 3, 2, 20, 59, 59)) == Allow()
    assert await operator.evaluate(msg(transactional=True), at(SH, 2026, 3, 7, 3, 0)) == Allow()


async def test_zone_from_message_then_number_then_default() -> None:
    policy = QuietHoursPolicy(Schedule.parse(TCPA), Numbers(default_zone="Europe/London"))
    now = at(NY, 2026, 6, 1, 7, 0)  # 07:00 New York = 12:00 London = 19:00 Shanghai
    assert await policy.evaluate(msg("+12125551234"), now) == Defer(at(NY, 2026, 6, 1, 8, 0), "quiet_hours")
    assert await policy.evaluate(msg("+8613800138000"), now) == Allow()
    assert await policy.evaluate(msg("+8613800138000", timezone="America/New_York"), now) != Allow()
    assert await policy.evaluate(msg("+15005550000"), now) == Allow()  # +1 500: many zones → London
    bad = await policy.evaluate(msg(timezone="Mars/Olympus"), now)
    assert isinstance(bad, Reject) and bad.reason.startswith("timezone")


async def test_dst_spring_forward_opens_at_the_transition() -> None:
    """2026-03-08 New York: 02:00 EST → 03:00 EDT; a 02:30 opening happens at 03:00 EDT (07:00 UTC)."""
    policy = QuietHoursPolicy(Schedule.parse({"daily": "02:30-05:00"}))
    d = await policy.evaluate(msg(timezone="America/New_York"), at(NY, 2026, 3, 8, 1, 0))
    assert d == Defer(datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "quiet_hours")
    closes = QuietHoursPolicy(Schedule.parse({"daily": "00:00-02:30"}))
    ok = await closes.evaluate(msg(timezone="America/New_York"), datetime(2026, 3, 8, 6, 59, tzinfo=UTC))
    assert ok == Allow()
    shut = await closes.evaluate(msg(timezone="America/New_York"), datetime(2026, 3, 8, 7, 0, tzinfo=UTC))
    assert isinstance(shut, Defer) and shut.until == at(NY, 2026, 3, 9, 0, 0)


async def test_dst_fall_back_a_repeated_window_opens_twice() -> None:
    """2026-11-01 New York: 02:00 EDT → 01:00 EST; 01:00-01:30 happens twice."""
    policy = QuietHoursPolicy(Schedule.parse({"daily": "01:00-01:30"}))
    after_first = datetime(2026, 11, 1, 5, 45, tzinfo=UTC)  # 01:45 EDT
    d = await policy.evaluate(msg(timezone="America/New_York"), after_first)
    assert d == Defer(datetime(2026, 11, 1, 6, 0, tzinfo=UTC), "quiet_hours")  # 01:00 EST
    assert instants(date(2026, 11, 1), 3600, NY) == [
        datetime(2026, 11, 1, 5, 0, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 0, tzinfo=UTC),
    ]


def test_bad_schedules_name_the_problem() -> None:
    with pytest.raises(ConfigurationError, match="HH:MM"):
        Schedule.parse({"mon": "9-12"})
    with pytest.raises(ConfigurationError, match="forward"):
        Schedule.parse({"mon": "12:00-09:00"})
    with pytest.raises(ConfigurationError, match="weekday"):
        Schedule.parse({"mon-fry": "09:00-12:00"})
    with pytest.raises(ConfigurationError, match="no window"):
        Schedule.parse({"sat,sun": ""})
    assert Schedule.parse({"fri-mon": "00:00-24:00"}).windows[6] == ((0, 86400),)


ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe", "America/Santiago"]


@settings(max_examples=40, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_next_change_matches_a_minute_by_minute_scan(zone: str, start: datetime) -> None:
    """The computed change instant is exactly the first minute at which the state flips."""
    tz = ZoneInfo(zone)
    schedule = Schedule.parse({"mon-fri": "00:00-00:30,01:30-02:45,09:00-21:00", "sat": "02:00-03:00"})
    now = start.replace(second=0, microsecond=0, tzinfo=UTC)
    state, change = schedule.next_change(now, tz)
    t = now
    while schedule.is_open(t.astimezone(tz)) == state:
        t += timedelta(minutes=1)
        assert t - now < timedelta(days=4)
    assert change == t


def test_an_always_open_schedule_changes_only_on_a_holiday() -> None:
    schedule = Schedule.parse({"daily": "00:00-24:00"}, holidays=["2026-12-25"])
    assert schedule.next_change(at(SH, 2026, 3, 2, 10, 0), SH) == (True, at(SH, 2026, 12, 25, 0, 0))
    assert schedule.next_change(at(SH, 2026, 12, 25, 10, 0), SH) == (False, at(SH, 2026, 12, 26, 0, 0))
