"""Validation: refuse, before anything is reserved, messages no gateway should be given.

The first stage of the pipeline (DESIGN §1). It checks what is cheap to check and certain to fail
later: a recipient that is not an E.164-length number (ITU-T E.164 §6: at most 15 digits), a country
outside the campaign's allowed calling codes, a missing sender where one is required, a channel the
campaign does not use, an unknown time zone, and empty content. Each refusal names the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from channels.content import Mms, Text, WapPush
from channels.errors import ConfigurationError
from channels.message import ChannelKind, Message
from channels.policy import ALLOW, Decision, Reject
from throttle.numbers import Numbers

E164_MAX_DIGITS = 15
MIN_DIGITS = 6


class ValidatePolicy:
    """Reject malformed messages; ``countries`` are calling codes (``"86"``, ``"1"``)."""

    def __init__(
        self,
        *,
        numbers: Numbers | None = None,
        kinds: Iterable[ChannelKind] | None = None,
        countries: Iterable[str] | None = None,
        require_sender: bool = False,
    ) -> None:
        self.numbers = numbers or Numbers()
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.countries = tuple(c.lstrip("+") for c in countries) if countries is not None else None
        self.require_sender = require_sender

    def decide(self, message: Message) -> Decision:
        key = self.numbers.key(message.to)
        if not MIN_DIGITS <= len(key) <= E164_MAX_DIGITS:
            return Reject(f"to: {len(key)} digits is not a valid international number")
        if self.countries is not None and not key.startswith(self.countries):
            return Reject("to: country not allowed for this campaign")
        if self.kinds is not None and message.kind not in self.kinds:
            return Reject(f"kind: channel {message.kind.value!r} not allowed")
        if self.require_sender and not message.sender:
            return Reject("sender: missing")
        if message.timezone:
            try:
                self.numbers.named_zone(message.timezone)
            except ConfigurationError:
                return Reject(f"timezone: unknown time zone {message.timezone!r}")
        return _content(message)

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return self.decide(message)

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        decide = self.decide
        return [decide(m) for m in messages]

    async def rollback(self, message: Message) -> None:
        return None


def _content(message: Message) -> Decision:
    c = message.content
    if isinstance(c, Text) and not c.body:
        return Reject("content.body: empty text")
    if isinstance(c, Mms) and not (c.slides or c.parts):
        return Reject("content: MMS has no slides or parts")
    if isinstance(c, WapPush) and not c.href:
        return Reject("content.href: empty")
    return ALLOW
