"""Validation: refuse, before anything is reserved, messages no gateway should be given.

The first stage of the pipeline (DESIGN §1). It checks what is cheap to check and certain to fail
later: a recipient that is not an E.164-length number (ITU-T E.164 §6: at most 15 digits), a country
outside the campaign's allowed calling codes, a missing sender where one is required, a channel the
campaign does not use, an unknown time zone, and empty content. Each refusal names the field at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from channels.content import Content, Mms, Text, WapPush
from channels.errors import ConfigurationError
from channels.message import ChannelKind, Message
from channels.policy import ALLOW, Decision, Reject
from throttle.numbers import Numbers

E164_MAX_DIGITS = 15
MIN_DIGITS = 6
# Refusals whose reason names no value are shared (decisions are frozen values).
COUNTRY_NOT_ALLOWED = Reject("to: country not allowed for this campaign")
SENDER_MISSING = Reject("sender: missing")
EMPTY_TEXT = Reject("content.body: empty text")
EMPTY_MMS = Reject("content: MMS has no slides or parts")
EMPTY_HREF = Reject("content.href: empty")


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

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return self.evaluate_sync((message,), now)[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        return self.evaluate_sync(messages, now)

    def evaluate_sync(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        """The checks, in order, for a chunk (the keys come from one batch lookup). Nothing to
        await: the Dispatcher calls it directly (channels.policy.SyncPolicy)."""
        keys = self.numbers.keys_to(messages)
        countries, kinds, require_sender = self.countries, self.kinds, self.require_sender
        out: list[Decision] = []
        for message, key in zip(messages, keys, strict=True):
            if not MIN_DIGITS <= len(key) <= E164_MAX_DIGITS:
                out.append(Reject(f"to: {len(key)} digits is not a valid international number"))
            elif countries is not None and not key.startswith(countries):
                out.append(COUNTRY_NOT_ALLOWED)
            elif kinds is not None and message.kind not in kinds:
                out.append(Reject(f"kind: channel {message.kind.value!r} not allowed"))
            elif require_sender and not message.sender:
                out.append(SENDER_MISSING)
            elif message.timezone and not self._known_zone(message.timezone):
                out.append(Reject(f"timezone: unknown time zone {message.timezone!r}"))
            else:
                out.append(_content(message.content))
        return out

    def _known_zone(self, name: str) -> bool:
        try:
            self.numbers.named_zone(name)
        except ConfigurationError:
            return False
        return True

    async def rollback(self, message: Message) -> None:
        return None

    def rollback_sync(self, messages: Sequence[Message]) -> None:
        return None  # nothing was reserved


def _content(c: Content) -> Decision:
    if isinstance(c, Text):
        return ALLOW if c.body else EMPTY_TEXT
    if isinstance(c, Mms) and not (c.slides or c.parts):
        return EMPTY_MMS
    if isinstance(c, WapPush) and not c.href:
        return EMPTY_HREF
    return ALLOW
