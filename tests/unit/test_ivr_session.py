"""CallSession from scripted ARI events: commands out, outcomes out, time only through ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from channels.content import IvrScript, IvrStep, Prompt
from channels.ivr.causes import CallStatus, Disposition
from channels.ivr.events import (
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
from channels.ivr.script import compile_script
from channels.ivr.session import (
    Answer,
    CallEnded,
    CallResult,
    CallSession,
    DigitsCollected,
    Hangup,
    Originate,
    Phase,
    Play,
    StopPlayback,
)
from channels.results import DeliveryState

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
CID = "call-1"

OFFER = IvrScript(
    steps=(
        IvrStep(
            name="offer",
            prompts=(Prompt(sound="welcome"), Prompt(sound="offer")),
            branches={"1": "yes", "2": "no"},
            timeout=5.0,
            retries=1,
        ),
        IvrStep(name="yes", prompts=(Prompt(sound="thanks"),), result="accepted"),
        IvrStep(name="no", prompts=(Prompt(tts="Goodbye"),), result="declined"),
        IvrStep(name="voicemail", prompts=(Prompt(sound="vm"),), result="voicemail"),
    ),
    caller_id="4000",
    on_machine="voicemail",
)


def chan(state: str = "Up") -> ChannelInfo:
    return ChannelInfo(id=CID, state=state)


def at(t: float) -> datetime:
    return T0 + timedelta(seconds=t)


def ev(kind: type[Any], t: float, **fields: Any) -> Any:
    if kind in (PlaybackStarted, PlaybackFinished):
        return kind(application="tc", timestamp=at(t), **fields)
    return kind(application="tc", timestamp=at(t), channel=fields.pop("channel", chan()), **fields)


def pb_done(playback_id: str, t: float) -> PlaybackFinished:
    info = PlaybackInfo(id=playback_id, media_uri="sound:x", target_uri=f"channel:{CID}", state="done")
    result: PlaybackFinished = ev(PlaybackFinished, t, playback=info)
    return result


def new(script: IvrScript = OFFER, **kw: Any) -> tuple[CallSession, list[Any]]:
    s = CallSession(channel_id=CID, script=compile_script(script), endpoint="PJSIP/861380@t", app="tc", **kw)
    s.start(0.0)
    commands = s.take_commands()
    s.originate_accepted(0.1)
    return s, commands


def answer(s: CallSession, t: float, state: str = "Up") -> list[Any]:
    s.handle_event(ev(ChannelStateChange, t - 2, channel=chan("Ringing")), t - 2)
    s.handle_event(ev(StasisStart, t, channel=chan(state), args=("camp",)), t)
    return s.take_commands()


def destroyed(s: CallSession, t: float, cause: int = 16) -> CallResult:
    s.handle_event(ev(ChannelDestroyed, t, cause=cause, cause_txt="x"), t)
    (end,) = [e for e in s.take_events() if isinstance(e, CallEnded)]
    return end.result


def test_originate_carries_our_id_endpoint_caller_id_and_ring_timeout() -> None:
    _, commands = new(ring_timeout=25.0)
    assert commands == [Originate(CID, "PJSIP/861380@t", "tc", (), "4000", 25.0)]
    _, commands = new(caller_id="5000", app_args=("camp-7",))
    assert commands == [Originate(CID, "PJSIP/861380@t", "tc", ("camp-7",), "5000", 30.0)]


def test_answered_digit_one_mid_prompt_barges_in_and_completes() -> None:
    s, _ = new()
    assert answer(s, 10.0) == [Play(CID, f"{CID}.pb1", "sound:welcome")]
    s.handle_event(
        ev(PlaybackStarted, 10.1, playback=PlaybackInfo(id=f"{CID}.pb1", media_uri="", target_uri="")), 10.1
    )
    s.handle_event(pb_done(f"{CID}.pb1", 13.0), 13.0)
    assert s.take_commands() == [Play(CID, f"{CID}.pb2", "sound:offer")]
    s.handle_event(ev(ChannelDtmfReceived, 14.0, digit="1"), 14.0)
    assert s.take_commands() == [StopPlayback(f"{CID}.pb2"), Play(CID, f"{CID}.pb3", "sound:thanks")]
    assert s.take_events() == [DigitsCollected(CID, "offer", "1", 0)]
    s.handle_event(pb_done(f"{CID}.pb2", 14.1), 14.1)  # the stopped prompt's end changes nothing
    assert s.take_commands() == []
    s.handle_event(pb_done(f"{CID}.pb3", 16.0), 16.0)
    assert s.take_commands() == [Hangup(CID, "normal")]
    assert s.phase is Phase.HANGING_UP
    s.handle_event(ev(StasisEnd, 16.1), 16.1)
    r = destroyed(s, 16.2)
    assert (r.disposition, r.status, r.state) == (
        Disposition.ANSWERED,
        CallStatus.COMPLETED,
        DeliveryState.DELIVERED,
    )
    assert (r.digits, r.result, r.step, r.cause, r.observed) == ("1", "accepted", "yes", 16, True)
    assert r.duration == pytest.approx(6.2)  # gateway timestamps: StasisStart → ChannelDestroyed
    assert r.detail()["status"] == "completed" and r.detail()["inputs"] == [["offer", "1"]]
    assert s.done and s.get_timer() is None


@pytest.mark.parametrize(
    ("cause", "disposition", "status", "state"),
    [
        (17, Disposition.BUSY, CallStatus.BUSY, DeliveryState.UNDELIVERABLE),
        (18, Disposition.NO_ANSWER, CallStatus.NO_ANSWER, DeliveryState.EXPIRED),
        (19, Disposition.NO_ANSWER, CallStatus.NO_ANSWER, DeliveryState.EXPIRED),
        (16, Disposition.NO_ANSWER, CallStatus.NO_ANSWER, DeliveryState.EXPIRED),
        (21, Disposition.REJECTED, CallStatus.FAILED, DeliveryState.REJECTED),
        (34, Disposition.CONGESTION, CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
        (38, Disposition.CONGESTION, CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
        (1, Disposition.FAILED, CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
        (20, Disposition.FAILED, CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
        (99, Disposition.FAILED, CallStatus.FAILED, DeliveryState.UNDELIVERABLE),
    ],
)
def test_unanswered_call_outcome_follows_cause(
    cause: int, disposition: Disposition, status: CallStatus, state: DeliveryState
) -> None:
    s, _ = new()
    s.handle_event(ev(ChannelStateChange, 1.0, channel=chan("Ringing")), 1.0)
    r = destroyed(s, 5.0, cause)
    assert (r.disposition, r.status, r.state, r.answered, r.duration) == (
        disposition,
        status,
        state,
        False,
        0.0,
    )
    assert s.take_commands() == []


def test_ring_guard_cancels_a_call_the_gateway_never_ends() -> None:
    s, _ = new(ring_timeout=20.0, answer_grace=10.0)
    assert s.get_timer() == pytest.approx(30.1)
    s.handle_timer(30.0)
    assert s.take_commands() == []
    s.handle_timer(30.1)
    assert s.take_commands() == [Hangup(CID)]
    r = destroyed(s, 30.2, 16)
    assert (r.disposition, r.status, r.state, r.reason) == (
        Disposition.CANCELED,
        CallStatus.CANCELED,
        DeliveryState.EXPIRED,
        "ring-timeout",
    )


def test_no_input_reprompts_then_ends_with_no_input() -> None:
    s, _ = new()
    answer(s, 1.0)
    s.handle_event(pb_done(f"{CID}.pb1", 2.0), 2.0)
    s.handle_event(pb_done(f"{CID}.pb2", 3.0), 3.0)
    s.take_commands()
    assert s.get_timer() == pytest.approx(8.0)
    s.handle_timer(8.0)  # first time-out: play the step again
    assert s.take_commands() == [Play(CID, f"{CID}.pb3", "sound:welcome")]
    s.handle_event(pb_done(f"{CID}.pb3", 9.0), 9.0)
    s.handle_event(pb_done(f"{CID}.pb4", 10.0), 10.0)
    s.take_commands()
    s.handle_timer(15.0)
    assert s.take_commands() == [Hangup(CID)]
    r = destroyed(s, 15.1)
    assert (r.result, r.digits, r.status) == ("no-input", "", CallStatus.COMPLETED)


def test_invalid_digit_retries_then_takes_default() -> None:
    script = IvrScript(
        steps=(
            IvrStep(
                name="ask", prompts=(Prompt(sound="q"),), branches={"1": "yes"}, retries=1, default="bye"
            ),
            IvrStep(name="yes", result="yes"),
            IvrStep(name="bye", prompts=(Prompt(sound="bye"),), result="other"),
        )
    )
    s, _ = new(script)
    answer(s, 1.0)
    s.handle_event(ev(ChannelDtmfReceived, 1.5, digit="9"), 1.5)
    assert s.take_commands() == [StopPlayback(f"{CID}.pb1"), Play(CID, f"{CID}.pb2", "sound:q")]
    s.handle_event(ev(ChannelDtmfReceived, 2.0, digit="7"), 2.0)
    assert s.take_commands() == [StopPlayback(f"{CID}.pb2"), Play(CID, f"{CID}.pb3", "sound:bye")]
    assert [e.digits for e in s.take_events() if isinstance(e, DigitsCollected)] == ["9", "7"]


def test_multi_digit_entry_ends_on_hash_or_inter_digit_timeout() -> None:
    script = IvrScript(
        steps=(
            IvrStep(name="pin", branches={"12": "ok", "345": "ok"}, max_digits=4, timeout=3.0, retries=0),
            IvrStep(name="ok", result="ok"),
        )
    )
    s, _ = new(script)
    answer(s, 1.0)  # no prompts: gathering at once
    assert s.get_timer() == pytest.approx(4.0)
    for t, d in ((2.0, "1"), (3.0, "2"), (3.5, "#")):
        s.handle_event(ev(ChannelDtmfReceived, t, digit=d), t)
    assert s.take_commands() == [Hangup(CID)]
    assert destroyed(s, 4.0).result == "ok"

    s, _ = new(script)
    answer(s, 1.0)
    for t, d in ((2.0, "3"), (4.0, "4"), (6.0, "5")):
        s.handle_event(ev(ChannelDtmfReceived, t, digit=d), t)
    assert s.get_timer() == pytest.approx(9.0)  # inter-digit timeout after the last digit
    s.handle_timer(9.0)
    assert s.take_commands() == [Hangup(CID)]
    assert destroyed(s, 9.1).inputs == (("pin", "345"),)


def test_callee_hangs_up_mid_prompt() -> None:
    s, _ = new()
    answer(s, 1.0)
    s.handle_event(ev(ChannelHangupRequest, 2.0, cause=16), 2.0)
    s.handle_event(ev(StasisEnd, 2.0), 2.0)
    s.handle_event(pb_done(f"{CID}.pb1", 2.0), 2.0)
    assert s.take_commands() == []  # nothing more is played, nothing to hang up
    r = destroyed(s, 2.0)
    assert (r.status, r.result, r.digits, r.answered) == (CallStatus.COMPLETED, None, "", True)
    assert r.duration == pytest.approx(1.0)


def test_hangup_guard_reports_when_channel_destroyed_never_comes() -> None:
    s, _ = new(hangup_grace=5.0)
    answer(s, 1.0)
    s.handle_event(ev(ChannelDtmfReceived, 1.5, digit="2"), 1.5)
    s.handle_event(pb_done(f"{CID}.pb2", 3.0), 3.0)
    assert s.take_commands()[-1] == Hangup(CID)
    assert s.get_timer() == pytest.approx(8.0)
    s.handle_timer(8.0)
    (end,) = [e for e in s.take_events() if isinstance(e, CallEnded)]
    assert (end.result.result, end.result.observed, end.result.status) == (
        "declined",
        False,
        CallStatus.COMPLETED,
    )
    assert end.result.duration == pytest.approx(7.0)  # local clock: no gateway timestamp at the end


def test_resync_replays_a_prompt_whose_end_may_be_lost() -> None:
    s, _ = new()
    answer(s, 1.0)
    s.connection_lost(2.0)
    s.resync(chan("Up"), 4.0)
    assert s.take_commands() == [StopPlayback(f"{CID}.pb1"), Play(CID, f"{CID}.pb2", "sound:welcome")]
    s.connection_lost(5.0)
    s.handle_event(pb_done(f"{CID}.pb2", 5.5), 5.5)  # this one arrived: nothing to replay
    s.take_commands()
    s.resync(chan("Up"), 6.0)
    assert s.take_commands() == []


def test_resync_finds_channel_gone_and_still_reports_once() -> None:
    s, _ = new()
    answer(s, 1.0)
    s.handle_event(ev(ChannelDtmfReceived, 1.5, digit="1"), 1.5)
    s.connection_lost(2.0)
    s.resync(None, 3.0)
    ends = [e for e in s.take_events() if isinstance(e, CallEnded)]
    assert len(ends) == 1
    r = ends[0].result
    assert (r.status, r.digits, r.observed, r.reason, r.cause) == (
        CallStatus.COMPLETED,
        "1",
        False,
        "lost",
        None,
    )
    s.handle_event(ev(ChannelDestroyed, 3.5, cause=16), 3.5)  # late: ignored
    assert s.take_events() == []


def test_resync_of_unanswered_call() -> None:
    s, _ = new()
    s.connection_lost(1.0)
    s.resync(chan("Up"), 5.0)  # StasisStart was lost: the call is up, start the script
    assert s.take_commands() == [Play(CID, f"{CID}.pb1", "sound:welcome")]
    s2, _ = new()
    s2.resync(None, 5.0)
    (end,) = s2.take_events()
    assert isinstance(end, CallEnded) and end.result.disposition is Disposition.UNKNOWN
    assert end.result.state is DeliveryState.UNKNOWN


def test_machine_goes_to_on_machine_step_and_reports_answered_by() -> None:
    s, _ = new()
    s.handle_event(ev(ChannelVarset, 1.0, variable="AMDSTATUS", value="MACHINE"), 1.0)
    assert answer(s, 1.0) == [Play(CID, f"{CID}.pb1", "sound:vm")]
    s.handle_event(pb_done(f"{CID}.pb1", 3.0), 3.0)
    assert s.take_commands() == [Hangup(CID)]
    r = destroyed(s, 3.1)
    assert (r.answered_by, r.result) == ("machine_start", "voicemail")


def test_human_amd_runs_the_script_and_answer_is_sent_when_not_up() -> None:
    s, _ = new()
    s.handle_event(ev(ChannelVarset, 1.0, variable="AMDSTATUS", value="HUMAN"), 1.0)
    assert answer(s, 1.0, state="Ring") == [Answer(CID), Play(CID, f"{CID}.pb1", "sound:welcome")]
    assert destroyed(s, 2.0).answered_by == "human"


def test_failed_play_hangs_up() -> None:
    s, _ = new()
    (play,) = answer(s, 1.0)
    s.command_failed(play, 1.1)
    assert s.take_commands() == [Hangup(CID)]
    assert destroyed(s, 1.2).reason == "command-failed"


def test_abort_reports_cancel_before_answer_and_hangs_up() -> None:
    s, _ = new()
    s.abort(2.0)
    assert s.take_commands() == [Hangup(CID)]
    (end,) = s.take_events()
    assert isinstance(end, CallEnded)
    assert (end.result.status, end.result.reason) == (CallStatus.CANCELED, "closed")
    s.abort(3.0)
    s.handle_event(ev(ChannelDestroyed, 3.0, cause=16), 3.0)
    assert s.take_events() == [] and s.take_commands() == []


def test_max_duration_ends_a_call_that_goes_on() -> None:
    script = IvrScript(steps=(IvrStep(name="ask", prompts=(Prompt(sound="q"),), branches={"1": "ask"}),))
    s, _ = new(script, max_duration=60.0)
    answer(s, 1.0)
    for i in range(20):  # the callee keeps pressing 1: the step repeats
        s.handle_event(ev(ChannelDtmfReceived, 2.0 + i, digit="1"), 2.0 + i)
    s.take_commands()
    assert s.get_timer() == pytest.approx(61.0)
    s.handle_timer(61.0)
    assert s.take_commands() == [Hangup(CID)]
    r = destroyed(s, 61.5)
    assert (r.reason, len(r.inputs)) == ("max-duration", 20)


def test_steps_chain_through_next_and_digits_outside_gathers_are_ignored() -> None:
    script = IvrScript(
        steps=(
            IvrStep(name="a", prompts=(Prompt(sound="a"),), next="b"),
            IvrStep(name="b", prompts=(Prompt(sound="digits:42"),)),
        )
    )
    s, _ = new(script)
    answer(s, 1.0)
    s.handle_event(ev(ChannelDtmfReceived, 1.2, digit="5"), 1.2)
    s.handle_event(pb_done(f"{CID}.pb1", 2.0), 2.0)
    assert s.take_commands() == [Play(CID, f"{CID}.pb2", "digits:42")]
    s.handle_event(pb_done(f"{CID}.pb2", 3.0), 3.0)
    assert s.take_commands() == [Hangup(CID)]
    r = destroyed(s, 3.1)
    assert (r.result, r.step, r.digits) == (None, "b", "")


def test_start_twice_is_an_error() -> None:
    s, _ = new()
    with pytest.raises(RuntimeError):
        s.start(1.0)


def test_events_lost_without_resync_hang_up_after_the_grace() -> None:
    s, _ = new(lost_grace=30.0, hangup_grace=5.0)
    answer(s, 1.0)
    s.take_commands()
    s.connection_lost(2.0)
    assert s.get_timer() == pytest.approx(32.0)  # a prompt is playing: only the guards are armed
    s.handle_timer(31.9)
    assert s.take_commands() == []
    s.handle_timer(32.0)
    assert s.take_commands() == [Hangup(CID)]
    s.handle_timer(37.0)
    (end,) = s.take_events()
    assert isinstance(end, CallEnded)
    assert (end.result.reason, end.result.observed, end.result.status) == (
        "events-lost",
        False,
        CallStatus.COMPLETED,
    )


def test_resync_clears_the_lost_guard() -> None:
    s, _ = new(lost_grace=30.0)
    s.connection_lost(1.0)
    assert s.get_timer() == pytest.approx(31.0)
    s.resync(chan("Ringing"), 2.0)
    assert s.get_timer() == pytest.approx(40.1)  # back to the ring guard
    assert s.phase is Phase.RINGING
