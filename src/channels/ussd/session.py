"""One USSD dialogue with one subscriber as a pure state machine (PROTOCOLS.md §6 flows; 3GPP TS
24.090 USSR/USSN/PSSR).

Network-initiated: the first screen goes out as a USSR request (or a USSN when it offers no options),
each USSR confirm (the answer) leads to the next screen or to the end (PSSR response / end-of-session
bit). User-initiated: the same, after a PSSR indication. The machine decides what to push, when a
screen or the whole session has timed out, and how the session ended; it does no I/O and reads no
clock: every input carries ``now`` (monotonic seconds), deadlines are asked for with
:meth:`UssdSession.get_timer` and delivered with :meth:`UssdSession.handle_timer`, in the manner of
aioquic. Every session ends with exactly one :class:`Finished`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from channels.results import DeliveryState
from channels.smpp.encoding import EncodedText
from channels.ussd.menu import CompiledMenu, CompiledScreen, normalise_answer
from channels.ussd.profile import Outbound


class Phase(StrEnum):
    NEW = "new"
    WAITING = "waiting"  # a menu screen is shown, waiting for the answer
    NOTIFYING = "notifying"  # a USSN is shown, waiting for its confirm
    CLOSING = "closing"  # the last screen is being sent; the outcome is known
    ENDED = "ended"


class Outcome(StrEnum):
    COMPLETED = "completed"  # reached a result or a final screen
    NOTIFIED = "notified"  # a USSN was confirmed
    INVALID = "invalid"  # answered, but with no valid option, too often
    TIMEOUT = "timeout"  # no answer within the screen timeout
    SESSION_TIMEOUT = "session_timeout"  # the whole session ran too long
    ABORTED = "aborted"  # the subscriber or the network ended it
    FAILED = "failed"  # the gateway refused a screen, or the link broke
    CLOSED = "closed"  # the channel was closed with the session open


# How an outcome reads as a receipt (the session's result is the message's receipt).
OUTCOME_STATE: dict[Outcome, DeliveryState] = {
    Outcome.COMPLETED: DeliveryState.DELIVERED,
    Outcome.NOTIFIED: DeliveryState.DELIVERED,
    Outcome.INVALID: DeliveryState.DELIVERED,
    Outcome.TIMEOUT: DeliveryState.EXPIRED,
    Outcome.SESSION_TIMEOUT: DeliveryState.EXPIRED,
    Outcome.ABORTED: DeliveryState.UNDELIVERABLE,
    Outcome.FAILED: DeliveryState.UNDELIVERABLE,
    Outcome.CLOSED: DeliveryState.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class Timers:
    """Per-screen and whole-session timeouts (PROTOCOLS.md §6: user 30-60 s, dialogue ~180 s) and
    how many invalid answers re-show the screen before the session ends."""

    screen_timeout: float = 30.0
    session_timeout: float = 180.0
    max_invalid: int = 1

    def __post_init__(self) -> None:
        if self.screen_timeout <= 0 or self.session_timeout <= 0:
            raise ValueError("USSD timeouts must be > 0")
        if self.max_invalid < 0:
            raise ValueError("max_invalid must be >= 0")


@dataclass(frozen=True, slots=True)
class Push:
    """Send one PDU to the subscriber: a menu, a notification, or the last screen (``END``; an empty
    text releases the dialogue)."""

    kind: Outbound
    screen: str | None
    encoded: EncodedText
    step: int

    @property
    def end(self) -> bool:
        return self.kind is Outbound.END


@dataclass(frozen=True, slots=True)
class Answered:
    """The subscriber answered ``screen``; ``choice`` is the matched option (None: not an option)."""

    text: str
    screen: str
    step: int
    choice: str | None


@dataclass(frozen=True, slots=True)
class Finished:
    outcome: Outcome
    path: tuple[str, ...]
    answers: tuple[str, ...]
    choice: str | None
    result: str | None
    reason: str
    steps: int
    duration: float
    error_code: str | None = None

    @property
    def state(self) -> DeliveryState:
        return OUTCOME_STATE[self.outcome]


Output = Push | Answered | Finished


class UssdSession:
    """The dialogue's state. Call an input method; act on the outputs it returns, in order."""

    def __init__(
        self,
        menu: CompiledMenu,
        *,
        timers: Timers = Timers(),
        user_initiated: bool = False,
        await_confirm: bool = True,
    ) -> None:
        self.menu = menu
        self.timers = timers
        self.user_initiated = user_initiated
        self.await_confirm = await_confirm
        self.phase = Phase.NEW
        self.step = 1 if user_initiated else 0  # the PSSR indication was step 0
        self.path: list[str] = []
        self.answers: list[str] = []
        self.choice: str | None = None
        self.result: str | None = None
        self.screen: CompiledScreen = menu.first
        self._invalid = 0
        self._started = 0.0
        self._screen_deadline: float | None = None
        self._session_deadline: float | None = None
        self._closing: tuple[Outcome, str] | None = None
        self.finished: Finished | None = None

    @property
    def done(self) -> bool:
        return self.phase is Phase.ENDED

    # -- inputs ------------------------------------------------------------------------------------

    def start(self, now: float) -> list[Output]:
        if self.phase is not Phase.NEW:
            return []
        self._started = now
        self._session_deadline = now + self.timers.session_timeout
        first = self.menu.first
        self.path.append(first.name)
        if not first.terminal:
            return [self._show(first, now)]
        if self.user_initiated:
            return self._close(Outbound.END, first.encoded, first.name, Outcome.COMPLETED, "final screen")
        self.phase = Phase.NOTIFYING
        self._screen_deadline = now + self.timers.screen_timeout
        return [self._push(Outbound.NOTIFY, first.name, first.encoded)]

    def answer(self, text: str, now: float) -> list[Output]:
        """A USSR confirm arrived with ``text``."""
        if self.phase is not Phase.WAITING:
            return []
        self.step += 1
        self.answers.append(text)
        key = normalise_answer(text)
        target = self.screen.options.get(key)
        answered = Answered(text=text, screen=self.screen.name, step=self.step - 1, choice=target and key)
        if target is None:
            self._invalid += 1
            if self._invalid > self.timers.max_invalid:
                end = self._close(Outbound.END, self.menu.release, None, Outcome.INVALID, "invalid")
                return [answered, *end]
            return [answered, self._show(self.screen, now)]
        self.choice = key
        if target.startswith("="):
            self.result = target[1:]
            return [answered, *self._close(Outbound.END, self.menu.end, None, Outcome.COMPLETED, "result")]
        screen = self.menu.screens[target]
        self.path.append(screen.name)
        if screen.terminal:
            self.result = screen.result or screen.name
            return [
                answered,
                *self._close(Outbound.END, screen.encoded, screen.name, Outcome.COMPLETED, "final screen"),
            ]
        return [answered, self._show(screen, now)]

    def confirm(self, now: float) -> list[Output]:
        """A USSN confirm arrived: the notification was shown."""
        if self.phase is not Phase.NOTIFYING:
            return []
        self.step += 1
        self.result = self.screen.result or self.screen.name
        return [self._finish(Outcome.NOTIFIED, "confirmed", now)]

    def accepted(self, now: float) -> list[Output]:
        """The gateway accepted the last push (submit_sm_resp ROK)."""
        if self.phase is Phase.CLOSING and self._closing is not None:
            return [self._finish(*self._closing, now)]
        if self.phase is Phase.NOTIFYING and not self.await_confirm:
            self.result = self.screen.result or self.screen.name
            return [self._finish(Outcome.NOTIFIED, "accepted", now)]
        return []

    def abort(self, now: float, reason: str = "aborted by the subscriber") -> list[Output]:
        """The dialogue was ended from the other side (end bit, release or vendor abort op)."""
        if self.phase not in (Phase.WAITING, Phase.NOTIFYING):
            return []
        self.step += 1
        return [self._finish(Outcome.ABORTED, reason, now)]

    def failed(self, now: float, reason: str, error_code: str | None = None) -> list[Output]:
        """A push was refused by the gateway or never answered."""
        if self.phase is Phase.ENDED:
            return []
        return [self._finish(Outcome.FAILED, reason, now, error_code)]

    def refuse(self, now: float, reason: str) -> list[Output]:
        """Decline a session before its first screen (no handler for a dialled code): release it."""
        if self.phase is not Phase.NEW:
            return []
        self._started = now
        return [self._push(Outbound.END, None, self.menu.release), self._finish(Outcome.FAILED, reason, now)]

    def close(self, now: float, reason: str = "channel closed") -> list[Output]:
        """The application is going away: release the dialogue."""
        if self.phase is Phase.ENDED:
            return []
        release = [self._push(Outbound.END, None, self.menu.release)] if self.phase is not Phase.NEW else []
        return [*release, self._finish(Outcome.CLOSED, reason, now)]

    # -- timers ------------------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        if self.phase not in (Phase.WAITING, Phase.NOTIFYING):
            return None
        assert self._screen_deadline is not None and self._session_deadline is not None
        return min(self._screen_deadline, self._session_deadline)

    def handle_timer(self, now: float) -> list[Output]:
        deadline = self.get_timer()
        if deadline is None or now < deadline:
            return []
        assert self._session_deadline is not None
        if now >= self._session_deadline:
            outcome, reason = Outcome.SESSION_TIMEOUT, "session timeout"
        else:
            outcome, reason = Outcome.TIMEOUT, f"no answer to screen {self.screen.name!r}"
        release = self._push(Outbound.END, None, self.menu.release)
        return [release, self._finish(outcome, reason, now)]

    # -- helpers -----------------------------------------------------------------------------------

    def _push(self, kind: Outbound, screen: str | None, encoded: EncodedText) -> Push:
        push = Push(kind=kind, screen=screen, encoded=encoded, step=self.step)
        self.step += 1
        return push

    def _show(self, screen: CompiledScreen, now: float) -> Push:
        self.screen = screen
        self.phase = Phase.WAITING
        self._screen_deadline = now + self.timers.screen_timeout
        return self._push(Outbound.MENU, screen.name, screen.encoded)

    def _close(
        self, kind: Outbound, encoded: EncodedText, screen: str | None, outcome: Outcome, reason: str
    ) -> list[Output]:
        self.phase = Phase.CLOSING
        self._closing = (outcome, reason)
        return [self._push(kind, screen, encoded)]

    def _finish(self, outcome: Outcome, reason: str, now: float, error_code: str | None = None) -> Finished:
        self.phase = Phase.ENDED
        self.finished = Finished(
            outcome=outcome,
            path=tuple(self.path),
            answers=tuple(self.answers),
            choice=self.choice,
            result=self.result,
            reason=reason,
            steps=self.step,
            duration=max(0.0, now - self._started),
            error_code=error_code,
        )
        return self.finished
