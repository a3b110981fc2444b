"""The JSON codec of the Asterisk ARI call-control subset (PROTOCOLS.md §7), both directions.

ARI speaks JSON over REST (channel and playback resources) and over one WebSocket of events per
application (``GET /ari/events?app=A``), each with the envelope ``type, application, timestamp``
[I1 ``events.json``]. This module turns those documents into typed, frozen values and back, so the
adapter (decoding events, encoding nothing but requests) and the gateway simulator (encoding events,
decoding requests) share one definition and cannot drift apart. It is pure: no I/O, no clock.
Malformed known events raise :class:`~channels.errors.RemoteProtocolError` naming the field;
event types outside the subset decode to :class:`UnknownEvent` (ARI has dozens, all ignorable).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from channels.errors import RemoteProtocolError

# Channel.state values [I7].
CHANNEL_STATES = frozenset(
    {
        "Down",
        "Rsrvd",
        "OffHook",
        "Dialing",
        "Ring",
        "Ringing",
        "Up",
        "Busy",
        "Dialing Offhook",
        "Pre-ring",
        "Unknown",
    }
)


def format_timestamp(when: datetime) -> str:
    """ARI's timestamp form: ``2026-01-05T10:00:00.123+0000``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def parse_timestamp(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise RemoteProtocolError(f"{where}: bad timestamp {text!r}") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- resources -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelInfo:
    """An ARI Channel resource (the fields of the subset)."""

    id: str
    state: str = "Down"
    name: str = ""
    caller_number: str = ""
    caller_name: str = ""
    connected_number: str = ""
    creationtime: str = ""
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": "", "number": self.connected_number},
            "accountcode": "",
            "dialplan": {"context": "default", "exten": "s", "priority": 1},
            "creationtime": self.creationtime,
            "language": self.language,
        }

    @classmethod
    def from_json(cls, obj: object, where: str = "channel") -> ChannelInfo:
        doc = _object(obj, where)
        caller = _object(doc.get("caller", {}), f"{where}.caller")
        connected = _object(doc.get("connected", {}), f"{where}.connected")
        state = _str(doc, "state", where, default="Unknown")
        return cls(
            id=_str(doc, "id", where),
            state=state if state in CHANNEL_STATES else "Unknown",
            name=_str(doc, "name", where, default=""),
            caller_number=_str(caller, "number", f"{where}.caller", default=""),
            caller_name=_str(caller, "name", f"{where}.caller", default=""),
            connected_number=_str(connected, "number", f"{where}.connected", default=""),
            creationtime=_str(doc, "creationtime", where, default=""),
            language=_str(doc, "language", where, default="en"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackInfo:
    """An ARI Playback resource; ``state`` is queued, playing, done or failed."""

    id: str
    media_uri: str
    target_uri: str
    state: str = "queued"
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "media_uri": self.media_uri,
            "target_uri": self.target_uri,
            "state": self.state,
            "language": self.language,
        }

    @classmethod
    def from_json(cls, obj: object, where: str = "playback") -> PlaybackInfo:
        doc = _object(obj, where)
        return cls(
            id=_str(doc, "id", where),
            media_uri=_str(doc, "media_uri", where, default=""),
            target_uri=_str(doc, "target_uri", where, default=""),
            state=_str(doc, "state", where, default="queued"),
            language=_str(doc, "language", where, default="en"),
        )


# -- events ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StasisStart:
    """The channel entered our application: for an originated call, the callee answered."""

    application: str
    timestamp: datetime
    channel: ChannelInfo
    args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StasisEnd:
    application: str
    timestamp: datetime
    channel: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelStateChange:
    application: str
    timestamp: datetime
    channel: ChannelInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDtmfReceived:
    """One DTMF digit, reported when the key is released (possibly mid-playback)."""

    application: str
    timestamp: datetime
    channel: ChannelInfo
    digit: str
    duration_ms: int = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelHangupRequest:
    application: str
    timestamp: datetime
    channel: ChannelInfo
    cause: int = 16
    soft: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelDestroyed:
    """The channel is gone; ``cause`` is the Q.850 hangup cause (PROTOCOLS.md §7 table)."""

    application: str
    timestamp: datetime
    channel: ChannelInfo
    cause: int
    cause_txt: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelVarset:
    """A channel variable was set; AMD reports ``AMDSTATUS``/``AMDCAUSE`` this way."""

    application: str
    timestamp: datetime
    channel: ChannelInfo
    variable: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackStarted:
    application: str
    timestamp: datetime
    playback: PlaybackInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaybackFinished:
    application: str
    timestamp: datetime
    playback: PlaybackInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent:
    """An event type outside the subset, kept for logs and ignored by the session."""

    type: str
    application: str
    timestamp: datetime
    raw: Mapping[str, Any] = field(default_factory=dict)


AriEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelVarset
    | PlaybackStarted
    | PlaybackFinished
    | UnknownEvent
)
ChannelEvent = (
    StasisStart
    | StasisEnd
    | ChannelStateChange
    | ChannelDtmfReceived
    | ChannelHangupRequest
    | ChannelDestroyed
    | ChannelVarset
)


def event_channel_id(event: AriEvent) -> str | None:
    """The channel an event concerns; for playbacks, the target ``channel:<id>``."""
    if isinstance(event, PlaybackStarted | PlaybackFinished):
        target = event.playback.target_uri
        return target[len("channel:") :] if target.startswith("channel:") else None
    if isinstance(event, UnknownEvent):
        return None
    return event.channel.id


# -- decoding --------------------------------------------------------------------------------------


def _object(obj: object, where: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise RemoteProtocolError(f"{where}: expected a JSON object")
    return obj


_MISSING: Any = object()


def _str(doc: Mapping[str, Any], key: str, where: str, default: str = _MISSING) -> str:
    value = doc.get(key, default)
    if value is _MISSING:
        raise RemoteProtocolError(f"{where}.{key}: missing")
    if not isinstance(value, str):
        raise RemoteProtocolError(f"{where}.{key}: expected a string")
    return value


def _int(doc: Mapping[str, Any], key: str, where: str, default: int = _MISSING) -> int:
    value = doc.get(key, default)
    if value is _MISSING:
        raise RemoteProtocolError(f"{where}.{key}: missing")
    if isinstance(value, bool) or not isinstance(value, int):
        raise RemoteProtocolError(f"{where}.{key}: expected an integer")
    return value


def _args(doc: Mapping[str, Any], where: str) -> tuple[str, ...]:
    value = doc.get("args", [])
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise RemoteProtocolError(f"{where}.args: expected a list of strings")
    return tuple(value)


def _decode_channel_event(kind: type[Any]) -> Callable[[dict[str, Any], str, datetime], AriEvent]:
    def decode(doc: dict[str, Any], app: str, ts: datetime) -> AriEvent:
        where = str(doc["type"])
        channel = ChannelInfo.from_json(doc.get("channel"), f"{where}.channel")
        extra: dict[str, Any] = {}
        if kind is StasisStart:
            extra["args"] = _args(doc, where)
        elif kind is ChannelDtmfReceived:
            digit = _str(doc, "digit", where)
            if len(digit) != 1 or digit not in "0123456789*#ABCD":
                raise RemoteProtocolError(f"{where}.digit: not a DTMF digit: {digit!r}")
            extra.update(digit=digit, duration_ms=_int(doc, "duration_ms", where, default=100))
        elif kind is ChannelHangupRequest:
            extra.update(cause=_int(doc, "cause", where, default=16), soft=bool(doc.get("soft", False)))
        elif kind is ChannelDestroyed:
            extra.update(cause=_int(doc, "cause", where), cause_txt=_str(doc, "cause_txt", where, default=""))
        elif kind is ChannelVarset:
            extra.update(variable=_str(doc, "variable", where), value=_str(doc, "value", where, default=""))
        event: AriEvent = kind(application=app, timestamp=ts, channel=channel, **extra)
        return event

    return decode


def _decode_playback_event(kind: type[Any]) -> Callable[[dict[str, Any], str, datetime], AriEvent]:
    def decode(doc: dict[str, Any], app: str, ts: datetime) -> AriEvent:
        playback = PlaybackInfo.from_json(doc.get("playback"), f"{doc['type']}.playback")
        event: AriEvent = kind(application=app, timestamp=ts, playback=playback)
        return event

    return decode


_DECODERS: dict[str, Callable[[dict[str, Any], str, datetime], AriEvent]] = {
    "StasisStart": _decode_channel_event(StasisStart),
    "StasisEnd": _decode_channel_event(StasisEnd),
    "ChannelStateChange": _decode_channel_event(ChannelStateChange),
    "ChannelDtmfReceived": _decode_channel_event(ChannelDtmfReceived),
    "ChannelHangupRequest": _decode_channel_event(ChannelHangupRequest),
    "ChannelDestroyed": _decode_channel_event(ChannelDestroyed),
    "ChannelVarset": _decode_channel_event(ChannelVarset),
    "PlaybackStarted": _decode_playback_event(PlaybackStarted),
    "PlaybackFinished": _decode_playback_event(PlaybackFinished),
}


def decode_event(data: str | bytes | Mapping[str, Any]) -> AriEvent:
    """One WebSocket text frame (or its parsed object) → a typed event."""
    if isinstance(data, str | bytes):
        try:
            parsed: object = json.loads(data)
        except ValueError as exc:
            raise RemoteProtocolError(f"event: not JSON ({exc})") from None
    else:
        parsed = dict(data)
    doc = _object(parsed, "event")
    kind = _str(doc, "type", "event")
    app = _str(doc, "application", kind, default="")
    ts = parse_timestamp(_str(doc, "timestamp", kind), f"{kind}.timestamp")
    decoder = _DECODERS.get(kind)
    if decoder is None:
        return UnknownEvent(type=kind, application=app, timestamp=ts, raw=doc)
    return decoder(doc, app, ts)


# -- encoding --------------------------------------------------------------------------------------


def event_to_json(event: AriEvent) -> dict[str, Any]:
    """A typed event → the ARI JSON object."""
    if isinstance(event, UnknownEvent):
        return {
            **event.raw,
            "type": event.type,
            "application": event.application,
            "timestamp": format_timestamp(event.timestamp),
        }
    doc: dict[str, Any] = {
        "type": type(event).__name__,
        "application": event.application,
        "timestamp": format_timestamp(event.timestamp),
    }
    if isinstance(event, PlaybackStarted | PlaybackFinished):
        doc["playback"] = event.playback.to_json()
        return doc
    if isinstance(event, StasisStart):
        doc["args"] = list(event.args)
    elif isinstance(event, ChannelDtmfReceived):
        doc.update(digit=event.digit, duration_ms=event.duration_ms)
    elif isinstance(event, ChannelHangupRequest):
        doc.update(cause=event.cause, soft=event.soft)
    elif isinstance(event, ChannelDestroyed):
        doc.update(cause=event.cause, cause_txt=event.cause_txt)
    elif isinstance(event, ChannelVarset):
        doc.update(variable=event.variable, value=event.value)
    doc["channel"] = event.channel.to_json()
    return doc


def encode_event(event: AriEvent) -> str:
    """A typed event → one WebSocket text frame."""
    return json.dumps(event_to_json(event), separators=(",", ":"))
