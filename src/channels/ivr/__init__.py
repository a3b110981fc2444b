"""Outbound calls (IVR) over an Asterisk ARI subset (PROTOCOLS.md §7): events codec, pure call session,
hang-up cause tables and the aiohttp adapter."""

from channels.ivr.causes import CallStatus, Disposition
from channels.ivr.client import IvrClient
from channels.ivr.events import AriEvent, ChannelInfo, PlaybackInfo, decode_event, encode_event
from channels.ivr.script import CompiledScript, compile_script
from channels.ivr.session import CallEnded, CallResult, CallSession, DigitsCollected
from channels.ivr.settings import IvrSettings

__all__ = [
    "AriEvent",
    "CallEnded",
    "CallResult",
    "CallSession",
    "CallStatus",
    "ChannelInfo",
    "CompiledScript",
    "DigitsCollected",
    "Disposition",
    "IvrClient",
    "IvrSettings",
    "PlaybackInfo",
    "compile_script",
    "decode_event",
    "encode_event",
]
