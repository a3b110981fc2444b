"""Simulated handsets for the USSD gateway simulator: how a subscriber answers a USSD screen, and the
transcript of one dialogue (PROTOCOLS.md §6 flows). Pure: decisions come from a seeded random
generator per dialogue, so a dialogue's course does not depend on how others interleave.

A handset reads the options off the screen text (lines such as ``1. Subscribe`` or ``0 Exit``),
picks one by the scenario's weights (uniform when none apply), or follows a per-number script
(``"2"``, ``"!abort"``, ``"!timeout"``); at the scenario's rates it aborts the dialogue or lets the
screen time out instead.
"""

from __future__ import annotations

import random
import re
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

_OPTION = re.compile(r"^\s*(\d{1,2}|[#*])\s*[.):\-]?\s+\S", re.MULTILINE)


class Action(StrEnum):
    ANSWER = "answer"
    CONFIRM = "confirm"
    ABORT = "abort"
    TIMEOUT = "timeout"  # never answer this screen


@dataclass(frozen=True, slots=True, kw_only=True)
class UssdScenario:
    """How the simulated subscribers behave. ``answer_delay``: (min, max) seconds before a handset
    answers; ``choices``: weights by option key (``{"1": 0.7, "2": 0.2, "0": 0.1}``), empty for
    uniform; ``abort_rate``/``timeout_rate``: per screen; ``scripts``: answers by number, in order.
    ``dial_codes``/``dial_interval``: user-initiated sessions the gateway starts on its own from
    random numbers under ``subscribers``; ``dialogue_timeout``: the network ends a dialogue left
    open this long."""

    seed: int = 0
    profile: str = "standard"
    answer_delay: tuple[float, float] = (0.02, 0.1)
    choices: Mapping[str, float] = field(default_factory=dict)
    abort_rate: float = 0.0
    timeout_rate: float = 0.0
    free_text: str = "1"
    scripts: Mapping[str, Sequence[str]] = field(default_factory=dict)
    dialogue_timeout: float = 200.0
    response_latency: float = 0.0
    dial_codes: tuple[str, ...] = ()
    dial_interval: float = 0.0
    subscribers: str = "8613900"

    def __post_init__(self) -> None:
        low, high = self.answer_delay
        if low < 0 or high < low:
            raise ValueError(f"answer_delay {self.answer_delay!r}: need 0 <= min <= max")
        if not 0 <= self.abort_rate + self.timeout_rate <= 1:
            raise ValueError("abort_rate + timeout_rate must be within 0..1")


def offered_options(text: str) -> list[str]:
    """The answer keys a screen offers, read off its lines (``1. Subscribe`` → ``"1"``)."""
    return list(dict.fromkeys(_OPTION.findall(text)))


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    text: str = ""
    delay: float = 0.0


class Handset:
    """One subscriber in one dialogue."""

    def __init__(self, scenario: UssdScenario, rng: random.Random, script: Sequence[str] = ()) -> None:
        self.scenario = scenario
        self.rng = rng
        self.script: deque[str] = deque(script)

    def _delay(self) -> float:
        low, high = self.scenario.answer_delay
        return low if high == low else self.rng.uniform(low, high)

    def _fate(self) -> Action | None:
        """A scripted or drawn abort/timeout, else None."""
        sc = self.scenario
        if self.script:
            token = self.script[0]
            if token in ("!abort", "!timeout"):
                self.script.popleft()
                return Action.ABORT if token == "!abort" else Action.TIMEOUT
            return None
        draw = self.rng.random()
        if draw < sc.abort_rate:
            return Action.ABORT
        if draw < sc.abort_rate + sc.timeout_rate:
            return Action.TIMEOUT
        return None

    def on_menu(self, text: str) -> Decision:
        """A USSR request: answer it, abort, or let it time out."""
        delay = self._delay()
        fate = self._fate()
        if fate is not None:
            return Decision(fate, delay=delay)
        if self.script:
            return Decision(Action.ANSWER, self.script.popleft(), delay)
        return Decision(Action.ANSWER, self._choose(offered_options(text)), delay)

    def on_notify(self) -> Decision:
        """A USSN request: confirm it, abort, or ignore it."""
        delay = self._delay()
        fate = self._fate()
        return Decision(fate or Action.CONFIRM, delay=delay)

    def _choose(self, options: list[str]) -> str:
        if not options:
            return self.scenario.free_text
        weights = [self.scenario.choices.get(o, 0.0) for o in options]
        if sum(weights) <= 0:
            return self.rng.choice(options)
        return self.rng.choices(options, weights)[0]


@dataclass(slots=True, kw_only=True)
class Transcript:
    """Everything one dialogue showed and answered, for the recorder."""

    msisdn: str
    number: int
    initiated_by: str
    service: str
    system_id: str | None
    started_at: str
    steps: list[dict[str, Any]] = field(default_factory=list)
    outcome: str | None = None
    ended_by: str | None = None
    ended_at: str | None = None

    def add(self, direction: str, kind: str, op: int, text: str, at: str, data_coding: int = 0) -> None:
        """One PDU of the dialogue: ``mt`` (menu/notify/end) or ``mo`` (begin/answer/confirm/abort)."""
        self.steps.append(
            {"dir": direction, "kind": kind, "op": op, "text": text, "data_coding": data_coding, "at": at}
        )

    def record(self, profile: str) -> dict[str, Any]:
        return {
            "session": f"{self.msisdn}/{self.number}",
            "msisdn": self.msisdn,
            "number": self.number,
            "profile": profile,
            "system_id": self.system_id,
            "initiated_by": self.initiated_by,
            "service": self.service,
            "outcome": self.outcome,
            "ended_by": self.ended_by,
            "screens": [s["text"] for s in self.steps if s["dir"] == "mt"],
            "answers": [s["text"] for s in self.steps if s["dir"] == "mo" and s.get("kind") == "answer"],
            "steps": self.steps,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }
