"""One outbound call as a pure state machine: ARI events in, call-control commands out.

The session places the call (``POST /ari/channels``), waits for the answer (``StasisStart``, which
for an originated channel means the callee picked up, PROTOCOLS.md §7), runs the
:class:`~channels.content.IvrScript` (play prompts, gather DTMF with barge-in, branch, hang up) and
ends on ``ChannelDestroyed`` with the call's disposition (:mod:`channels.ivr.causes`). It does no I/O
and reads no clock: every input carries ``now`` (monotonic seconds) and time-outs are asked for with
:meth:`CallSession.get_timer` and delivered with :meth:`CallSession.handle_timer`, in the manner of
aioquic's ``QuicConnection``. Guard timers (ring, call length, hang-up) and :meth:`CallSession.resync`
(after a lost event stream) make sure every call ends with exactly one :class:`CallEnded`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from channels.content import IvrStep
from channels.ivr.causes import DISPOSITION_RESULT, answered_by, classify, is_machine
from channels.ivr.commands import (
    Answer,
    CallEnded,
    CallResult,
    Command,
    DigitsCollected,
    Hangup,
    Originate,
    Play,
    SessionEvent,
    StopPlayback,
)
from channels.ivr.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelInfo,
    ChannelStateChange,
    ChannelVarset,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from channels.ivr.script import CompiledScript, prompt_media

__all__ = [
    "Answer",
    "CallEnded",
    "CallResult",
    "CallSession",
    "Command",
    "DigitsCollected",
    "Hangup",
    "Originate",
    "Phase",
    "Play",
    "SessionEvent",
    "StopPlayback",
]


class Phase(StrEnum):
    NEW = "new"
    DIALING = "dialing"
    RINGING = "ringing"
    ANSWERED = "answered"
    HANGING_UP = "hanging-up"
    ENDED = "ended"


class CallSession:
    """The state machine of one call. Feed it; then drain ``take_commands()`` and ``take_events()``."""

    def __init__(
        self,
        *,
        channel_id: str,
        script: CompiledScript,
        endpoint: str,
        app: str,
        app_args: tuple[str, ...] = (),
        caller_id: str | None = None,
        ring_timeout: float | None = None,
        tts_scheme: str = "tts",
        answer_grace: float = 10.0,
        hangup_grace: float = 5.0,
        max_duration: float = 600.0,
        lost_grace: float = 30.0,
    ) -> None:
        self.channel_id = channel_id
        self.script = script
        self.phase = Phase.NEW
        self._originate = Originate(
            channel_id,
            endpoint,
            app,
            app_args,
            caller_id if caller_id is not None else script.script.caller_id,
            ring_timeout if ring_timeout is not None else script.script.ring_timeout,
        )
        self._tts, self._answer_grace, self._hangup_grace = tts_scheme, answer_grace, hangup_grace
        self._max_duration, self._lost_grace = max_duration, lost_grace
        self._commands: list[Command] = []
        self._events: list[SessionEvent] = []
        self._deadlines: dict[str, float] = {}
        self._answered = self._canceled = self._hangup_sent = False
        self._answered_ts: datetime | None = None
        self._answered_at = 0.0
        self._amd: str | None = None
        self._req_cause: int | None = None
        self._result: str | None = None
        self._reason: str | None = None
        self._inputs: list[tuple[str, str]] = []
        self._step: IvrStep | None = None
        self._attempt = self._prompt_i = self._pb_seq = 0
        self._playing: str | None = None
        self._lost_playing: str | None = None
        self._buffer = ""
        self.outcome: CallResult | None = None

    # -- outputs -----------------------------------------------------------------------------------

    def take_commands(self) -> list[Command]:
        out, self._commands = self._commands, []
        return out

    def take_events(self) -> list[SessionEvent]:
        out, self._events = self._events, []
        return out

    @property
    def done(self) -> bool:
        return self.phase is Phase.ENDED

    def get_timer(self) -> float | None:
        """When :meth:`handle_timer` must next be called (monotonic seconds), or None."""
        return min(self._deadlines.values()) if self._deadlines else None

    # -- inputs ------------------------------------------------------------------------------------

    def start(self, now: float) -> None:
        """Ask for the originate."""
        if self.phase is not Phase.NEW:
            raise RuntimeError("CallSession.start called twice")
        self.phase = Phase.DIALING
        self._commands.append(self._originate)

    def originate_accepted(self, now: float) -> None:
        """The gateway accepted the originate: the ring guard starts (its timeout plus a grace)."""
        if self.phase is Phase.DIALING:
            self._deadlines["ring"] = now + self._originate.timeout + self._answer_grace

    def handle_event(self, event: AriEvent, now: float) -> None:
        if self.phase is Phase.ENDED:
            return
        if isinstance(event, ChannelDestroyed):
            self._finish(event.cause, event.cause_txt, event.timestamp, now, observed=True)
        elif isinstance(event, ChannelDtmfReceived):
            self._on_digit(event.digit, now)
        elif isinstance(event, PlaybackFinished):
            self._on_playback_finished(event.playback.id, now)
        elif isinstance(event, StasisStart):
            self._on_stasis_start(event.channel, event.timestamp, now)
        elif isinstance(event, ChannelStateChange):
            if event.channel.state in ("Ring", "Ringing") and self.phase is Phase.DIALING:
                self.phase = Phase.RINGING
        elif isinstance(event, ChannelVarset):
            if event.variable.upper() in ("AMDSTATUS", "ANSWERED_BY"):
                self._amd = event.value
        elif isinstance(event, ChannelHangupRequest):
            self._on_far_end_hangup(event.cause, now)
        elif isinstance(event, StasisEnd):
            self._on_far_end_hangup(None, now)

    def handle_timer(self, now: float) -> None:
        """Fire every guard or gather timer due at ``now``."""
        for name, when in sorted(self._deadlines.items(), key=lambda kv: kv[1]):
            if when <= now and self._deadlines.get(name) == when:
                del self._deadlines[name]
                self._TIMERS[name](self, now)

    def connection_lost(self, now: float) -> None:
        """The event stream broke: events may be lost until :meth:`resync`. Without a resync within
        ``lost_grace`` the call is hung up (blind calls are not left running)."""
        self._lost_playing = self._playing
        if self.phase not in (Phase.NEW, Phase.ENDED):
            self._deadlines.setdefault("lost", now + self._lost_grace)

    def resync(self, channel: ChannelInfo | None, now: float) -> None:
        """The state of our channel after a reconnect (``GET /ari/channels/{id}``; None = 404)."""
        lost, self._lost_playing = self._lost_playing, None
        self._deadlines.pop("lost", None)
        if self.phase is Phase.ENDED:
            return
        if channel is None:
            self._finish(None, "", None, now, observed=False, reason="lost")
        elif channel.state == "Up" and self.phase in (Phase.DIALING, Phase.RINGING):
            self._on_stasis_start(channel, None, now)
        elif channel.state in ("Ring", "Ringing") and self.phase is Phase.DIALING:
            self.phase = Phase.RINGING
        elif self.phase is Phase.ANSWERED and lost is not None and self._playing == lost:
            # PlaybackFinished may have been lost: stop it and play the same prompt again.
            self._commands.append(StopPlayback(lost))
            self._play_next(now)
        elif self.phase is Phase.HANGING_UP and self._hangup_sent:
            self._commands.append(Hangup(self.channel_id))

    def command_failed(self, command: Command, now: float) -> None:
        """A command was refused (404 channel gone, 409 not in Stasis) or not delivered."""
        if isinstance(command, StopPlayback) or self.phase is Phase.ENDED:
            return
        if isinstance(command, Hangup):
            self._deadlines.setdefault("hangup", now + self._hangup_grace)
        else:
            self._reason = self._reason or "command-failed"
            self._end(self._result, now)

    def abort(self, now: float, reason: str = "closed") -> None:
        """End now (the client is closing): hang up and report what is known."""
        if self.phase is Phase.ENDED:
            return
        if self.phase in (Phase.NEW, Phase.DIALING, Phase.RINGING):
            self._canceled = True
        if not self._hangup_sent and self.phase is not Phase.NEW:
            self._commands.append(Hangup(self.channel_id))
        self._finish(self._req_cause, "", None, now, observed=False, reason=reason)

    # -- call progress -----------------------------------------------------------------------------

    def _on_stasis_start(self, channel: ChannelInfo, ts: datetime | None, now: float) -> None:
        if self.phase is Phase.HANGING_UP:
            self._answered = True  # answered while our cancel was on its way
            return
        if self.phase not in (Phase.DIALING, Phase.RINGING):
            return
        self._answered, self._answered_ts, self._answered_at = True, ts, now
        self.phase = Phase.ANSWERED
        self._deadlines.pop("ring", None)
        self._deadlines["max"] = now + self._max_duration
        if channel.state != "Up":
            self._commands.append(Answer(self.channel_id))
        target = self.script.start
        if self.script.on_machine is not None and is_machine(answered_by(self._amd)):
            target = self.script.on_machine
        self._enter(target, now)

    def _on_far_end_hangup(self, cause: int | None, now: float) -> None:
        if cause is not None:
            self._req_cause = cause
        if self.phase in (Phase.DIALING, Phase.RINGING, Phase.ANSWERED):
            self.phase = Phase.HANGING_UP
            self._playing = None
            self._deadlines = {"hangup": now + self._hangup_grace}

    def _end(self, result: str | None, now: float) -> None:
        """Our side hangs up (script finished, time-out, failure)."""
        if self.phase in (Phase.HANGING_UP, Phase.ENDED):
            return
        if not self._answered:
            self._canceled = True
        self._result = result
        self.phase = Phase.HANGING_UP
        self._playing = None
        self._hangup_sent = True
        self._commands.append(Hangup(self.channel_id))
        self._deadlines = {"hangup": now + self._hangup_grace}

    def _finish(
        self,
        cause: int | None,
        cause_txt: str,
        ts: datetime | None,
        now: float,
        *,
        observed: bool,
        reason: str | None = None,
    ) -> None:
        self.phase = Phase.ENDED
        self._deadlines.clear()
        disposition = classify(answered=self._answered, canceled=self._canceled, cause=cause)
        status, state = DISPOSITION_RESULT[disposition]
        duration = 0.0
        if self._answered:
            duration = (
                (ts - self._answered_ts).total_seconds()
                if ts is not None and self._answered_ts is not None
                else now - self._answered_at
            )
        self.outcome = CallResult(
            channel_id=self.channel_id,
            disposition=disposition,
            status=status,
            state=state,
            cause=cause,
            cause_txt=cause_txt,
            answered=self._answered,
            answered_by=answered_by(self._amd),
            inputs=tuple(self._inputs),
            duration=max(duration, 0.0),
            result=self._result,
            step=self._step.name if self._step else None,
            observed=observed,
            reason=reason or self._reason,
        )
        self._events.append(CallEnded(self.outcome))

    # -- the script --------------------------------------------------------------------------------

    def _enter(self, name: str, now: float) -> None:
        self._step = self.script.steps[name]
        self._attempt = 0
        self._run_step(now)

    def _run_step(self, now: float) -> None:
        self._buffer, self._prompt_i = "", 0
        self._deadlines.pop("gather", None)
        self._play_next(now)

    def _play_next(self, now: float) -> None:
        assert self._step is not None
        if self._prompt_i < len(self._step.prompts):
            self._pb_seq += 1
            self._playing = f"{self.channel_id}.pb{self._pb_seq}"
            media = prompt_media(self._step.prompts[self._prompt_i], self._tts)
            self._commands.append(Play(self.channel_id, self._playing, media))
            return
        self._playing = None
        if self._step.branches:
            self._deadlines["gather"] = now + self._step.timeout
        elif self._step.result is None and self._step.next is not None:
            self._enter(self._step.next, now)
        else:
            self._end(self._step.result, now)

    def _on_playback_finished(self, playback_id: str, now: float) -> None:
        if self.phase is Phase.ANSWERED and playback_id == self._playing:
            self._prompt_i += 1
            self._play_next(now)

    def _on_digit(self, digit: str, now: float) -> None:
        step = self._step
        if self.phase is not Phase.ANSWERED or step is None or not step.branches:
            return  # nothing is listening for digits
        if self._playing is not None:  # barge-in: the digit interrupts the prompts
            self._commands.append(StopPlayback(self._playing))
            self._playing = None
            self._prompt_i = len(step.prompts)
        if digit == "#":
            if self._buffer:
                self._evaluate(now)
            else:
                self._deadlines["gather"] = now + step.timeout
            return
        self._buffer += digit
        if len(self._buffer) >= step.max_digits:
            self._evaluate(now)
        else:
            self._deadlines["gather"] = now + step.timeout

    def _evaluate(self, now: float) -> None:
        step = self._step
        assert step is not None
        self._deadlines.pop("gather", None)
        digits, self._buffer = self._buffer, ""
        if digits:
            self._inputs.append((step.name, digits))
            self._events.append(DigitsCollected(self.channel_id, step.name, digits, self._attempt))
        target = step.branches.get(digits) if digits else None
        if target is not None:
            self._enter(target, now)
        elif self._attempt < step.retries:
            self._attempt += 1
            self._run_step(now)
        elif step.default is not None:
            self._enter(step.default, now)
        else:
            self._end("invalid" if digits else "no-input", now)

    # -- timers ------------------------------------------------------------------------------------

    def _ring_expired(self, now: float) -> None:
        self._reason = "ring-timeout"
        self._end(None, now)

    def _gather_expired(self, now: float) -> None:
        if self.phase is Phase.ANSWERED:
            self._evaluate(now)

    def _max_expired(self, now: float) -> None:
        self._reason = "max-duration"
        self._end(self._result, now)

    def _lost_expired(self, now: float) -> None:
        self._reason = "events-lost"
        if self.phase is Phase.HANGING_UP:
            self._hangup_expired(now)
        else:
            self._end(self._result, now)

    def _hangup_expired(self, now: float) -> None:
        self._finish(self._req_cause, "", None, now, observed=False, reason=self._reason or "no-destroy")

    _TIMERS: ClassVar[dict[str, Callable[[CallSession, float], None]]] = {
        "ring": _ring_expired,
        "gather": _gather_expired,
        "max": _max_expired,
        "hangup": _hangup_expired,
        "lost": _lost_expired,
    }
