"""AdaptiveRate (channels.smpp.adaptive): AIMD pacing on ESME_RTHROTTLED, on explicit time (no sleeps)."""

from __future__ import annotations

import pytest

from channels.clock import FakeClock
from channels.smpp.adaptive import AdaptiveRate, AdaptiveSettings


def slots(rate: AdaptiveRate, clock: FakeClock, n: int) -> list[float]:
    """Reserve ``n`` slots as a sender that sleeps until each one would."""
    out = []
    for _ in range(n):
        slot = rate.reserve(clock.monotonic())
        clock.advance(max(0.0, slot - clock.monotonic()))
        out.append(round(slot - 1000.0, 6))
    return out


def test_unlimited_never_waits() -> None:
    clock = FakeClock()
    rate = AdaptiveRate()
    assert rate.rate is None
    assert slots(rate, clock, 5) == [0.0] * 5


def test_ceiling_spaces_sends_evenly() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(ceiling=10))
    assert slots(rate, clock, 4) == [0.0, 0.1, 0.2, 0.3]


def test_throttle_pauses_and_halves_the_rate() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(ceiling=100, backoff=0.05))
    rate.reserve(clock.monotonic())
    rate.on_throttled(clock.monotonic())
    assert rate.rate == 50 and rate.throttles == 1
    assert rate.reserve(clock.monotonic()) == pytest.approx(clock.monotonic() + 0.05)  # paused
    clock.advance(0.05)
    assert rate.reserve(clock.monotonic()) == pytest.approx(clock.monotonic() + 0.02)  # 50/s


def test_a_burst_of_throttles_cuts_once_and_does_not_escalate_the_pause() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(ceiling=200, backoff=0.05, cut_interval=0.5))
    for _ in range(30):  # the whole window came back throttled at once
        rate.on_throttled(clock.monotonic())
    assert rate.rate == 100  # one cut per cut_interval, as TCP cuts once per round trip
    assert rate.paused_until == pytest.approx(clock.monotonic() + 0.05)  # not 0.05 * 2**29
    clock.advance(0.06)
    rate.on_throttled(clock.monotonic())  # still throttled after the pause: longer pause ...
    assert rate.paused_until == pytest.approx(clock.monotonic() + 0.1)
    assert rate.rate == 100  # ... but no second cut inside cut_interval
    clock.advance(0.5)
    rate.on_throttled(clock.monotonic())
    assert rate.rate == 50


def test_recovers_additively_after_hold_up_to_the_ceiling() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(ceiling=100, hold=1.0, increase=0.1))
    rate.on_throttled(clock.monotonic())
    assert rate.rate == 50
    clock.advance(0.5)
    rate.on_accepted(clock.monotonic())
    assert rate.rate == 50  # within hold: no growth
    clock.advance(0.5)
    rate.on_accepted(clock.monotonic())
    clock.advance(2.0)
    rate.on_accepted(clock.monotonic())
    assert rate.rate == pytest.approx(70)  # +10% of the pre-cut rate per second
    clock.advance(10.0)
    rate.on_accepted(clock.monotonic())
    assert rate.rate == 100  # capped at the ceiling, and stays there
    clock.advance(10.0)
    rate.on_accepted(clock.monotonic())
    assert rate.rate == 100


def test_unlimited_cuts_from_the_observed_rate_and_lifts_the_limit_when_recovered() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(hold=0.0, increase=0.5))
    for _ in range(400):  # 400 sends over one second
        rate.reserve(clock.monotonic())
        clock.advance(0.0025)
    rate.reserve(clock.monotonic())
    rate.on_throttled(clock.monotonic())
    assert rate.rate == pytest.approx(200, rel=0.05)  # half of what it was sending
    clock.advance(0.5)
    rate.on_accepted(clock.monotonic())
    assert rate.rate == pytest.approx(300, rel=0.05)  # +50% of 400 per second
    clock.advance(1.0)
    rate.on_accepted(clock.monotonic())
    assert rate.rate is None  # back where it was cut: no limit again


def test_a_burst_before_any_measurement_is_not_mistaken_for_a_trickle() -> None:
    clock = FakeClock()
    rate = AdaptiveRate()
    for _ in range(32):  # a whole window sent at once, then throttled
        rate.reserve(clock.monotonic())
    rate.on_throttled(clock.monotonic())
    assert rate.rate is not None and rate.rate >= 300  # 32 over min_span 0.05 s, halved


def test_windows_go_unpaced_only_while_nothing_limits_the_rate() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(hold=0.0, increase=0.5))
    for _ in range(10):  # 10 windows of 40 over one second, each at once
        assert rate.unpaced(clock.monotonic(), 40) == 40
        clock.advance(0.1)
    rate.on_throttled(clock.monotonic())
    assert rate.rate == pytest.approx(200, rel=0.05)  # the windows counted as 400 sends per second
    assert rate.unpaced(clock.monotonic(), 40) == 0  # paced now: one slot at a time
    assert AdaptiveRate(AdaptiveSettings(ceiling=100)).unpaced(0.0, 40) == 0  # a ceiling paces always
    transient = AdaptiveRate()
    transient.on_transient(5.0)
    assert transient.unpaced(5.01, 8) == 0 and transient.unpaced(10.0, 8) == 8  # paused, then not


def test_floor_and_transient_pause_without_cut() -> None:
    clock = FakeClock()
    rate = AdaptiveRate(AdaptiveSettings(ceiling=2, floor=1.5, cut_interval=0.0))
    rate.on_throttled(clock.monotonic())
    clock.advance(1)
    rate.on_throttled(clock.monotonic())
    assert rate.rate == 1.5
    other = AdaptiveRate(AdaptiveSettings(ceiling=10, backoff=0.1))
    other.on_transient(clock.monotonic())
    assert other.rate == 10 and other.throttles == 0
    assert other.paused_until == pytest.approx(clock.monotonic() + 0.1)
    other.on_accepted(clock.monotonic() + 0.2)  # success resets the backoff
    other.on_transient(clock.monotonic() + 0.2)
    assert other.paused_until == pytest.approx(clock.monotonic() + 0.3)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="decrease"):
        AdaptiveSettings(decrease=1.0)
    with pytest.raises(ValueError, match="floor"):
        AdaptiveSettings(floor=0)
