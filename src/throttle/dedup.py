"""Exact idempotency on ``Message.id`` and cross-campaign contact caps per subscriber.

No gateway sends exactly once (DESIGN §5 "What sent once means"), and a send with no idempotency key
duplicates on retry (PROTOCOLS.md §10). :class:`IdempotencyPolicy` claims each ``Message.id`` before
it is sent, so a retry, a resumed job or a second worker sending the same id is refused; the claim is
released when a later stage refuses or the send fails for good. :class:`ContactCapPolicy` limits how
often one subscriber is contacted, whichever campaign sends: at most ``limit`` per rolling period or
per calendar day in the subscriber's zone, per channel or across channels (regulators' "≤ 3 per
24 h", PROTOCOLS.md §9). Counts are kept per message id, so rolling one message back is exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from channels.errors import ConfigurationError
from channels.message import ChannelKind, Message
from channels.policy import ALLOW, Decision, Defer, Reject
from throttle.localtime import local_midnight, next_local_midnight
from throttle.numbers import Numbers
from throttle.stores.base import CapCheck, CapRequest, CapStore, IdempotencyStore

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)


def to_us(when: datetime) -> int:
    """Aware datetime → integer microseconds since the epoch (exact)."""
    return (when - EPOCH) // ONE_US


class IdempotencyPolicy:
    """Refuse a ``Message.id`` that was already claimed (sent, or being sent) within ``ttl``."""

    def __init__(self, store: IdempotencyStore, *, ttl: timedelta = timedelta(days=7)) -> None:
        if ttl <= timedelta(0):
            raise ConfigurationError("idempotency ttl must be positive")
        self.store = store
        self._ttl_us = ttl // ONE_US

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many([message], now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        claimed = await self.store.claim([m.id for m in messages], to_us(now), self._ttl_us)
        return [ALLOW if ok else Reject("duplicate: message id already sent or in flight") for ok in claimed]

    async def rollback(self, message: Message) -> None:
        await self.store.release([message.id])

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        await self.store.release([m.id for m in messages])


@dataclass(frozen=True, slots=True)
class ContactCap:
    """At most ``limit`` contacts per subscriber per ``period`` (a rolling timedelta, or ``"day"``: the
    calendar day in the subscriber's zone), on ``channel`` only or across all channels (None)."""

    limit: int
    period: timedelta | Literal["day"] = "day"
    channel: ChannelKind | None = None

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise ConfigurationError("contact cap limit must be >= 1")
        if self.period != "day" and (not isinstance(self.period, timedelta) or self.period <= timedelta(0)):
            raise ConfigurationError("contact cap period must be a positive timedelta or 'day'")

    @property
    def scope(self) -> str:
        period = "day" if self.period == "day" else f"{int(self.period.total_seconds())}s"
        return f"{self.channel.value if self.channel else 'all'}:{period}"


class ContactCapPolicy:
    """Count each allowed message against its subscriber's caps; a full cap rejects (or defers until
    the cap frees, with ``on_full="defer"``)."""

    def __init__(
        self,
        store: CapStore,
        caps: Sequence[ContactCap],
        *,
        numbers: Numbers | None = None,
        on_full: Literal["reject", "defer"] = "reject",
    ) -> None:
        if not caps:
            raise ConfigurationError("ContactCapPolicy needs at least one ContactCap")
        if on_full not in ("reject", "defer"):
            raise ConfigurationError(f"on_full must be 'reject' or 'defer', not {on_full!r}")
        self.store = store
        self.caps = tuple(caps)
        self.numbers = numbers or Numbers()
        self.on_full = on_full
        self._days: dict[ZoneInfo, tuple[int, int]] = {}
        self._plan = tuple(
            (c.channel, f":{c.scope}", c.limit, -1 if c.period == "day" else c.period // ONE_US) for c in caps
        )
        longest = max((c.period for c in caps if c.period != "day"), default=timedelta(0))
        self._retention_us = max(longest, timedelta(hours=26)) // ONE_US  # a local day lasts ≤ 25 h

    def _request(self, message: Message, now: datetime | None, now_us: int = 0) -> CapRequest:
        """The checks for ``message``; without ``now`` only the keys matter (for a release)."""
        sub = self.numbers.key(message.to)
        kind = message.kind
        checks = []
        for channel, scope, limit, age in self._plan:
            if channel is not None and channel is not kind:
                continue
            reset = 0
            if age < 0:  # a calendar day in the recipient's zone
                age = 0
                if now is not None:
                    start, end = self._day(self._zone(message), now, now_us)
                    age, reset = now_us - start, end - now_us
            checks.append(CapCheck(sub + scope, age, limit, reset))
        return CapRequest(message.id, tuple(checks), sub)

    def _day(self, tz: ZoneInfo, now: datetime, now_us: int) -> tuple[int, int]:
        """The recipient's current local day as [start, end) in µs (cached per zone)."""
        day = self._days.get(tz)
        if day is None or not day[0] <= now_us < day[1]:
            day = self._days[tz] = (to_us(local_midnight(now, tz)), to_us(next_local_midnight(now, tz)))
        return day

    def _zone(self, message: Message) -> ZoneInfo:
        if message.timezone:
            return self.numbers.named_zone(message.timezone)
        return self.numbers.zone(message.to)

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many([message], now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        now_us = to_us(now)
        requests = [self._request(m, now, now_us) for m in messages]
        waits = await self.store.reserve(requests, now_us, self._retention_us)
        return [self._decision(m, w, now) for m, w in zip(messages, waits, strict=True)]

    def _decision(self, message: Message, wait_us: int, now: datetime) -> Decision:
        if not wait_us:
            return ALLOW
        if self.on_full == "reject":
            return Reject("contact_cap: subscriber reached a contact cap")
        return Defer(now + timedelta(microseconds=wait_us), "contact_cap")

    async def rollback(self, message: Message) -> None:
        await self.store.release([self._request(message, None)])

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        await self.store.release([self._request(m, None) for m in messages])
