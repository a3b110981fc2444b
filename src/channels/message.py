"""The unit of work: one message to one subscriber on one channel.

``Message.id`` is our idempotency key. It must be stable across retries and restarts: the CLI
derives it from campaign + number + row content; library users pass their own or take the random
default, which is stable for the life of the object.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from channels.content import Content, IvrScript, Mms, Text, UssdMenu, WapPush
from channels.frozen import fast_init


class ChannelKind(StrEnum):
    SMS = "sms"
    MMS = "mms"
    WAP_PUSH = "wap_push"
    IVR = "ivr"
    USSD = "ussd"


CONTENT_FOR_KIND: dict[ChannelKind, type] = {
    ChannelKind.SMS: Text,
    ChannelKind.MMS: Mms,
    ChannelKind.WAP_PUSH: WapPush,
    ChannelKind.IVR: IvrScript,
    ChannelKind.USSD: UssdMenu,
}


def new_message_id() -> str:
    return uuid.uuid4().hex


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One message to one subscriber.

    ``to`` is an MSISDN (E.164 digits with or without ``+``, or national); adapters normalise it.
    ``transactional`` messages bypass quiet hours; ``timezone`` overrides the zone derived from
    the number. ``metadata`` travels to receipts and reports untouched.
    """

    to: str
    kind: ChannelKind
    content: Content
    sender: str | None = None
    campaign_id: str | None = None
    id: str = field(default_factory=new_message_id)
    transactional: bool = False
    timezone: str | None = None
    want_receipt: bool = True
    metadata: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        expected = CONTENT_FOR_KIND[self.kind]
        if not isinstance(self.content, expected):
            raise TypeError(
                f"Message.content for kind {self.kind.value!r} must be {expected.__name__}, "
                f"not {type(self.content).__name__}"
            )
        if not self.to:
            raise ValueError("Message.to is empty")
        if not self.id:
            raise ValueError("Message.id is empty")


def mask_msisdn(number: str | None) -> str:
    """Mask a number for logs: keep the first 5 and last 2 digits (``8613800138000`` → ``86138******00``)."""
    if not number:
        return ""
    if len(number) <= 6:
        return "*" * len(number)
    return number[:5] + "*" * (len(number) - 7) + number[-2:]
