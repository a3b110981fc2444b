"""The load test's arithmetic: the arrival schedule (with a ramp) and the latency percentiles."""

from __future__ import annotations

import pytest

from channels.cli.loadtest import Schedule, percentiles


def test_a_flat_schedule_spaces_messages_exactly() -> None:
    s = Schedule(rate=500.0, duration=2.0)
    assert s.total == 1000
    assert [s.due(i) for i in (0, 1, 500, 999)] == pytest.approx([0.0, 0.002, 1.0, 1.998])


def test_a_ramp_reaches_the_rate_linearly_then_holds_it() -> None:
    s = Schedule(rate=1000.0, duration=10.0, ramp=4.0)
    assert s.total == 2000 + 6000  # half the rate on average during the ramp
    assert s.due(0) == 0.0
    assert s.due(500) == pytest.approx(2.0)  # N(t) = rate t² / (2 ramp): 500 messages by t = 2 s
    assert s.due(2000) == pytest.approx(4.0)
    assert s.due(2001) - s.due(2000) == pytest.approx(0.001)  # full rate after the ramp
    gaps = [s.due(i + 1) - s.due(i) for i in range(0, 1999, 100)]
    assert gaps == sorted(gaps, reverse=True)  # accelerating
    times = [s.due(i) for i in range(s.total)]
    assert times == sorted(times) and times[-1] < 10.0


def test_a_ramp_longer_than_the_run_is_all_ramp() -> None:
    s = Schedule(rate=100.0, duration=2.0, ramp=5.0)
    assert s.total == 100


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    values = [i / 1000 for i in range(1, 1001)]  # 1 ms .. 1000 ms
    assert percentiles(values) == {"p50": 500.0, "p90": 900.0, "p99": 990.0, "p99.9": 999.0, "max": 1000.0}
    assert percentiles([0.25]) == {"p50": 250.0, "p90": 250.0, "p99": 250.0, "p99.9": 250.0, "max": 250.0}
    assert percentiles([])["p99"] is None
