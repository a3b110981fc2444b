"""The ARI events codec: PROTOCOLS.md §7 samples decode, every type round-trips, bad input names its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.errors import RemoteProtocolError
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
    UnknownEvent,
    decode_event,
    encode_event,
    event_channel_id,
    format_timestamp,
)

CHANNEL = {
    "id": "1700000000.17",
    "name": "PJSIP/trunk-00000011",
    "state": "Up",
    "caller": {"name": "", "number": "4000"},
    "connected": {"name": "", "number": "15551234567"},
    "accountcode": "",
    "dialplan": {"context": "default", "exten": "s", "priority": 1},
    "creationtime": "2026-01-05T10:00:00.000+0000",
    "language": "en",
}
TS = "2026-01-05T10:00:01.250+0000"


def sample(**fields: object) -> str:
    return json.dumps({"application": "tc", "timestamp": TS, "channel": CHANNEL, **fields})


def test_protocols_samples_decode() -> None:
    start = decode_event(sample(type="StasisStart", args=["camp-7"]))
    assert isinstance(start, StasisStart)
    assert start.args == ("camp-7",) and start.channel.id == "1700000000.17"
    assert start.channel.caller_number == "4000" and start.channel.connected_number == "15551234567"
    assert start.timestamp == datetime(2026, 1, 5, 10, 0, 1, 250000, tzinfo=UTC)
    dtmf = decode_event(sample(type="ChannelDtmfReceived", digit="1", duration_ms=120))
    assert isinstance(dtmf, ChannelDtmfReceived) and (dtmf.digit, dtmf.duration_ms) == ("1", 120)
    gone = decode_event(sample(type="ChannelDestroyed", cause=17, cause_txt="User busy"))
    assert isinstance(gone, ChannelDestroyed) and (gone.cause, gone.cause_txt) == (17, "User busy")


CH = ChannelInfo(id="c1", state="Ringing", name="PJSIP/x", caller_number="4000", connected_number="861380")
PB = PlaybackInfo(id="c1.pb1", media_uri="sound:hello", target_uri="channel:c1", state="playing")
WHEN = datetime(2026, 1, 5, 10, 0, 0, 123000, tzinfo=UTC)
EVENTS: list[AriEvent] = [
    StasisStart(application="tc", timestamp=WHEN, channel=CH, args=("a", "b")),
    StasisEnd(application="tc", timestamp=WHEN, channel=CH),
    ChannelStateChange(application="tc", timestamp=WHEN, channel=CH),
    ChannelDtmfReceived(application="tc", timestamp=WHEN, channel=CH, digit="#", duration_ms=90),
    ChannelHangupRequest(application="tc", timestamp=WHEN, channel=CH, cause=16, soft=True),
    ChannelDestroyed(application="tc", timestamp=WHEN, channel=CH, cause=34, cause_txt="congestion"),
    ChannelVarset(application="tc", timestamp=WHEN, channel=CH, variable="AMDSTATUS", value="MACHINE"),
    PlaybackStarted(application="tc", timestamp=WHEN, playback=PB),
    PlaybackFinished(application="tc", timestamp=WHEN, playback=PB),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_round_trips(event: AriEvent) -> None:
    text = encode_event(event)
    assert json.loads(text)["type"] == type(event).__name__
    assert decode_event(text) == event
    assert event_channel_id(event) == "c1"


def test_timestamp_format_is_aris() -> None:
    assert format_timestamp(WHEN) == "2026-01-05T10:00:00.123+0000"


def test_unknown_types_are_kept_not_refused() -> None:
    event = decode_event(sample(type="BridgeCreated", bridge={"id": "b"}))
    assert isinstance(event, UnknownEvent) and event.type == "BridgeCreated"
    assert event_channel_id(event) is None
    assert json.loads(encode_event(event))["bridge"] == {"id": "b"}


def test_playback_of_something_else_has_no_channel() -> None:
    pb = PlaybackInfo(id="p", media_uri="sound:x", target_uri="bridge:b1")
    assert event_channel_id(PlaybackStarted(application="tc", timestamp=WHEN, playback=pb)) is None


def test_unknown_channel_state_is_normalised() -> None:
    event = decode_event(
        json.dumps({**json.loads(sample(type="StasisEnd")), "channel": {"id": "c", "state": "Weird"}})
    )
    assert isinstance(event, StasisEnd) and event.channel.state == "Unknown"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ("not json", "not JSON"),
        ("[1]", "event: expected a JSON object"),
        (json.dumps({"application": "tc", "timestamp": TS}), "event.type: missing"),
        (json.dumps({"type": "StasisEnd", "application": "tc"}), "StasisEnd.timestamp: missing"),
        (json.dumps({"type": "StasisEnd", "timestamp": "yesterday"}), "StasisEnd.timestamp: bad timestamp"),
        (json.dumps({"type": "StasisEnd", "timestamp": TS}), "StasisEnd.channel: expected a JSON object"),
        (json.dumps({"type": "StasisEnd", "timestamp": TS, "channel": {}}), "StasisEnd.channel.id: missing"),
        (sample(type="ChannelDestroyed", cause="17"), "ChannelDestroyed.cause: expected an integer"),
        (sample(type="ChannelDestroyed"), "ChannelDestroyed.cause: missing"),
        (sample(type="ChannelDtmfReceived", digit="12"), "ChannelDtmfReceived.digit: not a DTMF digit"),
        (sample(type="StasisStart", args="x"), "StasisStart.args: expected a list"),
        (
            json.dumps({"type": "PlaybackStarted", "timestamp": TS, "playback": {}}),
            "PlaybackStarted.playback.id",
        ),
        (sample(type="StasisEnd", channel={"id": "c", "caller": "x"}), "StasisEnd.channel.caller: expected"),
    ],
)
def test_malformed_events_name_the_field(data: str, field: str) -> None:
    with pytest.raises(RemoteProtocolError, match=field.replace("(", r"\(").replace(".", r"\.")):
        decode_event(data)


@given(
    digit=st.sampled_from("0123456789*#ABCD"),
    cause=st.integers(0, 127),
    cid=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40),
    millis=st.integers(0, 10**12),
)
def test_round_trip_property(digit: str, cause: int, cid: str, millis: int) -> None:
    when = datetime.fromtimestamp(millis / 1000, UTC)
    ch = ChannelInfo(id=cid, state="Up")
    for event in (
        ChannelDtmfReceived(application="tc", timestamp=when, channel=ch, digit=digit),
        ChannelDestroyed(application="tc", timestamp=when, channel=ch, cause=cause, cause_txt=""),
    ):
        assert decode_event(encode_event(event)) == event
