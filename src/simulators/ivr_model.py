"""Who answers the simulated IVR gateway's calls: the scenario and the callee it draws for each call.

The IVR simulator (``simulators.ivr``) places each originated call to a simulated callee. This
module decides, from a seeded :class:`IvrScenario`, how that callee behaves: whether the call is
answered, busy, unanswered, rejected or fails (with which Q.850 cause, PROTOCOLS.md §7), how long it
rings, whether a machine answers, which DTMF digits the person presses after hearing a prompt, and
when they hang up. Draws are pure and keyed by seed and channel id, so a call's fate does not depend
on how calls interleave, and shares over many calls follow the scenario's weights. All times are in
simulated seconds.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field

ANSWER, BUSY, NO_ANSWER, REJECTED, FAILED = "answer", "busy", "no-answer", "rejected", "failed"
OUTCOMES = (ANSWER, BUSY, NO_ANSWER, REJECTED, FAILED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Callee:
    """One simulated callee. ``digits`` are what they press, one chunk per prompt they react to:
    ``("1",)`` presses 1 during or after the first prompt; ``("1", "1")`` confirms with 1 again at the
    next prompt. ``hangup_in_prompt`` hangs up that many seconds into the first prompt heard;
    ``hangup_after`` (seconds after answering) is their patience with a call that goes on."""

    outcome: str = ANSWER
    cause: int = 16
    setup_time: float = 0.5
    ring_time: float = 3.0
    machine: bool = False
    digits: tuple[str, ...] = ()
    digit_delay: float = 2.0
    inter_digit: float = 0.3
    hangup_in_prompt: float | None = None
    hangup_after: float = 120.0

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"Callee.outcome: {self.outcome!r} is not one of {OUTCOMES}")
        for chunk in self.digits:
            if not chunk or not set(chunk) <= set("0123456789*#"):
                raise ValueError(f"Callee.digits: {chunk!r} is not a DTMF string")


def _range(name: str, value: tuple[float, float]) -> None:
    low, high = value
    if low < 0 or high < low:
        raise ValueError(f"IvrScenario.{name}: want 0 <= low <= high, got {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class IvrScenario:
    """How the simulated network and its subscribers behave. Seeded.

    Outcome weights (normalised): ``answer`` (person or machine), ``busy`` (cause 17), ``no_answer``
    (rings until the originate timeout, cause 19), ``rejected`` (declined, cause 21) and ``failed``
    (a cause from ``failed_causes``). Defaults follow the campaign the issue reports: 43 % connect,
    36 % of those press 1. ``digits`` maps what a person presses (chunks separated by ``,``; ``""``
    presses nothing) to its weight. Above ``max_channels`` calls in progress, originates end in
    congestion (cause 34). ``callees`` scripts the callee of given numbers exactly.
    """

    seed: int = 0
    answer: float = 0.43
    busy: float = 0.12
    no_answer: float = 0.30
    rejected: float = 0.05
    failed: float = 0.10
    failed_causes: tuple[int, ...] = (1, 3, 20, 27, 38, 41)
    setup_time: tuple[float, float] = (0.2, 1.5)
    ring_time: tuple[float, float] = (2.0, 20.0)
    machine: float = 0.0
    amd: bool = True
    digits: Mapping[str, float] = field(default_factory=lambda: {"1": 0.36, "2": 0.24, "": 0.40})
    digit_delay: tuple[float, float] = (1.0, 6.0)
    inter_digit: float = 0.3
    hangup_mid_prompt: float = 0.05
    patience: tuple[float, float] = (60.0, 180.0)
    machine_hangup: float = 30.0
    prompt_seconds: float = 3.0
    media_seconds: Mapping[str, float] = field(default_factory=dict)
    max_channels: int = 30
    callees: Mapping[str, Callee] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weights = self.weights()
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ValueError("IvrScenario: outcome shares must be >= 0 and not all 0")
        for name in ("setup_time", "ring_time", "digit_delay", "patience"):
            _range(name, getattr(self, name))
        if not 0 <= self.machine <= 1 or not 0 <= self.hangup_mid_prompt <= 1:
            raise ValueError("IvrScenario: machine and hangup_mid_prompt are shares in [0, 1]")
        if not self.digits or any(w < 0 for w in self.digits.values()):
            raise ValueError("IvrScenario.digits: weights must be >= 0 and not empty")
        if not self.failed_causes:
            raise ValueError("IvrScenario.failed_causes: empty")
        if self.max_channels < 1:
            raise ValueError("IvrScenario.max_channels: must be >= 1")

    def weights(self) -> tuple[float, ...]:
        return (self.answer, self.busy, self.no_answer, self.rejected, self.failed)

    def shares(self) -> dict[str, float]:
        """Each outcome's expected share of calls."""
        total = sum(self.weights())
        return {o: w / total for o, w in zip(OUTCOMES, self.weights(), strict=True)}

    def prompt_duration(self, media: str) -> float:
        """Seconds a prompt plays: ``media_seconds`` by URI, TTS by length, else ``prompt_seconds``."""
        if media in self.media_seconds:
            return self.media_seconds[media]
        scheme, _, rest = media.partition(":")
        if scheme in ("tts", "digits", "number", "characters"):
            return max(0.5, 0.07 * len(rest))
        return self.prompt_seconds


def draw_callee(scenario: IvrScenario, channel_id: str, number: str) -> Callee:
    """The callee of one call: scripted for ``number`` if the scenario says so, else drawn."""
    scripted = scenario.callees.get(number)
    if scripted is not None:
        return scripted
    rng = random.Random(f"{scenario.seed}:{channel_id}")
    (outcome,) = rng.choices(OUTCOMES, weights=scenario.weights())
    cause = {ANSWER: 16, BUSY: 17, NO_ANSWER: 19, REJECTED: 21}.get(outcome, 0)
    if outcome == FAILED:
        cause = rng.choice(scenario.failed_causes)
    machine = outcome == ANSWER and rng.random() < scenario.machine
    keys = list(scenario.digits)
    (pressed,) = rng.choices(keys, weights=[scenario.digits[k] for k in keys])
    mid_prompt = not machine and rng.random() < scenario.hangup_mid_prompt
    return Callee(
        outcome=outcome,
        cause=cause,
        setup_time=rng.uniform(*scenario.setup_time),
        ring_time=rng.uniform(*scenario.ring_time),
        machine=machine,
        digits=() if machine or mid_prompt else tuple(c for c in pressed.split(",") if c),
        digit_delay=rng.uniform(*scenario.digit_delay),
        inter_digit=scenario.inter_digit,
        hangup_in_prompt=rng.uniform(0.2, 0.8) * scenario.prompt_seconds if mid_prompt else None,
        hangup_after=scenario.machine_hangup if machine else rng.uniform(*scenario.patience),
    )
