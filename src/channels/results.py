"""What comes back: the gateway's acceptance, receipts, replies, and the Dispatcher's outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from channels.errors import ChannelsError
from channels.frozen import fast_init
from channels.message import ChannelKind, Message


class DeliveryState(StrEnum):
    """Where a message stands. ACCEPTED is the only non-final state (PROTOCOLS.md §3.3, §3.6)."""

    ACCEPTED = "accepted"
    DELIVERED = "delivered"
    EXPIRED = "expired"
    UNDELIVERABLE = "undeliverable"
    REJECTED = "rejected"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self is not DeliveryState.ACCEPTED


# Worst state wins when folding the parts of a multipart message (PROTOCOLS.md §3.5).
STATE_SEVERITY: dict[DeliveryState, int] = {
    DeliveryState.DELIVERED: 0,
    DeliveryState.ACCEPTED: 1,
    DeliveryState.UNKNOWN: 2,
    DeliveryState.EXPIRED: 3,
    DeliveryState.UNDELIVERABLE: 4,
    DeliveryState.REJECTED: 5,
}


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class SendResult:
    """The gateway accepted the message. ``remote_ids`` has one id per part (SMS) or one per request."""

    message_id: str
    channel: ChannelKind
    remote_ids: tuple[str, ...]
    accepted_at: datetime
    parts: int = 1


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReceipt:
    """A delivery report or final outcome for one message (or one part, before folding).

    ``message_id`` is our ``Message.id`` once correlated (None while only ``remote_id`` is known).
    ``detail`` holds channel-specific data: SMPP err/network codes, MM7 status text, IVR call status,
    digits and duration, USSD path and choice.
    """

    channel: ChannelKind
    state: DeliveryState
    remote_id: str | None
    message_id: str | None = None
    at: datetime
    error_code: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    gateway: str | None = None

    @property
    def final(self) -> bool:
        return self.state.is_final


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundMessage:
    """A subscriber's reply: an MO SMS/MMS, a DTMF digit string, a USSD answer.

    ``in_reply_to`` is our ``Message.id`` when the channel can tell (IVR call, USSD session).
    ``keyword`` is the normalised text (NFKC, case-folded, trimmed) for matching.
    """

    channel: ChannelKind
    sender: str
    recipient: str | None
    text: str
    at: datetime
    in_reply_to: str | None = None
    keyword: str = ""
    opt_out: bool = False
    detail: Mapping[str, Any] = field(default_factory=dict)
    gateway: str | None = None


Event = DeliveryReceipt | InboundMessage


@fast_init
@dataclass(frozen=True, slots=True)
class Sent:
    """The gateway accepted the message."""

    message: Message
    result: SendResult


@dataclass(frozen=True, slots=True)
class Deferred:
    """A policy held the message until ``until`` (a quiet-hour window, a rate limit); not sent."""

    message: Message
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """A policy or the gateway refused the message for good."""

    message: Message
    reason: str
    error: ChannelsError | None = None


@dataclass(frozen=True, slots=True)
class Failed:
    """Sending failed after retries (or its outcome is unknown: ``error`` is OutcomeUnknown)."""

    message: Message
    error: ChannelsError


Outcome = Sent | Deferred | Rejected | Failed
