"""One call inside the IVR gateway simulator: the channel's life and its callee's behaviour.

A :class:`SimCall` plays out PROTOCOLS.md §7's model of an originated ARI channel: Down → Ringing →
Up → StasisStart → playbacks and DTMF → hang-up → StasisEnd → ChannelDestroyed(cause), or an early
end with busy (17), no answer (19), rejected (21), congestion (34) or a failure cause. Its callee
(:class:`~simulators.ivr_model.Callee`) presses digits a while after each prompt starts (so often
mid-prompt, as people do), may hang up during the first prompt, and loses patience eventually.
Timers run on the simulator's scaled clock; events go out through the simulator.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from channels.ivr.causes import CAUSE_TEXT, classify
from channels.ivr.events import (
    AriEvent,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    ChannelInfo,
    ChannelStateChange,
    ChannelVarset,
    PlaybackFinished,
    PlaybackInfo,
    PlaybackStarted,
    StasisEnd,
    StasisStart,
)
from simulators.ivr_model import ANSWER, BUSY, FAILED, NO_ANSWER, Callee, IvrScenario


class Gateway(Protocol):
    """What a call needs from the simulator."""

    scenario: IvrScenario

    def sim_now(self) -> float: ...

    def timestamp(self) -> datetime: ...

    def later(self, seconds: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle: ...

    def emit(self, app: str, event: AriEvent) -> None: ...

    def ended(self, call: SimCall, record: dict[str, Any]) -> None: ...


class SimCall:
    """The simulated channel of one originated call."""

    def __init__(
        self,
        gateway: Gateway,
        *,
        info: ChannelInfo,
        app: str,
        args: tuple[str, ...],
        endpoint: str,
        number: str,
        callee: Callee,
        timeout: float,
        congestion: bool,
    ) -> None:
        self._gw = gateway
        self.info, self.app, self.args, self.endpoint, self.number = info, app, args, endpoint, number
        self.callee, self.timeout, self.congestion = callee, timeout, congestion
        self.in_stasis = self.destroyed = False
        self.playing: PlaybackInfo | None = None
        self.queue: deque[PlaybackInfo] = deque()
        self.playback_ids: list[str] = []
        self.chunks = [] if callee.machine else list(callee.digits)
        self.pressed = self.sent_dtmf = ""
        self.heard: list[str] = []
        self.hangup_by: str | None = None
        self.created = gateway.sim_now()
        self.ringing_at: float | None = None
        self.answered_at: float | None = None
        self._handles: list[asyncio.TimerHandle] = []
        self._playback_handle: asyncio.TimerHandle | None = None
        self._press_handle: asyncio.TimerHandle | None = None

    # -- timers and events -------------------------------------------------------------------------

    def _later(self, seconds: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        handle = self._gw.later(seconds, fn, *args)
        self._handles.append(handle)
        return handle

    def cancel_timers(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()

    def _emit(self, kind: type[Any], **fields: Any) -> None:
        event: AriEvent = kind(application=self.app, timestamp=self._gw.timestamp(), **fields)
        self._gw.emit(self.app, event)

    def _set_state(self, state: str) -> None:
        self.info = dataclasses.replace(self.info, state=state)
        self._emit(ChannelStateChange, channel=self.info)

    # -- the call's life ---------------------------------------------------------------------------

    def dial(self) -> None:
        """Schedule this call's progress from its callee's fate."""
        c = self.callee
        if self.congestion:
            self._later(0.05, self.destroy, 34)
        elif c.outcome in (FAILED, BUSY):
            self._later(c.setup_time, self.destroy, c.cause)
        else:
            self._later(c.setup_time, self._ringing)
            if c.outcome == ANSWER and c.ring_time < self.timeout:
                self._later(c.setup_time + c.ring_time, self._answer)
            elif c.outcome in (ANSWER, NO_ANSWER):
                self._later(c.setup_time + self.timeout, self.destroy, 19)
            else:
                self._later(c.setup_time + min(c.ring_time, self.timeout), self.destroy, c.cause)

    def _ringing(self) -> None:
        self.ringing_at = self._gw.sim_now()
        self._set_state("Ringing")

    def _answer(self) -> None:
        self.answered_at = self._gw.sim_now()
        self._set_state("Up")
        if self._gw.scenario.amd:
            status, cause = (
                ("MACHINE", "LONGGREETING-1700-1500") if self.callee.machine else ("HUMAN", "HUMAN-500-500")
            )
            self._emit(ChannelVarset, channel=self.info, variable="AMDSTATUS", value=status)
            self._emit(ChannelVarset, channel=self.info, variable="AMDCAUSE", value=cause)
        self.in_stasis = True
        self._emit(StasisStart, channel=self.info, args=self.args)
        self._later(self.callee.hangup_after, self._far_hangup)

    def _far_hangup(self) -> None:
        self.hangup("callee", 16, CAUSE_TEXT[16])

    def hangup(self, by: str, cause: int, cause_txt: str) -> None:
        """The callee (``by="callee"``) or the application (``"app"``) hangs up."""
        if self.destroyed:
            return
        self.hangup_by = by
        if by == "callee":
            self._emit(ChannelHangupRequest, channel=self.info, cause=cause, soft=False)
        if self.in_stasis:
            self.in_stasis = False
            self._emit(StasisEnd, channel=self.info)
        self.destroy(cause, cause_txt)

    def destroy(self, cause: int, cause_txt: str | None = None) -> None:
        if self.destroyed:
            return
        self.destroyed, self.in_stasis, self.playing = True, False, None
        self.cancel_timers()
        text = cause_txt if cause_txt is not None else CAUSE_TEXT.get(cause, "")
        self._emit(ChannelDestroyed, channel=self.info, cause=cause, cause_txt=text)
        self._gw.ended(self, self._record(cause))

    # -- playbacks and the callee's reaction -------------------------------------------------------

    def play(self, playback: PlaybackInfo) -> None:
        self.playback_ids.append(playback.id)
        self.queue.append(playback)
        if self.playing is None:
            self._next_playback()

    def _next_playback(self) -> None:
        if not self.queue or not self.in_stasis:
            return
        playback = dataclasses.replace(self.queue.popleft(), state="playing")
        self.playing = playback
        self.heard.append(playback.media_uri)
        self._emit(PlaybackStarted, playback=playback)
        duration = self._gw.scenario.prompt_duration(playback.media_uri)
        self._playback_handle = self._later(duration, self._playback_done, playback.id)
        self._on_prompt()

    def _playback_done(self, playback_id: str) -> None:
        if self.playing is None or self.playing.id != playback_id:
            return
        self._emit(PlaybackFinished, playback=dataclasses.replace(self.playing, state="done"))
        self.playing = None
        self._next_playback()

    def stop(self, playback_id: str) -> bool:
        """``DELETE /ari/playbacks/{id}``; False if there is no such playback."""
        if self.playing is not None and self.playing.id == playback_id:
            if self._playback_handle is not None:
                self._playback_handle.cancel()
            self._playback_done(playback_id)
            return True
        for queued in self.queue:
            if queued.id == playback_id:
                self.queue.remove(queued)
                return True
        return False

    def _on_prompt(self) -> None:
        c = self.callee
        if len(self.heard) == 1 and c.hangup_in_prompt is not None:
            self._later(c.hangup_in_prompt, self._far_hangup)
        if self.chunks:
            if self._press_handle is not None:
                self._press_handle.cancel()  # the callee waits for the newest prompt
            self._press_handle = self._later(c.digit_delay, self._press)

    def _press(self) -> None:
        if not self.in_stasis or not self.chunks:
            return
        chunk = self.chunks.pop(0)
        for i, digit in enumerate(chunk):
            self._later(i * self.callee.inter_digit, self._dtmf, digit)

    def _dtmf(self, digit: str) -> None:
        if self.in_stasis:
            self.pressed += digit
            self._emit(ChannelDtmfReceived, channel=self.info, digit=digit, duration_ms=120)

    # -- the record --------------------------------------------------------------------------------

    def _record(self, cause: int) -> dict[str, Any]:
        now = self._gw.sim_now()
        answered = self.answered_at is not None
        outcome = (
            "congestion"
            if self.congestion
            else classify(answered=answered, canceled=self.hangup_by == "app", cause=cause).value
        )
        rang_until = self.answered_at if self.answered_at is not None else now
        record: Mapping[str, Any] = {
            "channel_id": self.info.id,
            "number": self.number,
            "endpoint": self.endpoint,
            "caller_id": self.info.caller_number,
            "app": self.app,
            "args": list(self.args),
            "outcome": outcome,
            "fate": self.callee.outcome,
            "cause": cause,
            "answered": answered,
            "answered_by": ("machine" if self.callee.machine else "human") if answered else None,
            "digits": self.pressed,
            "prompts": list(self.heard),
            "sent_dtmf": self.sent_dtmf,
            "ring_time": round(rang_until - self.ringing_at, 3) if self.ringing_at is not None else 0.0,
            "duration": round(now - self.answered_at, 3) if self.answered_at is not None else 0.0,
            "hangup_by": self.hangup_by or "network",
            "created": (self._gw.timestamp() - timedelta(seconds=now - self.created)).isoformat(),
        }
        return dict(record)
