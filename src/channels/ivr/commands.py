"""What a call session asks for and what it reports: call-control commands and call outcomes.

A :class:`~channels.ivr.session.CallSession` emits commands, each one ARI REST request of
PROTOCOLS.md §7 (originate, answer, play, stop a playback, hang up), and session events: the digits a
gather collected, and the end of the call as a :class:`CallResult` (disposition, Twilio status,
delivery state, cause, digits, duration, ``answered_by``). Plain frozen values, no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from channels.ivr.causes import CallStatus, Disposition
from channels.results import DeliveryState

# -- commands (what the client must do) ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Originate:
    """``POST /ari/channels`` with ``channelId`` = our id."""

    channel_id: str
    endpoint: str
    app: str
    app_args: tuple[str, ...]
    caller_id: str | None
    timeout: float


@dataclass(frozen=True, slots=True)
class Answer:
    channel_id: str


@dataclass(frozen=True, slots=True)
class Play:
    channel_id: str
    playback_id: str
    media: str


@dataclass(frozen=True, slots=True)
class StopPlayback:
    playback_id: str


@dataclass(frozen=True, slots=True)
class Hangup:
    channel_id: str
    reason: str = "normal"


Command = Originate | Answer | Play | StopPlayback | Hangup

# -- session events (what the client reports) ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class CallResult:
    """The outcome of one call."""

    channel_id: str
    disposition: Disposition
    status: CallStatus
    state: DeliveryState
    cause: int | None
    cause_txt: str
    answered: bool
    answered_by: str | None
    inputs: tuple[tuple[str, str], ...]  # (step, digits) per completed gather
    duration: float  # seconds from answer to hang-up (gateway clock when known)
    result: str | None  # the script's result, if it reached one
    step: str | None  # the last step entered
    observed: bool  # False when the end was inferred (events lost, guard timer, client closed)
    reason: str | None = None

    @property
    def digits(self) -> str:
        return "".join(d for _, d in self.inputs)

    def detail(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "outcome": self.disposition.value,
            "answered": self.answered,
            "answered_by": self.answered_by,
            "digits": self.digits,
            "inputs": [list(i) for i in self.inputs],
            "duration": round(self.duration, 3),
            "cause": self.cause,
            "cause_txt": self.cause_txt,
            "result": self.result,
            "step": self.step,
            "observed": self.observed,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class DigitsCollected:
    """A gather finished with these digits (the subscriber's "reply")."""

    channel_id: str
    step: str
    digits: str
    attempt: int


@dataclass(frozen=True, slots=True)
class CallEnded:
    result: CallResult


SessionEvent = DigitsCollected | CallEnded
