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
from throttle.stores.base import CapRequest, CapStore, IdempotencyStore, cap_check, cap_request

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)
CAP_FULL = Reject("contact_cap: subscriber reached a contact cap")
DUPLICATE = Reject("duplicate: message id already sent or in flight")


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
        return [ALLOW if ok else DUPLICATE for ok in claimed]

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
        self._plans: dict[ChannelKind, tuple[tuple[str, int, int], ...]] = {}
        self._plan = tuple(
            (c.channel, f":{c.scope}", c.limit, -1 if c.period == "day" else c.period // ONE_US) for c in caps
        )
        longest = max((c.period for c in caps if c.period != "day"), default=timedelta(0))
        self._retention_us = max(longest, timedelta(hours=26)) // ONE_US  # a local day lasts ≤ 25 h

    def _requests(
        self, messages: Sequence[Message], now: datetime | None, now_us: int = 0
    ) -> list[CapRequest]:
        """The checks for each message; without ``now`` only the keys matter (for a release).

        A calendar-day check needs the recipient's local day: found once per zone per chunk."""
        subs = self.numbers.keys([m.to for m in messages])
        plans = self._plans
        spans: dict[ZoneInfo, tuple[int, int]] = {}  # zone → (age, reset) of its local day, now
        out: list[CapRequest] = []
        for message, sub in zip(messages, subs, strict=True):
            plan = plans.get(message.kind)
            if plan is None:
                plan = plans[message.kind] = self._plan_for(message.kind)
            checks = []
            for scope, limit, age in plan:
                reset = 0
                if age < 0:  # a calendar day in the recipient's zone
                    age = 0
                    if now is not None:
                        tz = self._zone(message, sub)
                        span = spans.get(tz)
                        if span is None:
                            start, end = self._day(tz, now, now_us)
                            span = spans[tz] = (now_us - start, end - now_us)
                        age, reset = span
                checks.append(cap_check(sub + scope, age, limit, reset))
            out.append(cap_request(message.id, tuple(checks), sub))
        return out

    def _plan_for(self, kind: ChannelKind) -> tuple[tuple[str, int, int], ...]:
        """The caps that apply to ``kind``: (key suffix, limit, max age in µs or -1 for a day)."""
        plan = self._plan
        return tuple((scope, limit, age) for channel, scope, limit, age in plan if channel in (None, kind))

    def _day(self, tz: ZoneInfo, now: datetime, now_us: int) -> tuple[int, int]:
        """The recipient's current local day as [start, end) in µs (cached per zone)."""
        day = self._days.get(tz)
        if day is None or not day[0] <= now_us < day[1]:
            day = self._days[tz] = (to_us(local_midnight(now, tz)), to_us(next_local_midnight(now, tz)))
        return day

    def _zone(self, message: Message, sub: str) -> ZoneInfo:
        if message.timezone:
            return self.numbers.named_zone(message.timezone)
        return self.numbers.key_zone(sub)

    async def evaluate(self, message: Message, now: datetime) -> Decision:
        return (await self.evaluate_many([message], now))[0]

    async def evaluate_many(self, messages: Sequence[Message], now: datetime) -> list[Decision]:
        now_us = to_us(now)
        waits = await self.store.reserve(self._requests(messages, now, now_us), now_us, self._retention_us)
        return [ALLOW if not w else self._refusal(w, now) for w in waits]

    def _refusal(self, wait_us: int, now: datetime) -> Decision:
        if self.on_full == "reject":
            return CAP_FULL
        return Defer(now + timedelta(microseconds=wait_us), "contact_cap")

    async def rollback(self, message: Message) -> None:
        await self.store.release(self._requests([message], None))

    async def rollback_many(self, messages: Sequence[Message]) -> None:
        await self.store.release(self._requests(messages, None))
