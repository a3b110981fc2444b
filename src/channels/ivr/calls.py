"""The IVR client's bookkeeping of a running call, and what a call reports to campaigns.

Each call placed by :class:`~channels.ivr.client.IvrClient` is a :class:`Call`: the message, its
pure :class:`~channels.ivr.session.CallSession` and an inbox of ARI events (plus the markers
:class:`Lost` and :class:`Resync` for the events WebSocket's failures, PROTOCOLS.md §7). Session
events become the Channel protocol's values: gathered digits an
:class:`~channels.results.InboundMessage` replying to the message, the end of the call a final
:class:`~channels.results.DeliveryReceipt` carrying our message id. :class:`Pacer` spaces call attempts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from channels.ivr.commands import CallEnded, SessionEvent
from channels.ivr.events import AriEvent, ChannelInfo
from channels.ivr.session import CallSession
from channels.message import ChannelKind, Message
from channels.results import DeliveryReceipt, Event, InboundMessage


@dataclass(frozen=True, slots=True)
class Lost:
    """The event stream broke (events may be missing until the resync)."""


@dataclass(frozen=True, slots=True)
class Resync:
    channel: ChannelInfo | None


CallInput = AriEvent | Lost | Resync


@dataclass(slots=True, eq=False)
class Call:
    message: Message
    session: CallSession
    caller_id: str | None
    inbox: asyncio.Queue[CallInput] = field(default_factory=asyncio.Queue)
    heard_from: bool = False  # the gateway sent an event about this call
    task: asyncio.Task[None] | None = None


class Pacer:
    """Spaces call attempts at least ``1/cps`` apart (0: no pacing)."""

    def __init__(self, cps: float) -> None:
        self._interval = 1.0 / cps if cps > 0 else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self._interval:
            return
        now = asyncio.get_running_loop().time()
        at = max(now, self._next)
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


def report(call: Call, event: SessionEvent, at: datetime, gateway: str) -> Event:
    """A session event as the Channel protocol reports it."""
    message = call.message
    if isinstance(event, CallEnded):
        r = event.result
        return DeliveryReceipt(
            channel=ChannelKind.IVR,
            state=r.state,
            remote_id=r.channel_id,
            message_id=message.id,
            at=at,
            error_code=str(r.cause) if r.cause is not None else None,
            detail=r.detail(),
            gateway=gateway,
        )
    return InboundMessage(
        channel=ChannelKind.IVR,
        sender=message.to,
        recipient=call.caller_id,
        text=event.digits,
        at=at,
        in_reply_to=message.id,
        gateway=gateway,
        detail={"step": event.step, "attempt": event.attempt, "call_id": event.channel_id},
    )
