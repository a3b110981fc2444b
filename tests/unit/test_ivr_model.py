"""The simulated callees: seeded, independent of call order, shares as the scenario says."""

from __future__ import annotations

from collections import Counter

import pytest

from simulators.ivr_model import ANSWER, BUSY, FAILED, NO_ANSWER, REJECTED, Callee, IvrScenario, draw_callee


def test_draws_are_seeded_and_keyed_by_channel() -> None:
    s = IvrScenario(seed=7)
    assert draw_callee(s, "c1", "1") == draw_callee(s, "c1", "2")
    assert draw_callee(IvrScenario(seed=8), "c1", "1") != draw_callee(s, "c1", "1")
    assert len({draw_callee(s, f"c{i}", "1") for i in range(50)}) == 50


def test_shares_follow_the_scenario() -> None:
    s = IvrScenario(seed=3, answer=0.5, busy=0.2, no_answer=0.2, rejected=0.05, failed=0.05, machine=0.3)
    callees = [draw_callee(s, f"c{i}", "1") for i in range(20_000)]
    got = Counter(c.outcome for c in callees)
    for outcome, share in s.shares().items():
        assert got[outcome] / len(callees) == pytest.approx(share, abs=0.015)
    answered = [c for c in callees if c.outcome == ANSWER]
    assert sum(c.machine for c in answered) / len(answered) == pytest.approx(0.3, abs=0.02)
    people = [c for c in answered if not c.machine and c.hangup_in_prompt is None]
    ones = sum(c.digits == ("1",) for c in people) / len(people)
    assert ones == pytest.approx(0.36, abs=0.02)
    assert all(c.digits == () for c in answered if c.machine)
    assert {c.cause for c in callees if c.outcome == FAILED} == set(s.failed_causes)
    assert {c.cause for c in callees if c.outcome in (BUSY, NO_ANSWER, REJECTED)} == {17, 19, 21}


def test_digit_chunks_and_mid_prompt_hangups() -> None:
    s = IvrScenario(seed=1, answer=1, busy=0, no_answer=0, rejected=0, failed=0, digits={"1,12": 1})
    c = draw_callee(s, "x", "1")
    assert c.digits == ("1", "12") and 1.0 <= c.digit_delay <= 6.0
    s = IvrScenario(seed=1, answer=1, busy=0, no_answer=0, rejected=0, failed=0, hangup_mid_prompt=1)
    c = draw_callee(s, "x", "1")
    assert c.hangup_in_prompt is not None and c.hangup_in_prompt < s.prompt_seconds and c.digits == ()


def test_scripted_callees_win() -> None:
    busy = Callee(outcome=BUSY, cause=17)
    assert draw_callee(IvrScenario(callees={"861": busy}), "c", "861") is busy


def test_prompt_durations() -> None:
    s = IvrScenario(prompt_seconds=2.0, media_seconds={"sound:long": 9.0})
    assert s.prompt_duration("sound:x") == 2.0
    assert s.prompt_duration("sound:long") == 9.0
    assert s.prompt_duration("tts:" + "x" * 100) == pytest.approx(7.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"answer": -1}, "outcome shares"),
        ({"answer": 0, "busy": 0, "no_answer": 0, "rejected": 0, "failed": 0}, "outcome shares"),
        ({"ring_time": (5.0, 1.0)}, "ring_time"),
        ({"machine": 2.0}, "machine"),
        ({"digits": {}}, "digits"),
        ({"failed_causes": ()}, "failed_causes"),
        ({"max_channels": 0}, "max_channels"),
    ],
)
def test_bad_scenarios_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        IvrScenario(**kwargs)  # type: ignore[arg-type]


def test_bad_callee() -> None:
    with pytest.raises(ValueError, match=r"Callee\.outcome"):
        Callee(outcome="maybe")
    with pytest.raises(ValueError, match=r"Callee\.digits"):
        Callee(digits=("1x",))
